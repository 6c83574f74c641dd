import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from '../log.ts';
import { StoreError } from '../store/types.ts';
import { HttpProblem, sendProblem, titleOf } from './problem.ts';

export interface HttpOptions {
  readonly logger: Logger;
  readonly tls?: { key: Buffer; cert: Buffer };
  /** Largest request body, bytes (the readings batch endpoint sets its own). */
  readonly bodyLimit?: number;
}

const STORE_STATUS = { 'not-found': 404, conflict: 409, 'enrolment-invalid': 400, invalid: 400 } as const;

/** The Fastify instance with security headers, rate limiting and problem-details errors. */
export async function createHttpApp(opts: HttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger,
    // Request lines carry URLs with patient and device ids: keep them out of the logs.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    ...(opts.tls ? { https: opts.tls } : {}),
  }) as unknown as FastifyInstance;
  // Every body the API takes is JSON: a text/plain one is refused as 415 rather than parsed to a string and
  // refused as "not a JSON object".
  app.removeContentTypeParser('text/plain');
  await app.register(helmet, { global: true });
  await app.register(rateLimit, { global: true, max: 6000, timeWindow: '1 minute' });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof HttpProblem) return sendProblem(reply, err.problem);
    if (err instanceof StoreError) {
      const title =
        err.code === 'enrolment-invalid'
          ? 'Enrolment refused'
          : err.code === 'conflict'
            ? 'Conflict'
            : 'Bad request';
      return sendProblem(reply, {
        status: STORE_STATUS[err.code],
        title: err.code === 'not-found' ? 'Not found' : title,
        detail: err.message,
        // The store names the argument; the API names fields as JSON pointers.
        ...(err.field !== undefined
          ? { field: err.field.startsWith('/') ? err.field : `/${err.field}` }
          : {}),
      });
    }
    const e = err as { statusCode?: number; message?: string; code?: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      // Fastify's and its plugins' refusals (rate limit 429 with Retry-After, body too large 413, …).
      return sendProblem(reply, {
        status: e.statusCode,
        title: titleOf(e.statusCode),
        detail: e.message ?? 'invalid request',
      });
    }
    req.log.error({ err }, 'request failed');
    return sendProblem(reply, {
      status: 500,
      title: 'Internal error',
      detail: 'the request could not be completed',
    });
  });
  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, {
      status: 404,
      title: 'Not found',
      detail: `no route ${req.method} ${req.url.split('?')[0]}`,
    }),
  );
  return app;
}
