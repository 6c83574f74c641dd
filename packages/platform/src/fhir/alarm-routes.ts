/**
 * Alarms as FHIR: each alarm is a Flag (status active while open, inactive once resolved, with its
 * priority and lifecycle in extensions) and each notification it caused is a Communication about that
 * Flag. Read and search; the resources are made on read from the alarm records by core's pure mapping.
 */
import { type Alarm, alarmToFlag, notificationToCommunication } from '@openiomt/core';
import type { FastifyInstance } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import type { Store } from '../store/types.ts';
import { answerWithOperationOutcome, FHIR_JSON, outcome, searchCount, searchset } from './responses.ts';

const reference = (v: string | undefined, type: string) =>
  v === undefined ? undefined : v.replace(new RegExp(`^${type}/`), '');

export function fhirAlarmRoutes(app: FastifyInstance, deps: { store: Store; guard: AccessGuard }): void {
  const { store, guard } = deps;
  app.register(async (fhir) => {
    answerWithOperationOutcome(fhir);

    fhir.get<{ Params: { id: string } }>('/fhir/R4/Flag/:id', async (req, reply) => {
      const found = await store.alarms.get(req.params.id);
      if (!found) return outcome(reply, 404, 'not-found', `Flag/${req.params.id} is not known`);
      await guard.check(req, { action: 'read', resourceType: 'Flag', patientId: found.alarm.patientId });
      return reply.type(FHIR_JSON).send(alarmToFlag(found.alarm));
    });

    fhir.get('/fhir/R4/Flag', async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const count = searchCount(q._count);
      if (count === null) return outcome(reply, 400, 'invalid', '_count must be 1..1000', '_count');
      if (q.status !== undefined && q.status !== 'active' && q.status !== 'inactive')
        return outcome(reply, 400, 'invalid', 'status must be active or inactive', 'status');
      const scope = await guard.searchScope(
        req,
        { resourceType: 'Flag' },
        reference(q.patient ?? q.subject, 'Patient'),
      );
      const page = await store.alarms.list({
        limit: count,
        ...(scope.patientId ? { patientId: scope.patientId } : {}),
        ...(scope.patientIds ? { patientIds: scope.patientIds } : {}),
        ...(q.status ? { state: q.status === 'active' ? 'open' : 'resolved' } : {}),
        ...(q._cursor ? { cursor: q._cursor } : {}),
      });
      return reply.type(FHIR_JSON).send(
        searchset(
          req,
          'Flag',
          page.items.map((a) => alarmToFlag(a)),
          page.next,
        ),
      );
    });

    fhir.get<{ Params: { id: string } }>('/fhir/R4/Communication/:id', async (req, reply) => {
      const n = await store.alarms.notification(req.params.id);
      const alarm = n && (await store.alarms.get(n.alarmId));
      if (!n || !alarm)
        return outcome(reply, 404, 'not-found', `Communication/${req.params.id} is not known`);
      return reply.type(FHIR_JSON).send(notificationToCommunication(n, alarm.alarm));
    });

    fhir.get('/fhir/R4/Communication', async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const count = searchCount(q._count);
      if (count === null) return outcome(reply, 400, 'invalid', '_count must be 1..1000', '_count');
      const scope = await guard.searchScope(
        req,
        { resourceType: 'Communication' },
        reference(q.patient ?? q.subject, 'Patient'),
      );
      const alarmId = reference(q.about, 'Flag');
      const page = await store.alarms.notifications({
        limit: count,
        ...(scope.patientId ? { patientId: scope.patientId } : {}),
        ...(scope.patientIds ? { patientIds: scope.patientIds } : {}),
        ...(alarmId ? { alarmId } : {}),
        ...(q._cursor ? { cursor: q._cursor } : {}),
      });
      const alarms = new Map<string, Alarm>();
      for (const id of new Set(page.items.map((n) => n.alarmId))) {
        const a = await store.alarms.get(id);
        if (a) alarms.set(id, a.alarm);
      }
      const resources = page.items.flatMap((n) => {
        const a = alarms.get(n.alarmId);
        return a ? [notificationToCommunication(n, a)] : [];
      });
      return reply.type(FHIR_JSON).send(searchset(req, 'Communication', resources, page.next));
    });
  });
}
