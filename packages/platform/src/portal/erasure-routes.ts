/**
 * Erasure on request: the patient asks (one pending request at a time), an administrator completes it with
 * the platform's crypto-shredding (store.patients.erase: the patient's data key and identity are destroyed,
 * and with the key their messages) or rejects it, with a reason. Each step is a security event for the
 * privacy officer and an audit record.
 */
import type { Subject } from '@openiomt/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { adminAccess } from '../audit/http-events.ts';
import { conflict, notFound } from '../http/problem.ts';
import type { ErasureRequest } from '../store/erasure-requests.ts';
import { PatientErasedError } from '../store/patient-data-key.ts';
import type { Store } from '../store/types.ts';
import { anAdministrator, thePatient } from './callers.ts';
import { parseDecisionReason, parseErasureListQuery, parseErasureReason } from './input.ts';

/** What the patient sees of their request (not who decided it). */
const forPatient = (r: ErasureRequest) => ({
  id: r.id,
  patientId: r.patientId,
  requestedAt: r.requestedAt,
  status: r.status,
  ...(r.reason !== undefined ? { reason: r.reason } : {}),
  ...(r.decidedAt !== undefined ? { decidedAt: r.decidedAt } : {}),
  ...(r.decisionReason !== undefined ? { decisionReason: r.decisionReason } : {}),
});

type Params = { Params: { id: string } };

export function erasureRoutes(app: FastifyInstance, deps: { store: Store; guard: AccessGuard }): void {
  const { store, guard } = deps;

  const event = (
    req: FastifyRequest,
    kind: 'erasure-requested' | 'erasure-completed' | 'erasure-rejected',
    detail: string,
  ) => store.securityEvents.add({ kind, source: req.ip, detail });

  app.post<Params>('/api/v1/patients/:id/erasure-request', async (req, reply) => {
    const patientId = req.params.id;
    const subject = await thePatient(store, guard, req, patientId);
    const reason = parseErasureReason(req.body);
    let made: Awaited<ReturnType<Store['erasureRequests']['request']>>;
    try {
      made = await store.erasureRequests.request({
        patientId,
        by: subject.userId,
        ...(reason !== undefined ? { reason } : {}),
      });
    } catch (e) {
      if (e instanceof PatientErasedError) throw conflict('this patient was erased already');
      throw e;
    }
    if (made.created) {
      await event(
        req,
        'erasure-requested',
        `${subject.userId} requested erasure (request ${made.request.id})`,
      );
      await store.audit.record(
        adminAccess(req, subject, {
          action: 'create',
          resourceType: 'ErasureRequest',
          resourceId: made.request.id,
          patientId,
        }),
      );
    }
    return reply.code(202).send(forPatient(made.request));
  });

  app.get<Params>('/api/v1/patients/:id/erasure-request', async (req) => {
    await thePatient(store, guard, req, req.params.id);
    const latest = await store.erasureRequests.latest(req.params.id);
    if (!latest) throw notFound('no erasure request was made');
    return forPatient(latest);
  });

  app.get('/api/v1/admin/erasure-requests', async (req) => {
    const admin = await anAdministrator(store, guard, req);
    const page = await store.erasureRequests.list(parseErasureListQuery(req.query));
    // The patients' reasons are disclosed to the administrator: one record per patient listed.
    const patients = [...new Set(page.items.map((r) => r.patientId))];
    if (patients.length > 0)
      await store.audit.recordAll(
        patients.map((patientId) =>
          adminAccess(req, admin, { action: 'search', resourceType: 'ErasureRequest', patientId }),
        ),
      );
    return page;
  });

  /** The pending request, or 404/409. */
  async function pending(id: string): Promise<ErasureRequest> {
    const r = await store.erasureRequests.get(id);
    if (!r) throw notFound(`no erasure request ${id}`);
    if (r.status !== 'pending') throw conflict(`the erasure request is ${r.status}, not pending`, '/status');
    return r;
  }

  const decided = async (req: FastifyRequest, admin: Subject, r: ErasureRequest, how: 'delete' | 'update') =>
    store.audit.record(
      adminAccess(req, admin, {
        action: how,
        resourceType: how === 'delete' ? 'Patient' : 'ErasureRequest',
        resourceId: how === 'delete' ? r.patientId : r.id,
        patientId: r.patientId,
        detail: { erasureRequest: r.id, status: r.status },
      }),
    );

  app.post<Params>('/api/v1/admin/erasure-requests/:id/complete', async (req) => {
    const admin = await anAdministrator(store, guard, req);
    const reason = parseDecisionReason(req.body);
    const r = await pending(req.params.id);
    // Erasing first: should marking fail, the request stays pending and completing again is harmless.
    await store.patients.erase(r.patientId, { reason, by: admin.userId });
    const done = await store.erasureRequests.decide(r.id, { status: 'completed', by: admin.userId, reason });
    await event(req, 'erasure-completed', `${admin.userId} completed erasure request ${r.id}`);
    await decided(req, admin, done, 'delete');
    return done;
  });

  app.post<Params>('/api/v1/admin/erasure-requests/:id/reject', async (req) => {
    const admin = await anAdministrator(store, guard, req);
    const reason = parseDecisionReason(req.body);
    const r = await pending(req.params.id);
    const done = await store.erasureRequests.decide(r.id, { status: 'rejected', by: admin.userId, reason });
    await event(req, 'erasure-rejected', `${admin.userId} rejected erasure request ${r.id}`);
    await decided(req, admin, done, 'update');
    return done;
  });
}
