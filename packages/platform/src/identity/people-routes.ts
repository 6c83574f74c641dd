/**
 * `GET /api/v1/people`: the people directory, so that forms name people by name instead of by user id (a
 * clinician in a patient's consent, a nurse in a care team, a caregiver to share with). Two ways to ask:
 * `?q=&role=&limit=` searches by part of a name; `?ids=` looks up the people a screen already names (after
 * a reload: those hidden from in a consent, caregivers, care-team members), all in one request.
 *
 * Whom the asker may find is core's rule (docs/access-policy.md, "The people directory"): directoryScope()
 * the roles they reach, directoryFinds() each account, for both ways, so the lookup reveals nothing the
 * search would not. This route gathers the one fact the rule needs (a patient's current caregivers) and
 * answers id, display name, username and the roles the asker may see, nothing else. An id the asker may
 * not see, an unknown id and a disabled account are all just absent from a lookup's answer.
 *
 * Like the administrator's list routes, an allowed search is not written to the audit log (it discloses no
 * patient data); a refusal is a 403 recorded as an `access-denied` security event. The global rate limit
 * (http/app.ts) applies here as everywhere.
 */
import {
  type DirectoryScope,
  type DirectoryWay,
  directoryFinds,
  directoryReaches,
  directoryRolesShown,
  directoryScope,
  type Role,
  type Subject,
} from '@openiomt/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, HttpProblem, unauthorized } from '../http/problem.ts';
import type { Store } from '../store/types.ts';
import type { DirectoryEntry } from '../store/users.ts';
import { parsePeopleQuery } from './people-query.ts';

export interface PeopleRouteDeps {
  readonly store: Store;
  /** Who is asking (identity's authenticate, or the access guard's resolver). */
  readonly resolve: (req: FastifyRequest) => Promise<Subject | undefined>;
  readonly now?: () => number;
}

export interface Person {
  readonly id: string;
  readonly displayName: string;
  readonly username: string;
  readonly roles: readonly Role[];
}

export function peopleRoutes(app: FastifyInstance, deps: PeopleRouteDeps): void {
  const { store } = deps;
  const now = deps.now ?? Date.now;

  app.get('/api/v1/people', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const subject = await deps.resolve(req);
    if (subject === undefined) throw unauthorized();
    const parsed = parsePeopleQuery(req.query as Record<string, unknown> | undefined);
    if (!parsed.ok) throw badRequest(parsed.detail, parsed.field);
    const { query } = parsed;
    const role = query.kind === 'search' ? query.role : undefined;
    const decision = directoryScope(subject, role);
    if (!decision.allow) {
      await store.securityEvents.add({
        kind: 'access-denied',
        source: req.ip,
        detail: `${subject.userId}: GET /api/v1/people${role ? ` role=${role}` : ''}: ${decision.reason}`,
      });
      throw new HttpProblem({ status: 403, title: 'Forbidden', detail: decision.reason });
    }
    const { scope } = decision;
    const { byName, ownCaregivers } = directoryReaches(scope);
    const own = new Set(ownCaregivers.length > 0 ? await currentCaregivers(store, subject, now()) : []);
    const finds = (e: DirectoryEntry, way: DirectoryWay) =>
      directoryFinds(scope, { roles: e.roles, ownCaregiver: own.has(e.id) }, way);
    // The roles shown are those the asker may find at all, also when the search was narrowed to one.
    const shown = role === undefined ? scope : fullScope(subject, scope);

    if (query.kind === 'lookup') {
      const entries = await store.users.peopleByIds(query.ids, [...byName, ...ownCaregivers]);
      // In the order asked (ids compared as the database spells them: UUIDs in lower case).
      const asked = new Map(query.ids.map((id, i) => [id.toLowerCase(), i]));
      const items = entries
        .filter((e) => finds(e, 'id'))
        .sort((a, b) => (asked.get(a.id) ?? 0) - (asked.get(b.id) ?? 0))
        .map((e) => personOf(e, shown));
      return { items };
    }

    const found = await store.users.searchPeople({
      text: query.text,
      limit: query.limit,
      byName,
      ...(ownCaregivers.length > 0 ? { among: { roles: ownCaregivers, ids: [...own] } } : {}),
    });
    // The query narrows as the rule says; each account is still put to the rule itself.
    const items = found
      .filter((e) => finds(e, e.username === query.text ? 'exact-username' : 'part-of-name'))
      .map((e) => personOf(e, shown));
    return { items };
  });
}

/** The asker's whole scope (their search may have been narrowed to one role). */
function fullScope(subject: Subject, narrowed: DirectoryScope): DirectoryScope {
  const d = directoryScope(subject);
  return d.allow ? d.scope : narrowed;
}

/** The caregivers the asking patient shares with now (a revoked or ended grant is no longer "theirs"). */
async function currentCaregivers(store: Store, subject: Subject, at: number): Promise<string[]> {
  if (subject.patientId === undefined) return [];
  const grants = await store.access.grantsOfPatient(subject.patientId);
  return grants
    .filter((g) => g.revokedAt === undefined && (g.until === undefined || g.until > at))
    .map((g) => g.caregiverUserId);
}

/** An account without a display name shows its username; only the roles the asker may look for show. */
function personOf(e: DirectoryEntry, scope: DirectoryScope): Person {
  return {
    id: e.id,
    displayName: e.displayName ?? e.username,
    username: e.username,
    roles: directoryRolesShown(scope, e.roles),
  };
}
