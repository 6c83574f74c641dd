import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { subjectPatient } from '../audit/http-events.ts';
import type { InProcessBus } from '../bus/bus.ts';
import type { Store } from '../store/types.ts';
import { capabilityStatement, type SecuritySection } from './capability.ts';
import { consentRoutes } from './consent-routes.ts';
import { observationRoutes } from './observation-routes.ts';
import { categoryOfObservation } from './observation-scope.ts';
import { registryRoutes } from './registry-routes.ts';
import { answerWithOperationOutcome, FHIR_JSON, outcome, searchset } from './responses.ts';
import { transactionRoutes } from './transaction.ts';

/**
 * The FHIR R4 API at /fhir/R4: the CapabilityStatement, Provenance here, and the other resources from their
 * own files (Observation, Patient/Practitioner/CareTeam/Device, Consent, transaction Bundles; Flag and
 * Communication in alarm-routes.ts, AuditEvent in audit/routes.ts). Every read and search asks the access
 * policy per patient and per category of data (consent), and is recorded in the audit log.
 */
export function fhirRoutes(
  app: FastifyInstance,
  deps: {
    store: Store;
    guard: AccessGuard;
    /** Where entered Observations are announced once committed (rules, NEWS2, trends, live, subscriptions). */
    bus: InProcessBus;
    /** The SMART on FHIR `rest.security` section of the CapabilityStatement (src/oauth/), when configured. */
    smartSecurity?: SecuritySection;
  },
): void {
  app.get('/fhir/R4/metadata', async (_req, reply) =>
    reply.type(FHIR_JSON).send(capabilityStatement(deps.smartSecurity)),
  );
  observationRoutes(app, deps);
  registryRoutes(app, deps);
  consentRoutes(app, deps);
  transactionRoutes(app, deps);

  app.register(async (fhir) => {
    answerWithOperationOutcome(fhir);
    const { store, guard } = deps;

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
