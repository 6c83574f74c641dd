/**
 * Account management under /api/v1/admin/users, for the administrator API token or a signed-in
 * administrator who passed a second factor. Set-up links are returned once and never stored in clear.
 */
import { isAdministrator } from '@openiomt/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bodyObject } from '../http/body.ts';
import { badRequest, HttpProblem, notFound, unauthorized } from '../http/problem.ts';
import type { Store } from '../store/types.ts';
import type { AccountAdmin } from './accounts.ts';
import type { Authenticate } from './authenticate.ts';

export function adminUserRoutes(
  app: FastifyInstance,
  deps: { store: Store; accounts: AccountAdmin; authenticate: Authenticate },
): void {
  const { store, accounts } = deps;

  app.register(async (admin) => {
    admin.addHook('onRequest', async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const subject = await deps.authenticate(req);
      if (subject === undefined) {
        if (req.headers.authorization === undefined)
          await store.securityEvents.add({
            kind: 'admin-auth-failed',
            source: req.ip,
            detail: `${req.method} ${req.routeOptions.url ?? ''}`,
          });
        throw unauthorized();
      }
      if (!isAdministrator(subject)) {
        const detail = 'managing accounts needs an administrator signed in with a second factor';
        // Recorded like every administrator route's refusal (access/administrator.ts).
        await store.securityEvents.add({
          kind: 'access-denied',
          source: req.ip,
          detail: `${subject.userId}: ${req.method} ${req.routeOptions.url ?? ''}: ${detail}`,
        });
        throw new HttpProblem({ status: 403, title: 'Forbidden', detail });
      }
    });

    admin.post('/api/v1/admin/users', async (req, reply) => {
      const b = bodyObject(req.body);
      return reply.code(201).send(
        await accounts.create({
          username: b.username,
          roles: b.roles,
          patientId: b.patientId,
          displayName: b.displayName,
        }),
      );
    });

    admin.get('/api/v1/admin/users', async (req) => {
      const q = req.query as Record<string, string | undefined>;
      const limit = q.limit === undefined ? undefined : Number(q.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000))
        throw badRequest('limit must be 1..1000', '/limit');
      return store.users.list({
        ...(limit !== undefined ? { limit } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
    });

    admin.get<{ Params: { id: string } }>('/api/v1/admin/users/:id', async (req) => {
      const user = await store.users.get(req.params.id);
      if (!user) throw notFound(`no user ${req.params.id}`);
      return user;
    });

    const action = (
      path: string,
      run: (req: FastifyRequest<{ Params: { id: string } }>) => Promise<unknown>,
    ) => admin.post<{ Params: { id: string } }>(`/api/v1/admin/users/:id/${path}`, async (req) => run(req));
    action('disable', (req) => accounts.disable(req.params.id));
    action('reset-mfa', (req) => accounts.resetMfa(req.params.id));
    action('setup-link', (req) => accounts.newSetupLink(req.params.id));
  });
}
