/**
 * FHIR R4 Observation: read, search (patient, code, category, device, date and _lastUpdated with every
 * prefix, _sort, _count, paging, _include of the device and the patient, _summary=count), the $lastn
 * operation, and create for vital signs entered by staff. Every access asks the policy per patient and per
 * category of data (consent) and is recorded in the audit log.
 */
import { indexedObservationCodes } from '@openiomt/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { adminAccess, searchEvents, subjectPatient } from '../audit/http-events.ts';
import type { InProcessBus } from '../bus/bus.ts';
import { badRequest } from '../http/problem.ts';
import { insertEntered, observationSearchRepository } from '../store/observation-search.ts';
import type { Store } from '../store/types.ts';
import { announceEntered, readEnteredObservation } from './observation-entry.ts';
import {
  categoryOfObservation,
  categoryParam,
  codeParam,
  deviceFor,
  narrowCodes,
  observationScope,
  patientFor,
  purposeOf,
} from './observation-scope.ts';
import { acceptFhirJson, answerWithOperationOutcome, FHIR_JSON, outcome, searchset } from './responses.ts';
import { checkParams, countParam, dateParams, referenceParam } from './search-params.ts';

const SEARCH_PARAMS = [
  'patient',
  'subject',
  'code',
  'category',
  'device',
  'date',
  '_id',
  '_lastUpdated',
  '_sort',
  '_include',
  // Accepted for clients that state it; a researcher's searches are always for research (purposeOf).
  'purpose',
];
const LASTN_PARAMS = ['patient', 'subject', 'code', 'category', 'max'];
const INCLUDES = ['Observation:device', 'Observation:patient', 'Observation:subject'];

