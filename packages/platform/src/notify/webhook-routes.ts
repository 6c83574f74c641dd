/**
 * The administrator's webhook API under /api/v1/admin: subscribe a URL (optionally for one patient), list,
 * remove (disable), inspect deliveries and retry a dead one. Same credential and errors as admin/routes.ts.
 */
import type { FastifyInstance } from 'fastify';
import { requireAdministrator } from '../access/administrator.ts';
import { adminTokenResolver, type SubjectResolver } from '../access/guard.ts';
import { isLoopback } from '../config/config.ts';
import { bodyObject, listQuery, optionalString, requiredString } from '../http/body.ts';
import { badRequest, notFound } from '../http/problem.ts';
import type { Store } from '../store/types.ts';
import type { WebhookDeliveryStatus } from '../store/webhooks.ts';

const MAX_URL_LENGTH = 2048;
const STATUSES: readonly WebhookDeliveryStatus[] = ['pending', 'delivered', 'dead'];

/**
 * The subscriber URL, or a refusal naming /url. Alarm payloads carry patient data, so they travel over
 * https; plain http is only for a receiver on this machine (a loopback host), e.g. a local relay or tests.
 */
export function checkWebhookUrl(raw: string): string {
  if (raw.length > MAX_URL_LENGTH)
    throw badRequest(`url must be at most ${MAX_URL_LENGTH} characters`, '/url');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badRequest('url must be an absolute URL, e.g. https://example.org/hooks/openiomt', '/url');
  }
  if (url.username !== '' || url.password !== '')
    throw badRequest(
      'url must not contain credentials: the request is authenticated by its signature',
      '/url',
    );
  if (url.hash !== '') throw badRequest('url must not have a fragment', '/url');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url.protocol === 'https:') return url.toString();
  if (url.protocol === 'http:') {
    if (isLoopback(host)) return url.toString();
    throw badRequest(
      'url must use https: alarm notifications carry patient data; plain http is allowed only to a loopback host (127.0.0.1, ::1, localhost)',
      '/url',
    );
  }
  throw badRequest(`url must use https, not ${url.protocol.replace(/:$/, '')}`, '/url');
}

export interface WebhookRoutesDeps {
  readonly store: Store;
  /** Woken after a retry so the delivery goes out at once rather than at the next poll. */
  readonly deliverer?: { wake(): void };
  /** Who is asking (default: the administrator API token only). */
  readonly resolve?: SubjectResolver;
}

/** Registers the webhook admin routes, every one behind the administrator credential. */
export function registerWebhooks(app: FastifyInstance, deps: WebhookRoutesDeps): void {
  const { store } = deps;
  const resolve = deps.resolve ?? adminTokenResolver(store);
  app.register(async (admin) => {
    admin.addHook('onRequest', async (req) => {
      await requireAdministrator(store, resolve, req);
    });

    admin.post('/api/v1/admin/webhooks', async (req, reply) => {
      const b = bodyObject(req.body);
      const url = checkWebhookUrl(requiredString(b, 'url'));
      const patientId = optionalString(b, 'patientId', 64);
      const description = optionalString(b, 'description', 500);
      if (patientId !== undefined && !(await store.patients.get(patientId)))
        throw badRequest(`no patient ${patientId}`, '/patientId');
      const { webhook, secret } = await store.webhooks.create({
        url,
        ...(patientId !== undefined ? { patientId } : {}),
        ...(description !== undefined ? { description } : {}),
      });
      // The secret is shown here only; the platform keeps it to sign (encryption at rest: issue 4).
      return reply.code(201).send({ ...webhook, secret });
    });

    admin.get('/api/v1/admin/webhooks', async (req) =>
      store.webhooks.list(listQuery(req.query as Record<string, string | undefined>)),
    );

    admin.delete<{ Params: { id: string } }>('/api/v1/admin/webhooks/:id', async (req) => {
      const { webhook, deadLettered } = await store.webhooks.disable(
        req.params.id,
        'webhook removed by an administrator',
        new Date().toISOString(),
      );
      return { ...webhook, deadLettered };
    });

    admin.get<{ Params: { id: string } }>('/api/v1/admin/webhooks/:id/deliveries', async (req) => {
      const q = req.query as Record<string, string | undefined>;
      const status = q.status as WebhookDeliveryStatus | undefined;
      if (status !== undefined && !STATUSES.includes(status))
        throw badRequest('status must be pending, delivered or dead', '/status');
      if (!(await store.webhooks.get(req.params.id))) throw notFound(`no webhook ${req.params.id}`);
      return store.webhooks.deliveries(req.params.id, { ...listQuery(q), ...(status ? { status } : {}) });
    });

    admin.post<{ Params: { id: string } }>('/api/v1/admin/webhook-deliveries/:id/retry', async (req) => {
      const delivery = await store.webhooks.retry(req.params.id, new Date().toISOString());
      deps.deliverer?.wake();
      return delivery;
    });
  });
}
