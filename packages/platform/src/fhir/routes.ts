import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { adminAccess, subjectPatient } from '../audit/http-events.ts';
import type { InProcessBus } from '../bus/bus.ts';
import type { Store } from '../store/types.ts';
import { capabilityStatement, type SecuritySection } from './capability.ts';
import { consentRoutes } from './consent-routes.ts';
import { observationRoutes } from './observation-routes.ts';
import { categoryOfObservation } from './observation-scope.ts';
import { registryRoutes } from './registry-routes.ts';
import { answerWithOperationOutcome, FHIR_JSON, outcome, searchset } from './responses.ts';
import { checkParams, type Query } from './search-params.ts';
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
  // Under /fhir every error is an OperationOutcome: an unknown resource type or interaction too, not the
  // problem details the rest of the server answers with.
  app.register(
    async (fhir) => {
      fhir.setNotFoundHandler((req, reply) =>
        outcome(
          reply,
          404,
          'not-supported',
          `${req.method} ${req.url.split('?')[0]} is not supported by this server`,
        ),
      );
    },
    { prefix: '/fhir' },
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
      const subject = await guard.subject(req);
      const p = await store.derivedObservations.provenance(req.params.id);
      const patientId = p ? await checkProvenance(req, guard, store, p) : undefined;
      await store.audit.record(
        adminAccess(req, subject, {
          action: 'read',
          resourceType: 'Provenance',
          resourceId: req.params.id,
          ...(patientId ? { patientId } : {}),
          found: !!p,
        }),
      );
      if (!p) return outcome(reply, 404, 'not-found', `Provenance/${req.params.id} is not known`);
      return reply.type(FHIR_JSON).send(withLastUpdated(p));
    });

    /** `target=Observation/<id>`: the Provenance of that Observation, device-signed or derived. */
    fhir.get('/fhir/R4/Provenance', async (req, reply) => {
      const subject = await guard.subject(req);
      const { one } = checkParams(req.query as Query, ['target']);
      const target = one.target;
      const id =
        typeof target === 'string'
          ? /^(?:Observation\/)?([A-Za-z0-9\-.]{1,64})$/.exec(target)?.[1]
          : undefined;
      if (id === undefined)
        return outcome(reply, 400, 'invalid', 'target=Observation/<id> is required', 'target');
      const p = await store.observations.provenanceOf(id);
      const patientId = p ? await checkProvenance(req, guard, store, p) : undefined;
      await store.audit.record(
        adminAccess(req, subject, {
          action: 'search',
          resourceType: 'Provenance',
          ...(patientId ? { patientId } : {}),
          detail: { query: req.url.split('?')[1] ?? '', count: p ? 1 : 0 },
        }),
      );
      return reply
        .type(FHIR_JSON)
        .send(searchset(req, 'Provenance', p ? [withLastUpdated(p)] : [], undefined));
    });
  });
}

/**
 * A Provenance is read with the right to read the Observation it is about; returns that Observation's
 * patient (for the audit record), or 403.
 */
async function checkProvenance(
  req: FastifyRequest,
  guard: AccessGuard,
  store: Store,
  p: Record<string, unknown>,
): Promise<string | undefined> {
  const target = ((p.target as { reference?: string }[] | undefined) ?? [])[0]?.reference ?? '';
  const o = await store.observations.get(target.replace(/^Observation\//, ''));
  const patientId = o ? subjectPatient(o) : undefined;
  if (!o || !patientId) return undefined;
  await guard.check(req, {
    action: 'read',
    resourceType: 'Observation',
    patientId,
    category: categoryOfObservation(o),
  });
  return patientId;
}

/**
 * A Provenance is made when what it is about is stored (a reading received, a window analysed, a value
 * entered) and never changes after, so its `recorded` instant is also when it was last updated.
 */
function withLastUpdated(p: Record<string, unknown>): Record<string, unknown> {
  const meta = (p.meta as Record<string, unknown> | undefined) ?? {};
  if (meta.lastUpdated !== undefined || typeof p.recorded !== 'string') return p;
  return { ...p, meta: { ...meta, lastUpdated: new Date(p.recorded).toISOString() } };
}
