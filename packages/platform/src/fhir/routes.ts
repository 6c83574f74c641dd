import {
  categoryOfCode,
  type DataCategory,
  indexedObservationCodes,
  observationCodesForToken,
  type Subject,
} from '@openiomt/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { adminAccess, searchEvents, subjectPatient } from '../audit/http-events.ts';
import type { Store } from '../store/types.ts';
import { answerWithOperationOutcome, FHIR_JSON, outcome, searchCount, searchset } from './responses.ts';

/**
 * The FHIR R4 API for Observations (device and derived) and their Provenance, and the CapabilityStatement.
 * Every read and search asks the access policy per patient and per category of data (consent), and is
 * recorded in the audit log.
 */
export function fhirRoutes(app: FastifyInstance, deps: { store: Store; guard: AccessGuard }): void {
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
              type: 'AuditEvent',
              interaction: [{ code: 'read' }, { code: 'search-type' }],
              searchParam: [
                { name: 'patient', type: 'reference' },
                { name: 'date', type: 'date' },
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
    answerWithOperationOutcome(fhir);
    const { store, guard } = deps;

    fhir.get<{ Params: { id: string } }>('/fhir/R4/Observation/:id', async (req, reply) => {
      const subject = await guard.subject(req);
      const o = await store.observations.get(req.params.id);
      const patientId = o ? subjectPatient(o) : undefined;
      if (o && patientId) {
        await guard.check(req, {
          action: 'read',
          resourceType: 'Observation',
          patientId,
          category: categoryOfObservation(o),
          ...purposeOf(subject),
        });
      }
      await store.audit.record(
        adminAccess(req, subject, {
          action: 'read',
          resourceType: 'Observation',
          resourceId: req.params.id,
          ...(patientId ? { patientId } : {}),
          found: !!o,
        }),
      );
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
      const asked = q.patient?.replace(/^Patient\//, '');
      // A token (8867-4, http://loinc.org|8867-4, or a catalogue code), or several separated by commas.
      const requested = q.code
        ? [...new Set(q.code.split(',').flatMap(observationCodesForToken))]
        : undefined;
      const scope = await observationScope(req, guard, asked);
      const codes = narrowCodes(requested, scope.categories);
      const page = await store.observations.list({
        limit: count,
        ...(scope.patientId ? { patientId: scope.patientId } : {}),
        ...(scope.patientIds ? { patientIds: scope.patientIds } : {}),
        ...(q.device ? { deviceId: q.device.replace(/^Device\//, '') } : {}),
        ...(codes ? { codes } : {}),
        ...(q._cursor ? { cursor: q._cursor } : {}),
        ...date,
      });
      await store.audit.recordAll(searchEvents(req, scope.subject, 'Observation', page.items, asked));
      return reply.type(FHIR_JSON).send(searchset(req, 'Observation', page.items, page.next));
    });

    // Provenance of derived Observations by id (device Provenance ids are not indexed: find those by target).
    fhir.get<{ Params: { id: string } }>('/fhir/R4/Provenance/:id', async (req, reply) => {
      await guard.subject(req);
      const p = await store.derivedObservations.provenance(req.params.id);
      if (!p) return outcome(reply, 404, 'not-found', `Provenance/${req.params.id} is not known`);
      await checkProvenance(req, guard, store, p);
      return reply.type(FHIR_JSON).send(p);
    });

    /** `target=Observation/<id>`: the Provenance of that Observation, device-signed or derived. */
    fhir.get('/fhir/R4/Provenance', async (req, reply) => {
      await guard.subject(req);
      const target = (req.query as Record<string, unknown>).target;
      const id =
        typeof target === 'string'
          ? /^(?:Observation\/)?([A-Za-z0-9\-.]{1,64})$/.exec(target)?.[1]
          : undefined;
      if (id === undefined)
        return outcome(reply, 400, 'invalid', 'target=Observation/<id> is required', 'target');
      const p = await store.observations.provenanceOf(id);
      if (p) await checkProvenance(req, guard, store, p);
      return reply
        .type(FHIR_JSON)
        .send(searchset(req, 'Provenance', p ? [p as { id?: string }] : [], undefined));
    });
  });
}

const OBSERVATION_CATEGORIES: readonly DataCategory[] = ['vital-signs', 'waveforms', 'activity'];

/** Researchers ask for research; everyone else for care. */
const purposeOf = (s: Subject) => (s.roles.includes('researcher') ? { purpose: 'research' as const } : {});

/**
 * Which patients and which categories of Observation a search may return. With a patient: the categories
 * the policy allows for them (none: 403, with the reason). Without: every patient the caller may see all of;
 * a patient whose consent withholds part of their data is left out of cross-patient searches (search them
 * by name to get what is allowed).
 */
async function observationScope(req: FastifyRequest, guard: AccessGuard, patientId: string | undefined) {
  const subject = await guard.subject(req);
  const ask = (p: string, category: DataCategory) =>
    guard.decide(subject, {
      action: 'search',
      resourceType: 'Observation',
      patientId: p,
      category,
      ...purposeOf(subject),
    });
  if (patientId !== undefined) {
    const allowed: DataCategory[] = [];
    for (const c of OBSERVATION_CATEGORIES) if ((await ask(patientId, c)).allow) allowed.push(c);
    if (allowed.length === 0)
      await guard.check(req, {
        action: 'search',
        resourceType: 'Observation',
        patientId,
        ...purposeOf(subject),
      });
    return { subject, patientId, categories: allowed };
  }
  const visible = await guard.patientsVisibleTo(subject);
  if (visible === 'all') return { subject, categories: OBSERVATION_CATEGORIES };
  const patientIds: string[] = [];
  for (const p of visible) {
    const all = await Promise.all(OBSERVATION_CATEGORIES.map((c) => ask(p, c)));
    if (all.every((d) => d.allow)) patientIds.push(p);
  }
  return { subject, patientIds, categories: OBSERVATION_CATEGORIES };
}

/** The index codes to search: those asked for (or all), within the allowed categories. */
function narrowCodes(
  requested: string[] | undefined,
  categories: readonly DataCategory[],
): string[] | undefined {
  if (categories.length === OBSERVATION_CATEGORIES.length) return requested;
  return (requested ?? indexedObservationCodes()).filter((c) => categories.includes(categoryOfCode(c)));
}

/** The category of a stored Observation: waveforms carry SampledData; otherwise by its code. */
function categoryOfObservation(o: Record<string, unknown>): DataCategory {
  if (o.valueSampledData !== undefined) return 'waveforms';
  const coding = ((o.code as { coding?: { system?: string; code?: string }[] } | undefined)?.coding ?? [])[0];
  const codes = coding ? observationCodesForToken(`${coding.system ?? ''}|${coding.code ?? ''}`) : [];
  return codes.length > 0 ? categoryOfCode(codes[0] as string) : 'vital-signs';
}

/** A Provenance is read with the right to read the Observation it is about. */
async function checkProvenance(
  req: FastifyRequest,
  guard: AccessGuard,
  store: Store,
  p: Record<string, unknown>,
) {
  const target = ((p.target as { reference?: string }[] | undefined) ?? [])[0]?.reference ?? '';
  const o = await store.observations.get(target.replace(/^Observation\//, ''));
  const patientId = o ? subjectPatient(o) : undefined;
  if (!o || !patientId) return;
  await guard.check(req, {
    action: 'read',
    resourceType: 'Observation',
    patientId,
    category: categoryOfObservation(o),
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
