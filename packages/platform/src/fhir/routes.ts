import { observationCodesForToken } from '@openiomt/core';
import type { FastifyInstance } from 'fastify';
import { checkAdminToken } from '../security/admin-credential.ts';
import type { Store } from '../store/types.ts';
import { FHIR_JSON, outcome, searchCount, searchset } from './responses.ts';

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
            {
              type: 'Flag',
              interaction: [{ code: 'read' }, { code: 'search-type' }],
              searchParam: [
                { name: 'patient', type: 'reference' },
                { name: 'status', type: 'token' },
                { name: '_count', type: 'number' },
              ],
            },
            {
              type: 'Communication',
              interaction: [{ code: 'read' }, { code: 'search-type' }],
              searchParam: [
                { name: 'patient', type: 'reference' },
                { name: 'about', type: 'reference' },
                { name: '_count', type: 'number' },
              ],
            },
            {
              type: 'Provenance',
              interaction: [{ code: 'read' }, { code: 'search-type' }],
              searchParam: [{ name: 'target', type: 'reference' }],
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
      const raw = req.query as Record<string, string | string[] | undefined>;
      const repeated = Object.keys(raw).find((k) => k !== 'date' && Array.isArray(raw[k]));
      if (repeated) return outcome(reply, 400, 'invalid', `${repeated} may be given once`, repeated);
      const q = raw as Record<string, string | undefined>;
      const count = searchCount(q._count);
      if (count === null) return outcome(reply, 400, 'invalid', '_count must be 1..1000', '_count');
      const date = parseDates(raw.date);
      if (date === null)
        return outcome(reply, 400, 'invalid', 'date must be geYYYY-MM-DD... or leYYYY-MM-DD...', 'date');
      const page = await deps.store.observations.list({
        limit: count,
        ...(q.patient ? { patientId: q.patient.replace(/^Patient\//, '') } : {}),
        ...(q.device ? { deviceId: q.device.replace(/^Device\//, '') } : {}),
        // A token (8867-4, http://loinc.org|8867-4, or a catalogue code), or several separated by commas.
        ...(q.code ? { codes: [...new Set(q.code.split(',').flatMap(observationCodesForToken))] } : {}),
        ...(q._cursor ? { cursor: q._cursor } : {}),
        ...date,
      });
      return reply.type(FHIR_JSON).send(searchset(req, 'Observation', page.items, page.next));
    });

    // Provenance of derived Observations by id (device Provenance ids are not indexed: find those by target).
    fhir.get<{ Params: { id: string } }>('/fhir/R4/Provenance/:id', async (req, reply) => {
      const p = await deps.store.derivedObservations.provenance(req.params.id);
      if (!p) return outcome(reply, 404, 'not-found', `Provenance/${req.params.id} is not known`);
      return reply.type(FHIR_JSON).send(p);
    });

    /** `target=Observation/<id>`: the Provenance of that Observation, device-signed or derived. */
    fhir.get('/fhir/R4/Provenance', async (req, reply) => {
      const target = (req.query as Record<string, unknown>).target;
      const id =
        typeof target === 'string'
          ? /^(?:Observation\/)?([A-Za-z0-9\-.]{1,64})$/.exec(target)?.[1]
          : undefined;
      if (id === undefined)
        return outcome(reply, 400, 'invalid', 'target=Observation/<id> is required', 'target');
      const p = await deps.store.observations.provenanceOf(id);
      const self = `${req.protocol}://${req.host}${req.url}`;
      return reply.type(FHIR_JSON).send({
        resourceType: 'Bundle',
        type: 'searchset',
        link: [{ relation: 'self', url: self }],
        entry: p ? [{ fullUrl: `Provenance/${p.id}`, resource: p, search: { mode: 'match' } }] : [],
      });
    });
  });
}

/** One date bound, or two (`date=ge...&date=le...`) for a range. */
function parseDates(v: string | string[] | undefined): { from?: string; to?: string } | null {
  const values = Array.isArray(v) ? v : v === undefined ? [] : [v];
  if (values.length > 2) return null;
  let range: { from?: string; to?: string } = {};
  for (const value of values) {
    const bound = parseDate(value);
    if (bound === null || (bound.from && range.from) || (bound.to && range.to)) return null;
    range = { ...range, ...bound };
  }
  return range;
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
