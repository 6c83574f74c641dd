/**
 * Who may use the portal routes that the core policy has no action for: a patient acting on their own
 * compartment (an erasure request), and the platform administrator (deciding erasure requests). Refusals
 * are recorded like the guard's: a security event and a 'denied' audit record.
 */
import { isAdministrator, type Subject } from '@openiomt/core';
import type { FastifyRequest } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { roleOf } from '../audit/http-events.ts';
import { HttpProblem } from '../http/problem.ts';
import { PatientErasedError } from '../store/patient-data-key.ts';
import type { Store } from '../store/types.ts';

export const forbidden = (detail: string): HttpProblem =>
  new HttpProblem({ status: 403, title: 'Forbidden', detail });

export const gone = (detail: string): HttpProblem => new HttpProblem({ status: 410, title: 'Gone', detail });

async function refuse(
  store: Store,
  req: FastifyRequest,
  subject: Subject,
  what: { resourceType: string; patientId?: string; reason: string },
): Promise<never> {
  await store.securityEvents.add({
    kind: 'access-denied',
    source: req.ip,
    detail: `${subject.userId}: ${req.method} ${what.resourceType}: ${what.reason}`,
  });
  await store.audit.record({
    action: 'denied',
    actor: subject.userId,
    actorRole: roleOf(subject),
    outcome: 'denied',
    resourceType: what.resourceType,
    ...(what.patientId ? { patientId: what.patientId } : {}),
    reason: what.reason,
    source: req.ip,
  });
  throw forbidden(what.reason);
}

/** The signed-in patient whose compartment this is, or 401/403. */
export async function thePatient(
  store: Store,
  guard: AccessGuard,
  req: FastifyRequest,
  patientId: string,
): Promise<Subject> {
  const subject = await guard.subject(req);
  if (subject.kind === 'user' && subject.roles.includes('patient') && subject.patientId === patientId)
    return subject;
  return refuse(store, req, subject, {
    resourceType: 'ErasureRequest',
    patientId,
    reason: 'only the patient may ask for their own erasure',
  });
}

/** An administrator (signed in with a second factor, or the administrator token), or 401/403. */
export async function anAdministrator(
  store: Store,
  guard: AccessGuard,
  req: FastifyRequest,
): Promise<Subject> {
  const subject = await guard.subject(req).catch(async (e: unknown) => {
    await store.securityEvents.add({
      kind: 'admin-auth-failed',
      source: req.ip,
      detail: `${req.method} ${req.routeOptions.url}`,
    });
    throw e;
  });
  if (isAdministrator(subject)) return subject;
  return refuse(store, req, subject, {
    resourceType: 'ErasureRequest',
    reason: 'this needs an administrator',
  });
}

/** Runs fn; an erased patient's data is answered 410 Gone (their key is destroyed). */
export async function unlessErased<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof PatientErasedError)
      throw gone("the patient was erased: their data key is destroyed and their messages can't be read");
    throw e;
  }
}
