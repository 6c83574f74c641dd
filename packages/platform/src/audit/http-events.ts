/**
 * Audit events for HTTP routes that disclose patient data. The read runs first (the repositories take no
 * transaction), then the record is committed before the answer is sent: if recording fails, the request
 * fails and nothing is disclosed unrecorded.
 */
import type { Subject } from '@openiomt/core';
import type { FastifyRequest } from 'fastify';
import type { AuditInput } from './audit-log.ts';

/** Who acted, as the audit log names them: the user id (or service name) and their role(s). */
export type Actor = string | Pick<Subject, 'userId' | 'roles' | 'kind'>;

/** The user (or service) id of an actor. */
export const actorId = (who: Actor): string => (typeof who === 'string' ? who : who.userId);

/** An audit record's role for a subject: a service (the administrator token, a backend client) has none. */
export const roleOf = (s: Pick<Subject, 'kind' | 'roles'>): string =>
  s.kind === 'service' ? 'service' : s.roles.join(' ');

/** Who did it, as the audit record names them. */
export const actorFields = (who: Actor) =>
  typeof who === 'string'
    ? { actor: who, actorRole: 'administrator' }
    : { actor: who.userId, actorRole: roleOf(who) };

type Access = Omit<AuditInput, 'actor' | 'actorRole' | 'source' | 'outcome' | 'reason'> & {
  /** False when the thing asked for does not exist: recorded as an error. */
  readonly found?: boolean;
};

export function adminAccess(req: FastifyRequest, actor: Actor, access: Access): AuditInput {
  const { found, ...event } = access;
  return {
    ...event,
    ...actorFields(actor),
    source: req.ip,
    ...(found === false ? { outcome: 'error', reason: 'not found' } : {}),
  };
}

/** The patient an Observation (or any resource with a subject) is about. */
export function subjectPatient(resource: Record<string, unknown>): string | undefined {
  const ref = (resource.subject as { reference?: unknown } | undefined)?.reference;
  return typeof ref === 'string' && ref.startsWith('Patient/') ? ref.slice('Patient/'.length) : undefined;
}

/**
 * A search discloses data of every patient in its results: one event per patient (BALP records a query
 * per patient), or one without a patient when nothing was found.
 */
export function searchEvents(
  req: FastifyRequest,
  actor: Actor,
  resourceType: string,
  items: readonly Record<string, unknown>[],
  askedPatient?: string,
): AuditInput[] {
  const query = req.url.split('?')[1] ?? '';
  const patients = new Set(items.map(subjectPatient).filter((p): p is string => p !== undefined));
  if (patients.size === 0 && askedPatient) patients.add(askedPatient);
  const event = (patientId?: string) =>
    adminAccess(req, actor, {
      action: 'search',
      resourceType,
      ...(patientId ? { patientId } : {}),
      detail: {
        query,
        count: items.filter((i) => patientId === undefined || subjectPatient(i) === patientId).length,
      },
    });
  return patients.size === 0 ? [event()] : [...patients].map(event);
}
