import { DEVICE_ID_PATTERN, deviceResource, type Subject } from '@openiomt/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireAdministrator } from '../access/administrator.ts';
import type { AccessGuard } from '../access/guard.ts';
import { actorFields, adminAccess } from '../audit/http-events.ts';
import {
  bodyObject,
  listQuery,
  optionalInstant,
  optionalInt,
  optionalString,
  requiredString,
} from '../http/body.ts';
import { badRequest, notFound } from '../http/problem.ts';
import type { Store } from '../store/types.ts';
import { logRoutes } from './log-routes.ts';
import { patientRoutes } from './patient-routes.ts';
import type { DeviceAdmin } from './service.ts';

const DEVICE_KINDS = [
  'ecg-patch',
  'pulse-oximeter',
  'bp-cuff',
  'thermometer',
  'wearable',
  'monitor',
  'gateway',
  'other',
];

/**
 * The administrator's HTTP API under /api/v1/admin: every route needs an administrator (a signed-in
 * administrator with a second factor, or the administrator API token). Reading a stored reading discloses
 * clinical data, so it also needs the policy's permission to read the patient's Observations.
 */
export function adminRoutes(
  app: FastifyInstance,
  deps: { store: Store; devices: DeviceAdmin; guard: AccessGuard },
): void {
  const { store, guard } = deps;
  const actor = new WeakMap<FastifyRequest, Subject>();

  app.register(async (admin) => {
    admin.addHook('onRequest', async (req) => {
      actor.set(req, await requireAdministrator(store, (r) => guard.subject(r), req));
    });

    patientRoutes(admin, { store, actorOf: (req) => actor.get(req) ?? 'admin', listQuery });
    logRoutes(admin, { store, actorOf: (req) => actor.get(req) ?? 'admin', listQuery });

    admin.post('/api/v1/admin/devices', async (req, reply) => {
      const b = bodyObject(req.body);
      const id = requiredString(b, 'id', DEVICE_ID_PATTERN);
      const kind = requiredString(b, 'kind');
      if (!DEVICE_KINDS.includes(kind))
        throw badRequest(`kind must be one of ${DEVICE_KINDS.join(', ')}`, '/kind');
      const model = optionalString(b, 'model');
      const manufacturer = optionalString(b, 'manufacturer');
      const expectedIntervalS = optionalInt(b, 'expectedIntervalS', 1, 86_400);
      const enrolmentTtlS = optionalInt(b, 'enrolmentTtlS', 60, 30 * 86_400);
      const r = await store.devices.register({
        id,
        kind,
        ...(model ? { model } : {}),
        ...(manufacturer ? { manufacturer } : {}),
        ...(expectedIntervalS ? { expectedIntervalS } : {}),
        ...(enrolmentTtlS ? { enrolmentTtlS } : {}),
      });
      return reply.code(201).send(r);
    });
    admin.get('/api/v1/admin/devices', async (req) => {
      const q = req.query as Record<string, string | undefined>;
      const status = q.status as 'registered' | 'active' | 'revoked' | 'quarantined' | undefined;
      if (status && !['registered', 'active', 'revoked', 'quarantined'].includes(status))
        throw badRequest('status must be registered, active, revoked or quarantined', '/status');
      return store.devices.list({ ...listQuery(q), ...(status ? { status } : {}) });
    });
    admin.get<{ Params: { id: string } }>('/api/v1/admin/devices/:id', async (req) => {
      const d = await store.devices.get(req.params.id);
      if (!d) throw notFound(`no device ${req.params.id}`);
      const history = await store.assignments.history(d.id);
      const current = history.find((a) => a.to === undefined);
      const fhir = deviceResource({ ...d, ...(current ? { patientId: current.patientId } : {}) });
      // Its assignment history says who wore it: a read of each of those patients' records.
      const patients = [...new Set(history.map((a) => a.patientId))];
      await store.audit.recordAll(
        patients.map((patientId) =>
          adminAccess(req, actor.get(req) ?? 'admin', {
            action: 'read',
            resourceType: 'Device',
            resourceId: d.id,
            patientId,
          }),
        ),
      );
      return { ...d, assignments: history, keys: await store.devices.keys(d.id), fhir };
    });
    admin.post<{ Params: { id: string } }>('/api/v1/admin/devices/:id/enrolment-code', async (req, reply) => {
      const b = req.body === undefined ? {} : bodyObject(req.body);
      const ttl = optionalInt(b, 'enrolmentTtlS', 60, 30 * 86_400);
      return reply.code(201).send(await store.devices.newEnrolmentCode(req.params.id, ttl));
    });
    // The reason an administrator gives for a revocation, quarantine or release: kept in the device record.
    const reasonOf = (req: FastifyRequest): string => {
      const reason = requiredString(bodyObject(req.body ?? {}), 'reason');
      if (reason.length > 500) throw badRequest('reason is at most 500 characters', '/reason');
      return reason;
    };
    // Revocation, quarantine and release: audited, security events device-revoked / -quarantined / -released.
    const who = (req: FastifyRequest) => {
      const fields = actorFields(actor.get(req) ?? 'admin');
      return { by: fields.actor, ...fields, source: req.ip };
    };
    admin.post<{ Params: { id: string } }>('/api/v1/admin/devices/:id/revoke', async (req) =>
      deps.devices.revoke(req.params.id, reasonOf(req), who(req)),
    );
    admin.post<{ Params: { id: string } }>('/api/v1/admin/devices/:id/quarantine', async (req) =>
      deps.devices.quarantine(req.params.id, reasonOf(req), who(req)),
    );
    admin.post<{ Params: { id: string } }>('/api/v1/admin/devices/:id/release', async (req) => {
      const { device, lifted } = await deps.devices.release(req.params.id, reasonOf(req), who(req));
      return { ...device, released: lifted };
    });
    admin.get<{ Params: { id: string } }>('/api/v1/admin/devices/:id/assignments', async (req) =>
      store.assignments.history(req.params.id),
    );
    admin.post<{ Params: { id: string } }>('/api/v1/admin/devices/:id/assignments', async (req, reply) => {
      const b = bodyObject(req.body);
      const patientId = requiredString(b, 'patientId');
      const from = optionalInstant(b, 'from');
      const to = optionalInstant(b, 'to');
      const a = await deps.devices.assign(
        {
          deviceId: req.params.id,
          patientId,
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
        },
        who(req),
      );
      return reply.code(201).send(a);
    });
    admin.post<{ Params: { id: string } }>('/api/v1/admin/devices/:id/assignments/end', async (req) => {
      const at = optionalInstant(req.body === undefined ? {} : bodyObject(req.body), 'at');
      const ended = await deps.devices.endAssignment(req.params.id, who(req), at);
      if (!ended) throw notFound(`device ${req.params.id} has no current assignment`);
      return ended;
    });

    admin.get<{ Params: { id: string; seq: string } }>('/api/v1/admin/readings/:id/:seq', async (req) => {
      const seq = Number(req.params.seq);
      if (!Number.isSafeInteger(seq) || seq < 1) throw badRequest('seq must be a positive integer', '/seq');
      const r = await store.readings.get(req.params.id, seq);
      if (r) await guard.check(req, { action: 'read', resourceType: 'Observation', patientId: r.patientId });
      await store.audit.record(
        adminAccess(req, actor.get(req) ?? 'admin', {
          action: 'read',
          resourceType: 'Reading',
          resourceId: `${req.params.id}/${seq}`,
          ...(r ? { patientId: r.patientId } : {}),
          found: !!r,
        }),
      );
      if (!r) throw notFound(`no reading ${req.params.id}/${seq}`);
      return { ...r, provenance: await store.readings.provenance(req.params.id, seq) };
    });
  });
}
