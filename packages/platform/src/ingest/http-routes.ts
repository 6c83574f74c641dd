import { DEVICE_ID_PATTERN } from '@openiomt/core';
import type { FastifyInstance } from 'fastify';
import { bodyObject } from '../http/body.ts';
import { badRequest } from '../http/problem.ts';
import type { Store } from '../store/types.ts';
import type { Enrolment } from './enrolment.ts';
import { IdempotencyKeys } from './idempotency.ts';
import { MAX_BATCH, READINGS_BODY_LIMIT } from './limits.ts';
import type { IngestOutcome, IngestPipeline } from './pipeline.ts';
import { inAscendingSeq } from './seq-order.ts';

export { MAX_BATCH };

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,128}$/;

/** The device-facing HTTPS API: enrolment, key rotation and the batch endpoint for readings. */
export function deviceRoutes(
  app: FastifyInstance,
  deps: { pipeline: IngestPipeline; enrolment: Enrolment; store: Store },
): void {
  const idempotency = new IdempotencyKeys(deps.store);
  const deviceParam = (id: string): string => {
    if (!DEVICE_ID_PATTERN.test(id)) throw badRequest('device id has an invalid format', '/id');
    return id;
  };

  app.post<{ Params: { id: string } }>('/api/v1/devices/:id/enrol', async (req, reply) => {
    const key = await deps.enrolment.enrol(deviceParam(req.params.id), bodyObject(req.body), req.ip);
    return reply.code(201).send({ kid: key.kid });
  });

  app.post<{ Params: { id: string } }>('/api/v1/devices/:id/keys', async (req, reply) => {
    const r = await deps.enrolment.rotate(
      deviceParam(req.params.id),
      req.headers.authorization,
      bodyObject(req.body),
      req.ip,
    );
    return reply.code(201).send({ kid: r.key.kid, previousKeysValidUntil: r.previousKeysValidUntil });
  });

  app.post<{ Params: { id: string } }>(
    '/api/v1/devices/:id/readings',
    { bodyLimit: READINGS_BODY_LIMIT },
    async (req) => {
      const deviceId = deviceParam(req.params.id);
      await deps.enrolment.authenticateSender(deviceId, req.headers.authorization, req.ip);
      const body = bodyObject(req.body);
      const messages = body.messages;
      if (!Array.isArray(messages) || messages.length === 0 || messages.length > MAX_BATCH)
        throw badRequest(`messages must be an array of 1..${MAX_BATCH} compact JWS strings`, '/messages');
      messages.forEach((m, i) => {
        if (typeof m !== 'string')
          throw badRequest('each message must be a compact JWS string', `/messages/${i}`);
      });
      const keyHeader = req.headers['idempotency-key'];
      const key = typeof keyHeader === 'string' ? keyHeader : undefined;
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key))
        throw badRequest(
          'Idempotency-Key must be 8..128 characters of letters, digits, . _ : -',
          'Idempotency-Key',
        );
      const retry = key !== undefined && (await idempotency.check(deviceId, key, Date.now()));
      // Submitted together so their commits group; the pipeline admits one device's messages in the order
      // submitted, so a batch sent out of seq order is submitted in seq order: otherwise its lower seqs
      // would be refused as replays and lost. The results keep the order of the request.
      const inSeqOrder = inAscendingSeq(messages as string[]);
      const outcomes: IngestOutcome[] = new Array(messages.length);
      await Promise.all(
        inSeqOrder.map(async (i) => {
          outcomes[i] = await deps.pipeline.ingest({
            raw: Buffer.from((messages as string[])[i] as string, 'latin1'),
            via: 'https',
            authenticatedDevice: deviceId,
            retry,
            source: req.ip,
          });
        }),
      );
      const results = outcomes.map((o) =>
        o.status === 'rejected'
          ? { seq: o.seq, status: 'rejected', reason: o.rejection.code, detail: o.rejection.detail }
          : { seq: o.seq, status: o.status },
      );
      return { results };
    },
  );
}
