/**
 * Alarms as FHIR: each alarm is a Flag (status active while open, inactive once resolved, with its
 * priority and lifecycle in extensions) and each notification it caused is a Communication about that
 * Flag. Read and search; the resources are made on read from the alarm records by core's pure mapping.
 * Like Observation, every read and search asks the access policy for the patient and is recorded in the
 * audit log; a search parameter the server does not know is refused, so a typo cannot widen a search.
 */
import { type Alarm, alarmToFlag, notificationToCommunication, type Subject } from '@openiomt/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { adminAccess, searchEvents } from '../audit/http-events.ts';
import { badRequest } from '../http/problem.ts';
import type { Store } from '../store/types.ts';
import { answerWithOperationOutcome, FHIR_JSON, outcome, searchset } from './responses.ts';
import { checkParams, countParam, type Query, referenceParam } from './search-params.ts';

const FLAG_PARAMS = ['patient', 'subject', 'status'];
const COMMUNICATION_PARAMS = ['patient', 'subject', 'about'];

export function fhirAlarmRoutes(app: FastifyInstance, deps: { store: Store; guard: AccessGuard }): void {
  const { store, guard } = deps;

  /** The search's common parameters: the patient asked for (if any), the page size and the cursor. */
  const searchParams = (req: FastifyRequest, resourceType: string, known: readonly string[]) => {
    const { one } = checkParams(req.query as Query, known);
    // These searches return whole pages only; a count would otherwise be silently ignored.
    if (one._summary === 'count')
      throw badRequest(`_summary=count is not supported for ${resourceType}`, '_summary');
    const asked = referenceParam(
      one.patient ?? one.subject,
      'Patient',
      one.patient !== undefined ? 'patient' : 'subject',
    );
    return { one, asked, limit: countParam(one._count) };
  };

  /** A read of one resource: the access policy asked for its patient when it exists, and audited either way. */
  const checkAndAudit = async (
    req: FastifyRequest,
    subject: Subject,
    resourceType: 'Flag' | 'Communication',
    patientId: string | undefined,
  ) => {
    if (patientId !== undefined) await guard.check(req, { action: 'read', resourceType, patientId });
    await store.audit.record(
      adminAccess(req, subject, {
        action: 'read',
        resourceType,
        resourceId: (req.params as { id: string }).id,
        ...(patientId !== undefined ? { patientId } : {}),
        found: patientId !== undefined,
      }),
    );
  };

  app.register(async (fhir) => {
    answerWithOperationOutcome(fhir);

    fhir.get<{ Params: { id: string } }>('/fhir/R4/Flag/:id', async (req, reply) => {
      // Who is asking comes first, so an anonymous caller cannot learn which ids exist.
      const subject = await guard.subject(req);
      const found = await store.alarms.get(req.params.id);
      await checkAndAudit(req, subject, 'Flag', found?.alarm.patientId);
      if (!found) return outcome(reply, 404, 'not-found', `Flag/${req.params.id} is not known`);
      return reply.type(FHIR_JSON).send(alarmToFlag(found.alarm));
    });

    fhir.get('/fhir/R4/Flag', async (req, reply) => {
      const { one, asked, limit } = searchParams(req, 'Flag', FLAG_PARAMS);
      if (one.status !== undefined && one.status !== 'active' && one.status !== 'inactive')
        throw badRequest('status must be active or inactive', 'status');
      const scope = await guard.searchScope(req, { resourceType: 'Flag' }, asked);
      const page = await store.alarms.list({
        limit,
        ...(scope.patientId ? { patientId: scope.patientId } : {}),
        ...(scope.patientIds ? { patientIds: scope.patientIds } : {}),
        ...(one.status ? { state: one.status === 'active' ? 'open' : 'resolved' } : {}),
        ...(one._cursor ? { cursor: one._cursor } : {}),
      });
      const flags = page.items.map((a) => alarmToFlag(a) as unknown as Record<string, unknown>);
      await store.audit.recordAll(searchEvents(req, scope.subject, 'Flag', flags, asked));
      return reply.type(FHIR_JSON).send(searchset(req, 'Flag', flags, page.next));
    });

    fhir.get<{ Params: { id: string } }>('/fhir/R4/Communication/:id', async (req, reply) => {
      const subject = await guard.subject(req);
      const n = await store.alarms.notification(req.params.id);
      const alarm = n && (await store.alarms.get(n.alarmId));
      await checkAndAudit(req, subject, 'Communication', n && alarm ? n.patientId : undefined);
      if (!n || !alarm)
        return outcome(reply, 404, 'not-found', `Communication/${req.params.id} is not known`);
      return reply.type(FHIR_JSON).send(notificationToCommunication(n, alarm.alarm));
    });

    fhir.get('/fhir/R4/Communication', async (req, reply) => {
      const { one, asked, limit } = searchParams(req, 'Communication', COMMUNICATION_PARAMS);
      const alarmId = referenceParam(one.about, 'Flag', 'about');
      const scope = await guard.searchScope(req, { resourceType: 'Communication' }, asked);
      const page = await store.alarms.notifications({
        limit,
        ...(scope.patientId ? { patientId: scope.patientId } : {}),
        ...(scope.patientIds ? { patientIds: scope.patientIds } : {}),
        ...(alarmId ? { alarmId } : {}),
        ...(one._cursor ? { cursor: one._cursor } : {}),
      });
      const alarms = new Map<string, Alarm>();
      for (const id of new Set(page.items.map((n) => n.alarmId))) {
        const a = await store.alarms.get(id);
        if (a) alarms.set(id, a.alarm);
      }
      const resources = page.items.flatMap((n) => {
        const a = alarms.get(n.alarmId);
        return a ? [notificationToCommunication(n, a) as unknown as Record<string, unknown>] : [];
      });
      await store.audit.recordAll(searchEvents(req, scope.subject, 'Communication', resources, asked));
      return reply.type(FHIR_JSON).send(searchset(req, 'Communication', resources, page.next));
    });
  });
}
