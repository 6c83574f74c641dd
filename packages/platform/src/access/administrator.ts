/**
 * The one answer of every administrator route to who is asking: no credential or a refused one is 401 (a
 * security event `admin-auth-failed`); someone signed in who is not an administrator (with a second factor)
 * is 403 (a security event `access-denied`, like the access guard's refusals).
 */
import { isAdministrator, type Subject } from '@openiomt/core';
import type { FastifyRequest } from 'fastify';
import { HttpProblem, unauthorized } from '../http/problem.ts';
import type { Store } from '../store/types.ts';

export const NEEDS_ADMINISTRATOR = 'this needs an administrator';

export const notAnAdministrator = (detail = NEEDS_ADMINISTRATOR): HttpProblem =>
  new HttpProblem({ status: 403, title: 'Forbidden', detail });

/** The administrator asking, or throws 401/403 after recording the refusal. */
export async function requireAdministrator(
  store: Store,
  resolve: (req: FastifyRequest) => Promise<Subject | undefined>,
  req: FastifyRequest,
  detail = NEEDS_ADMINISTRATOR,
): Promise<Subject> {
  const refuse = async (problem: HttpProblem): Promise<never> => {
    await store.securityEvents.add({
      kind: 'admin-auth-failed',
      source: req.ip,
      detail: `${req.method} ${req.routeOptions.url ?? ''}`,
    });
    throw problem;
  };
  // A resolver may throw its own 401 (the access guard does): recorded the same way.
  const subject = await resolve(req).catch((e: unknown) =>
    e instanceof HttpProblem && e.problem.status === 401 ? refuse(e) : Promise.reject(e),
  );
  if (subject === undefined) return refuse(unauthorized());
  if (isAdministrator(subject)) return subject;
  await store.securityEvents.add({
    kind: 'access-denied',
    source: req.ip,
    detail: `${subject.userId}: ${req.method} ${req.routeOptions.url ?? ''}: ${detail}`,
  });
  throw notAnAdministrator(detail);
}
