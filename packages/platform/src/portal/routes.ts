/**
 * The patient portal's server side: the patient's data export (FHIR Bundle), erasure requests, and secure
 * messages with the care team. Every route decides with the access guard (or, where the core policy has no
 * action for it, with the explicit rules in callers.ts) and records what it discloses in the audit log.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { adminAccess } from '../audit/http-events.ts';
import { FHIR_JSON } from '../fhir/responses.ts';
import { notFound } from '../http/problem.ts';
import type { Store } from '../store/types.ts';
import { erasureRoutes } from './erasure-routes.ts';
import { exportBundle, OBSERVATION_CATEGORIES, planExport, plannedTypes } from './export.ts';
import { messageRoutes } from './message-routes.ts';

export interface PortalDeps {
  readonly store: Store;
  readonly guard: AccessGuard;
}

/** A file name part from a patient id: the characters a file system and a header take as they are. */
const fileSafe = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);

export function portalRoutes(app: FastifyInstance, deps: PortalDeps): void {
  const { store, guard } = deps;

  app.get<{ Params: { id: string } }>('/api/v1/patients/:id/export', async (req, reply) => {
    const patientId = req.params.id;
    const subject = await guard.subject(req);
    const plan = await planExport((r) => guard.decide(subject, r), patientId);
    // Nothing exportable: the guard refuses with the policy's reason (and records the refusal).
    if (plan.observationCategories.length === 0)
      await guard.check(req, { action: 'export', resourceType: 'Observation', patientId });
    if (!(await store.patients.get(patientId))) throw notFound(`no patient ${patientId}`);
    // Recorded before anything is sent: if recording fails, nothing is disclosed unrecorded.
    await store.audit.record(
      adminAccess(req, subject, {
        action: 'export',
        resourceType: 'Bundle',
        patientId,
        detail: {
          resources: plannedTypes(plan),
          observationCategories: [...plan.observationCategories],
          withheld: OBSERVATION_CATEGORIES.filter((c) => !plan.observationCategories.includes(c)),
          demographics: plan.demographics,
        },
      }),
    );
    const date = new Date().toISOString().slice(0, 10);
    const base = `${req.protocol}://${req.host}/fhir/R4`;
    return reply
      .type(FHIR_JSON)
      .header('content-disposition', `attachment; filename="openiomt-${fileSafe(patientId)}-${date}.json"`)
      .header('cache-control', 'no-store')
      .send(Readable.from(exportBundle(store, plan, { base })));
  });

  erasureRoutes(app, deps);
  messageRoutes(app, deps);
}
