/**
 * The administrator's logs: dead letters (refused device messages, with their raw payloads: a refused
 * reading may hold a patient's vital signs) and security events. Both reads are audited like any other
 * disclosure, after the read and before the answer, so a query that fails records nothing.
 */
import { REJECTION_CODE_LIST, SECURITY_KINDS, SECURITY_SUBSYSTEMS } from '@openiomt/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditInput } from '../audit/audit-log.ts';
import { type Actor, adminAccess } from '../audit/http-events.ts';
import { badRequest } from '../http/problem.ts';
import type { Assignment, DeadLetter } from '../store/types.ts';
import type { AdminRouteDeps } from './route-deps.ts';

/** A filter value from a fixed list: a misspelt one is refused rather than matching nothing. */
function oneOf(value: string, allowed: readonly string[], name: string): string {
  if (!allowed.includes(value)) throw badRequest(`${name} must be one of ${allowed.join(', ')}`, `/${name}`);
  return value;
}

export function logRoutes(admin: FastifyInstance, deps: AdminRouteDeps): void {
  const { store } = deps;

  admin.get('/api/v1/admin/dead-letters', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const page = await store.deadLetters.list({
      ...deps.listQuery(q),
      ...(q.device ? { deviceId: q.device } : {}),
      ...(q.reason ? { reason: oneOf(q.reason, REJECTION_CODE_LIST, 'reason') } : {}),
    });
    const devices = [...new Set(page.items.flatMap((d) => (d.deviceId ? [d.deviceId] : [])))];
    const histories = await store.assignments.historyMany(devices);
    await store.audit.recordAll(deadLetterSearchEvents(req, deps.actorOf(req), page.items, histories));
    return page;
  });

  // Security events hold no patient data, but they are the platform's own evidence: who read them is kept.
  admin.get('/api/v1/admin/security-events', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const page = await store.securityEvents.list({
      ...deps.listQuery(q),
      ...(q.device ? { deviceId: q.device } : {}),
      ...(q.kind ? { kind: oneOf(q.kind, SECURITY_KINDS, 'kind') } : {}),
      ...(q.subsystem ? { subsystem: oneOf(q.subsystem, SECURITY_SUBSYSTEMS, 'subsystem') } : {}),
    });
    await store.audit.record(
      adminAccess(req, deps.actorOf(req), {
        action: 'search',
        resourceType: 'SecurityEvent',
        detail: { query: queryOf(req), count: page.items.length },
      }),
    );
    return page;
  });
}

const queryOf = (req: FastifyRequest) => req.url.split('?')[1] ?? '';

/** The patient a device was assigned to at `at` (periods are [from, to), as the store keeps them). */
function patientAt(history: readonly Assignment[] | undefined, at: string): string | undefined {
  const t = Date.parse(at);
  return history?.find((a) => Date.parse(a.from) <= t && (a.to === undefined || t < Date.parse(a.to)))
    ?.patientId;
}

/**
 * One `search` record of `DeadLetter` per patient whose device's letters were shown (its device assigned
 * to them when the letter arrived), one per device for the letters of no patient, one without either for
 * letters of no known device; a single record with count 0 when nothing was shown.
 */
function deadLetterSearchEvents(
  req: FastifyRequest,
  actor: Actor,
  letters: readonly DeadLetter[],
  histories: ReadonlyMap<string, readonly Assignment[]>,
): AuditInput[] {
  const groups = new Map<string, { patientId?: string; deviceId?: string; count: number }>();
  for (const d of letters) {
    const patientId = d.deviceId ? patientAt(histories.get(d.deviceId), d.receivedAt) : undefined;
    const key = patientId !== undefined ? `patient ${patientId}` : `device ${d.deviceId ?? ''}`;
    const group = groups.get(key) ?? {
      ...(patientId !== undefined ? { patientId } : d.deviceId ? { deviceId: d.deviceId } : {}),
      count: 0,
    };
    group.count++;
    groups.set(key, group);
  }
  if (groups.size === 0) groups.set('', { count: 0 });
  const query = queryOf(req);
  return [...groups.values()].map((g) =>
    adminAccess(req, actor, {
      action: 'search',
      resourceType: 'DeadLetter',
      ...(g.patientId !== undefined ? { patientId: g.patientId } : {}),
      detail: { query, count: g.count, ...(g.deviceId !== undefined ? { deviceId: g.deviceId } : {}) },
    }),
  );
}
