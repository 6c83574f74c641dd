import type { FastifyInstance, FastifyReply } from 'fastify';
import { checkAdminToken } from '../security/admin-credential.ts';
import type { Store } from '../store/types.ts';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

function outcome(
  reply: FastifyReply,
  status: number,
  code: string,
  diagnostics: string,
  expression?: string,
) {
  return reply
    .code(status)
    .type(FHIR_JSON)
    .send({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code, diagnostics, ...(expression ? { expression: [expression] } : {}) }],
    });
}

/**
 * The part of the FHIR R4 API this issue needs: the stored Observations (read and a basic search) and the
 * CapabilityStatement. Access is the administrator's for now; user access and consent come with the
 * access issue.
 */
export function fhirRoutes(app: FastifyInstance, deps: { store: Store }): void {
  app.get('/fhir/R4/metadata', async (_req, reply) =>
    reply.type(FHIR_JSON).send({
      resourceType: 'CapabilityStatement',
      status: 'active',
      date: '2026-11-28',
      kind: 'instance',
      fhirVersion: '4.0.1',
      format: ['json'],
      rest: [
        {
          mode: 'server',
          resource: [
            {
              type: 'Observation',
              interaction: [{ code: 'read' }, { code: 'search-type' }],
              searchParam: [
                { name: 'patient', type: 'reference' },
                { name: 'code', type: 'token' },
                { name: 'device', type: 'reference' },
                { name: 'date', type: 'date' },
                { name: '_count', type: 'number' },
              ],
            },
          ],
        },
      ],
    }),
  );

  app.register(async (fhir) => {
    fhir.addHook('onRequest', async (req, reply) => {
      if (!(await checkAdminToken(deps.store, req.headers.authorization)))
        return outcome(reply, 401, 'login', 'authentication required');
    });

    fhir.get<{ Params: { id: string } }>('/fhir/R4/Observation/:id', async (req, reply) => {
      const o = await deps.store.observations.get(req.params.id);
      if (!o) return outcome(reply, 404, 'not-found', `Observation/${req.params.id} is not known`);
      return reply.type(FHIR_JSON).send(o);
    });

    fhir.get('/fhir/R4/Observation', async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const count = q._count === undefined ? 50 : Number(q._count);
      if (!Number.isInteger(count) || count < 1 || count > 1000)
        return outcome(reply, 400, 'invalid', '_count must be 1..1000', '_count');
      const date = parseDate(q.date);
      if (date === null)
        return outcome(reply, 400, 'invalid', 'date must be geYYYY-MM-DD... or leYYYY-MM-DD...', 'date');
      const page = await deps.store.observations.list({
        limit: count,
        ...(q.patient ? { patientId: q.patient.replace(/^Patient\//, '') } : {}),
        ...(q.device ? { deviceId: q.device.replace(/^Device\//, '') } : {}),
        ...(q.code ? { code: q.code.split('|').pop() as string } : {}),
        ...(q._cursor ? { cursor: q._cursor } : {}),
        ...date,
      });
      const self = `${req.protocol}://${req.host}${req.url}`;
      const next = page.next ? withParam(self, '_cursor', page.next) : undefined;
      return reply.type(FHIR_JSON).send({
        resourceType: 'Bundle',
        type: 'searchset',
        link: [{ relation: 'self', url: self }, ...(next ? [{ relation: 'next', url: next }] : [])],
        entry: page.items.map((resource) => ({
          fullUrl: `Observation/${resource.id}`,
          resource,
          search: { mode: 'match' },
        })),
      });
    });
  });
}

function parseDate(v: string | undefined): { from?: string; to?: string } | null {
  if (v === undefined) return {};
  const m = /^(ge|le|gt|lt)?(\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?)$/.exec(v);
  if (!m) return null;
  const ms = Date.parse(m[2] as string);
  if (!Number.isFinite(ms)) return null;
  const iso = new Date(ms).toISOString();
  return m[1] === 'le' || m[1] === 'lt' ? { to: iso } : { from: iso };
}

function withParam(url: string, key: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.toString();
}
