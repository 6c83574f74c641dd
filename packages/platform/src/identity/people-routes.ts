/**
 * `GET /api/v1/people?q=&role=&limit=`: the people directory, so that forms name people by name instead of
 * by user id (a clinician in a patient's consent, a nurse in a care team, a caregiver to share with). Whom
 * the asker may find is core's directoryScope() (docs/access-policy.md, "The people directory"); this route
 * gathers the one fact it needs (a patient's current caregivers) and answers id, display name, username and
 * the roles the asker may see, nothing else.
 *
 * Like the administrator's list routes, an allowed search is not written to the audit log (it discloses no
 * patient data); a refusal is a 403 recorded as an `access-denied` security event. The global rate limit
 * (http/app.ts) applies here as everywhere.
 */
import {
  DIRECTORY_ROLES,
  type DirectoryScope,
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
    const { text, role, limit } = parsed.query;
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
    const byName = rolesWith(scope, 'by-name');
    const ownCaregivers = rolesWith(scope, 'own-caregivers');
    const found = await store.users.searchPeople({
      text,
      limit,
      byName,
      ...(ownCaregivers.length > 0
        ? { among: { roles: ownCaregivers, ids: await currentCaregivers(store, subject, now()) } }
        : {}),
    });
    // The roles shown are those the asker may find at all, also when the search was narrowed to one.
    const shown = role === undefined ? decision : directoryScope(subject);
    return { items: found.map((e) => personOf(e, shown.allow ? shown.scope : scope)) };
  });
}

const rolesWith = (scope: DirectoryScope, reach: 'by-name' | 'own-caregivers'): Role[] =>
  DIRECTORY_ROLES.filter((r) => scope[r] === reach);

/** The caregivers the asking patient shares with now (a revoked or ended grant is no longer "theirs"). */
async function currentCaregivers(store: Store, subject: Subject, at: number): Promise<string[]> {
  if (subject.patientId === undefined) return [];
  const grants = await store.access.grantsOfPatient(subject.patientId);
  return grants
    .filter((g) => g.revokedAt === undefined && (g.until === undefined || g.until > at))
    .map((g) => g.caregiverUserId);
}

/**
 * Only the roles the asker may look for are shown: a patient does not learn that their caregiver, or a
 * clinician, is also a patient. An account without a display name shows its username.
 */
function personOf(e: DirectoryEntry, scope: DirectoryScope): Person {
  return {
    id: e.id,
    displayName: e.displayName ?? e.username,
    username: e.username,
    roles: e.roles.filter((r) => scope[r] !== undefined),
  };
}