export function observationRoutes(
  app: FastifyInstance,
  deps: { store: Store; guard: AccessGuard; bus: InProcessBus },
): void {
  const { store, guard } = deps;
  const observations = observationSearchRepository(store.db);

  app.register(async (fhir) => {
    answerWithOperationOutcome(fhir);
    acceptFhirJson(fhir);

    fhir.get('/fhir/R4/Observation/$lastn', async (req, reply) => {
      const { one } = checkParams(req.query as Record<string, string>, LASTN_PARAMS);
      const asked = referenceParam(
        one.patient ?? one.subject,
        'Patient',
        one.patient ? 'patient' : 'subject',
      );
      if (asked === undefined) throw badRequest('$lastn needs patient', 'patient');
      const max = one.max === undefined ? 1 : Number(one.max);
      if (!Number.isInteger(max) || max < 1 || max > 100) throw badRequest('max must be 1..100', 'max');
      const scope = await observationScope(req, guard, asked);
      const codes = narrowCodes(codeParam(one.code), scope.categories, categoryParam(one.category));
      const found = await observations.lastn(asked, codes ?? allCodes(), max);
      await store.audit.recordAll(searchEvents(req, scope.subject, 'Observation', found, asked));
      return reply.type(FHIR_JSON).send(searchset(req, 'Observation', found, undefined));
    });

    fhir.get<{ Params: { id: string } }>('/fhir/R4/Observation/:id', async (req, reply) => {
      const subject = await guard.subject(req);
      const o = await observations.get(req.params.id);
      const patientId = o ? subjectPatient(o) : undefined;
      if (o && patientId)
        await guard.check(req, {
          action: 'read',
          resourceType: 'Observation',
          patientId,
          category: categoryOfObservation(o),
          ...purposeOf(subject),
        });
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
      const { one, all } = checkParams(req.query as Record<string, string>, SEARCH_PARAMS, [
        'date',
        '_lastUpdated',
        '_include',
      ]);
      const limit = countParam(one._count);
      const dates = dateParams(all('date'), 'date');
      const lastUpdated = dateParams(all('_lastUpdated'), '_lastUpdated');
      const sort =
        one._sort === undefined || one._sort === 'date' ? 'asc' : one._sort === '-date' ? 'desc' : null;
      if (sort === null) throw badRequest('_sort must be date or -date', '_sort');
      const includes = all('_include');
      const unknownInclude = includes.find((i) => !INCLUDES.includes(i));
      if (unknownInclude) throw badRequest(`_include must be one of ${INCLUDES.join(', ')}`, '_include');
      const asked = referenceParam(
        one.patient ?? one.subject,
        'Patient',
        one.patient ? 'patient' : 'subject',
      );
      const deviceId = referenceParam(one.device, 'Device', 'device');
      const ids = one._id?.split(',');
      const scope = await observationScope(req, guard, asked);
      const codes = narrowCodes(codeParam(one.code), scope.categories, categoryParam(one.category));
      const query = {
        ...(scope.patientId ? { patientId: scope.patientId } : {}),
        ...(scope.patientIds ? { patientIds: scope.patientIds } : {}),
        ...(deviceId ? { deviceId } : {}),
        ...(codes ? { codes } : {}),
        ...(ids ? { ids } : {}),
        dates,
        lastUpdated,
      };
      if (one._summary === 'count') {
        const total = await observations.count(query);
        await store.audit.record(
          adminAccess(req, scope.subject, {
            action: 'search',
            resourceType: 'Observation',
            ...(asked ? { patientId: asked } : {}),
            detail: { query: req.url.split('?')[1] ?? '', count: total },
          }),
        );
        return reply.type(FHIR_JSON).send({ resourceType: 'Bundle', type: 'searchset', total });
      }
      const page = await observations.search({
        ...query,
        sort,
        limit,
        ...(one._cursor ? { cursor: one._cursor } : {}),
      });
      const included = await includesOf(req, page.items, includes);
      await store.audit.recordAll([
        ...searchEvents(req, scope.subject, 'Observation', page.items, asked),
        ...included.events,
      ]);
      const bundle = searchset(req, 'Observation', page.items, page.next);
      bundle.entry.push(
        ...included.resources.map((resource) => ({
          fullUrl: `${resource.resourceType}/${resource.id}`,
          resource,
          search: { mode: 'include' },
        })),
      );
      return reply.type(FHIR_JSON).send(bundle);
    });

    fhir.post('/fhir/R4/Observation', async (req, reply) => {
      const subject = await guard.subject(req);
      const entered = readEnteredObservation(req.body, { userId: subject.userId, kind: subject.kind });
      await guard.check(req, {
        action: 'create',
        resourceType: 'Observation',
        patientId: entered.patientId,
        category: entered.category,
      });
      if (!(await store.patients.get(entered.patientId)))
        return outcome(reply, 422, 'invalid', `no patient ${entered.patientId}`, 'Observation.subject');
      await store.db.transaction(async (tx) => {
        await insertEntered(tx, [entered]);
        await recordAudit(
          tx,
          adminAccess(req, subject, {
            action: 'create',
            resourceType: 'Observation',
            resourceId: entered.id,
            patientId: entered.patientId,
          }),
        );
      });
      announceEntered(deps.bus, [entered]);
      return created(req, reply, 'Observation', entered.resource);
    });
  });

  /**
   * The devices and patients a page refers to, each shown only as the caller may see it: a device the
   * caller may not read is left out; a patient is shown with or without identity (observation-scope.ts).
   */
  async function includesOf(
    req: FastifyRequest,
    items: readonly Record<string, unknown>[],
    includes: string[],
  ) {
    const resources: Record<string, unknown>[] = [];
    const events: ReturnType<typeof adminAccess>[] = [];
    if (includes.length === 0) return { resources, events };
    const subject = await guard.subject(req);
    if (includes.includes('Observation:device')) {
      const deviceIds = new Set(
        items
          .map((o) => (o.device as { reference?: string } | undefined)?.reference?.replace(/^Device\//, ''))
          .filter((d): d is string => d !== undefined),
      );
      const mayRead = (await guard.decide(subject, { action: 'read', resourceType: 'Device' })).allow;
      for (const id of mayRead ? deviceIds : []) {
        const d = await deviceFor(store, guard, subject, id);
        if (d) resources.push(d);
      }
    }
    if (includes.includes('Observation:patient') || includes.includes('Observation:subject')) {
      for (const patientId of new Set(items.map(subjectPatient).filter((p): p is string => !!p))) {
        const p = await patientFor(store, guard, subject, patientId);
        if (!p) continue;
        resources.push(p.resource);
        events.push(
          adminAccess(req, subject, {
            action: 'read',
            resourceType: 'Patient',
            resourceId: patientId,
            patientId,
            detail: { included: true, identified: p.identified },
          }),
        );
      }
    }
    return { resources, events };
  }
}

const allCodes = (): string[] => indexedObservationCodes();

/** 201 with Location and the version as ETag (entered resources start at version 1). */
export function created(
  req: FastifyRequest,
  reply: FastifyReply,
  type: string,
  resource: Record<string, unknown>,
) {
  const id = resource.id as string;
  return reply
    .code(201)
    .header('location', `${req.protocol}://${req.host}/fhir/R4/${type}/${id}/_history/1`)
    .header('etag', 'W/"1"')
    .type(FHIR_JSON)
    .send(resource);
}
