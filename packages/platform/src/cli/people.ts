/**
 * A person named on the command line by user id or by username. The people directory
 * (`GET /api/v1/people`) turns a username into the account's id, so an operator need not look ids up first.
 */
import { type AdminConnection, adminRequest, CliError } from './admin-client.ts';

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The user id of `who`: as given when it is one, else the account whose username it is exactly. */
export async function userIdOf(c: AdminConnection, who: string): Promise<string> {
  if (USER_ID.test(who)) return who;
  const username = who.normalize('NFKC').trim().toLowerCase();
  const q = new URLSearchParams({ q: username, limit: '25' });
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
