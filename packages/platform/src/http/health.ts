import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/types.ts';

/** /healthz: the process answers. /readyz: the database answers and the broker listens. */
export function healthRoutes(
  app: FastifyInstance,
  deps: { store: Store; brokerListening: () => boolean },
): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, string> = {};
    try {
      await deps.store.ping();
      checks.database = 'ok';
    } catch {
      checks.database = 'unavailable';
    }
    checks.broker = deps.brokerListening() ? 'ok' : 'unavailable';
    const ready = Object.values(checks).every((c) => c === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
}
