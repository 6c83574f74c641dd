/**
 * `POST /fhir/R4` with a Bundle of type transaction: creates of entered Observations (POST Observation),
 * all or nothing. Every entry is read, validated and authorised before anything is written; the writes and
 * their audit records then commit in one database transaction. A refusal names the entry at fault
 * (`Bundle.entry[i]...`) in an OperationOutcome and nothing is stored.
 */
import type { FastifyInstance } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { recordAudit } from '../audit/audit-log.ts';
import { adminAccess } from '../audit/http-events.ts';
import type { InProcessBus } from '../bus/bus.ts';
import { HttpProblem } from '../http/problem.ts';
import { insertEntered } from '../store/observation-search.ts';
import type { Store } from '../store/types.ts';
import { announceEntered, EntryError, readEnteredObservation } from './observation-entry.ts';
import { acceptFhirJson, answerWithOperationOutcome, FHIR_JSON, outcome } from './responses.ts';

const MAX_ENTRIES = 500;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function transactionRoutes(
  app: FastifyInstance,
  deps: { store: Store; guard: AccessGuard; bus: InProcessBus },
): void {
  const { store, guard } = deps;
  app.register(async (fhir) => {
    answerWithOperationOutcome(fhir);
    acceptFhirJson(fhir);

    fhir.post('/fhir/R4', async (req, reply) => {
      const subject = await guard.subject(req);
      const bundle = req.body;
      if (!isObject(bundle) || bundle.resourceType !== 'Bundle')
        return outcome(reply, 400, 'invalid', 'the body must be a Bundle', 'Bundle.resourceType');
      if (bundle.type !== 'transaction')
        return outcome(
          reply,
          400,
          'not-supported',
          'only Bundle type transaction is processed',
          'Bundle.type',
        );
      const entries = bundle.entry;
      if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_ENTRIES)
        return outcome(reply, 400, 'invalid', `Bundle.entry: 1..${MAX_ENTRIES} entries`, 'Bundle.entry');
      const creates: ReturnType<typeof readEnteredObservation>[] = [];
      for (const [i, entry] of entries.entries()) {
        const at = `Bundle.entry[${i}]`;
        const request = isObject(entry) && isObject(entry.request) ? entry.request : undefined;
        if (request?.method !== 'POST' || request.url !== 'Observation')
          return outcome(reply, 400, 'not-supported', 'entries must be POST Observation', `${at}.request`);
        try {
          const e = readEnteredObservation((entry as Json).resource, {
            userId: subject.userId,
            kind: subject.kind,
          });
          await guard.check(req, {
            action: 'create',
            resourceType: 'Observation',
            patientId: e.patientId,
            category: e.category,
          });
          if (!(await store.patients.get(e.patientId)))
            throw new EntryError(`no patient ${e.patientId}`, 'Observation.subject');
          creates.push(e);
        } catch (err) {
          if (err instanceof EntryError)
            return outcome(
              reply,
              422,
              'invalid',
              `entry ${i}: ${err.message}`,
              err.expression.replace(/^Observation/, `${at}.resource`),
            );
          if (err instanceof HttpProblem)
            return outcome(
              reply,
              err.problem.status,
              err.problem.status === 403 ? 'forbidden' : 'invalid',
              `entry ${i}: ${err.problem.detail ?? err.problem.title}`,
              at,
            );
          throw err;
        }
      }
      await store.db.transaction(async (tx) => {
        await insertEntered(tx, creates);
        for (const e of creates)
          await recordAudit(
            tx,
            adminAccess(req, subject, {
              action: 'create',
              resourceType: 'Observation',
              resourceId: e.id,
              patientId: e.patientId,
              detail: { transaction: true },
            }),
          );
      });
      announceEntered(deps.bus, creates);
      return reply.type(FHIR_JSON).send({
        resourceType: 'Bundle',
        type: 'transaction-response',
        entry: creates.map((e) => ({
          fullUrl: `Observation/${e.id}`,
          resource: e.resource,
          response: { status: '201 Created', location: `Observation/${e.id}/_history/1`, etag: 'W/"1"' },
        })),
      });
    });
  });
}
