/**
 * A person named on the command line by user id or by username. The people directory
 * (`GET /api/v1/people`) turns a username into the account's id, so an operator need not look ids up first.
 */
import { PEOPLE_LIMIT_MAX } from '../identity/people-query.ts';
import { normaliseUsername, USERNAME_RULE } from '../identity/username.ts';
import { isUuid } from '../store/sql.ts';
import { type AdminConnection, adminRequest, CliError } from './admin-client.ts';

/** The user id of `who`: as given when it is one, else the account whose username it is exactly. */
export async function userIdOf(c: AdminConnection, who: string): Promise<string> {
  if (isUuid(who)) return who;
  const username = normaliseUsername(who);
  if (username === undefined)
    throw new CliError(`${JSON.stringify(who)} is neither a user id nor a username (${USERNAME_RULE})`);
  const q = new URLSearchParams({ q: username, limit: String(PEOPLE_LIMIT_MAX) });
  const { items } = await adminRequest<{ items: { id: string; username: string }[] }>(
    c,
    'GET',
    `/api/v1/people?${q}`,
  );
  const exact = items.find((p) => p.username === username);
  if (!exact)
    throw new CliError(
      `no enabled account has the username ${JSON.stringify(who)}: give the exact username or the user id (openiomt user list shows both)`,
    );
  return exact.id;
}
