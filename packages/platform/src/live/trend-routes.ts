/**
 * `GET /api/v1/patients/:id/trends`: a patient's vital-sign and NEWS2 series over a window, aggregated
 * from the minute buckets of the trend store (count, average, minimum, maximum per bucket). The caller
 * is identified first (401), then the parameters are checked (400 naming the parameter), then the policy
 * (vital signs of this patient); the read is recorded in the audit log before it is answered.
 */
import type { FastifyInstance } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { adminAccess } from '../audit/http-events.ts';
import { notFound } from '../http/problem.ts';
import type { Store } from '../store/types.ts';
import { parseTrendQuery } from './query.ts';
import type { TrendRecorder } from './trend-recorder.ts';

export function trendRoutes(
  app: FastifyInstance,
  deps: { store: Store; guard: AccessGuard; trends: TrendRecorder; now?: () => number },
): void {
  const { store, guard, trends } = deps;
  app.get<{ Params: { id: string } }>('/api/v1/patients/:id/trends', async (req) => {
    const patientId = req.params.id;
    // Who first (401), then what (400), then whether they may (403).
    await guard.subject(req);
    const q = parseTrendQuery(req.query as Record<string, unknown>, (deps.now ?? Date.now)());
    const subject = await guard.check(req, {
      action: 'read',
      resourceType: 'Observation',
      patientId,
      category: 'vital-signs',
    });
    const known = await store.patients.get(patientId);
    const series = known ? await trends.trends(patientId, q.codes, q.from, q.to, q.bucketSeconds) : {};
    const points = Object.values(series).reduce((n, s) => n + s.length, 0);
    await store.audit.record(
      adminAccess(req, subject, {
        action: 'read',
        resourceType: 'Observation',
        patientId,
        found: !!known,
        detail: { query: 'trends', codes: Object.keys(series), points },
      }),
    );
    if (!known) throw notFound(`no patient ${patientId}`);
    return {
      patientId,
      from: new Date(q.from).toISOString(),
      to: new Date(q.to).toISOString(),
      bucketSeconds: q.bucketSeconds,
      series,
    };
  });
}
