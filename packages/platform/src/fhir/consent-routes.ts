/**
 * FHIR R4 Consent over the consent store: read and search (by patient) in the portal's mapping
 * (portal/fhir.ts), and create or update by the patient, read back from the same shape: a `deny` provision
 * per restriction (data-category codes, recipients as actors) and a research provision (purpose HRESCH).
 * Versions are the store's; `If-Match: W/"n"` on update refuses a stale copy with 412.
 */
import {
  type ConsentRestriction,
  type ConsentState,
  DATA_CATEGORIES,
  type DataCategory,
  nameBasedUuid,
  type Subject,
} from '@openiomt/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { adminAccess } from '../audit/http-events.ts';
import { badRequest } from '../http/problem.ts';
import { consentResource, DATA_CATEGORY_SYSTEM, USER_SYSTEM } from '../portal/fhir.ts';
import type { StoredConsent } from '../store/access.ts';
import { type Store, StoreError } from '../store/types.ts';
import { EntryError } from './observation-entry.ts';
import { acceptFhirJson, answerWithOperationOutcome, FHIR_JSON, outcome, searchset } from './responses.ts';
import { checkParams, type Query, referenceParam } from './search-params.ts';

export const consentId = (patientId: string): string => nameBasedUuid(`consent:${patientId}`);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (detail: string, expression: string): never => {
  throw new EntryError(detail, expression);
};

/** A FHIR Consent (the portal's shape) as the patient and the state the policy reads. */
export function readConsent(input: unknown): { patientId: string; state: ConsentState } {
  if (!isObject(input) || input.resourceType !== 'Consent')
    return fail('the body must be a Consent', 'Consent.resourceType');
  if (input.status !== 'active') fail('status must be active', 'Consent.status');
  const ref = isObject(input.patient) ? input.patient.reference : undefined;
  const patientId = typeof ref === 'string' ? /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref)?.[1] : undefined;
  if (!patientId) return fail('patient must reference Patient/<id>', 'Consent.patient');
  const top = input.provision;
  if (!isObject(top) || top.type !== 'permit')
    return fail('provision must be a permit with nested provisions', 'Consent.provision');
  const nested = top.provision === undefined ? [] : top.provision;
  if (!Array.isArray(nested) || nested.length > 33)
    return fail('provision.provision: at most 33', 'Consent.provision.provision');
  const restrictions: ConsentRestriction[] = [];
  let researchUse = false;
  for (const [i, p] of nested.entries()) {
    const at = `Consent.provision.provision[${i}]`;
    if (!isObject(p) || (p.type !== 'deny' && p.type !== 'permit'))
      fail('type must be deny or permit', `${at}.type`);
    const purposes = Array.isArray((p as Json).purpose) ? ((p as Json).purpose as Json[]) : [];
    if (purposes.some((x) => isObject(x) && x.code === 'HRESCH')) {
      researchUse = (p as Json).type === 'permit';
      continue;
    }
    if ((p as Json).type !== 'deny') fail('only research use (purpose HRESCH) can be a permit', `${at}.type`);
    const codes = (p as Json).code;
    if (!Array.isArray(codes) || codes.length === 0)
      fail('a deny provision names data categories', `${at}.code`);
    const categories = (codes as unknown[]).map((c, j) => {
      const coding = isObject(c) && Array.isArray(c.coding) ? (c.coding[0] as Json | undefined) : undefined;
      const code = coding?.code;
      if (
        !coding ||
        coding.system !== DATA_CATEGORY_SYSTEM ||
        !DATA_CATEGORIES.includes(code as DataCategory)
      )
        fail(`must be a ${DATA_CATEGORY_SYSTEM} code: ${DATA_CATEGORIES.join(', ')}`, `${at}.code[${j}]`);
      return code as DataCategory;
    });
    const actors = (p as Json).actor;
    if (actors === undefined) {
      restrictions.push({ categories });
      continue;
    }
    if (!Array.isArray(actors) || actors.length === 0 || actors.length > 100)
      fail('actor: 1..100 recipients (omit it for everyone)', `${at}.actor`);
    const recipients = (actors as unknown[]).map((a, j) => {
      const r = isObject(a) && isObject(a.reference) ? a.reference : undefined;
      const id =
        isObject(r?.identifier) && r.identifier.system === USER_SYSTEM ? r.identifier.value : undefined;
      const viaRef =
        typeof r?.reference === 'string'
          ? /^(?:Practitioner|RelatedPerson)\/(.+)$/.exec(r.reference)?.[1]
          : undefined;
      const user = id ?? viaRef;
      if (typeof user !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/.test(user))
        fail(`actor.reference must name a user (identifier ${USER_SYSTEM})`, `${at}.actor[${j}].reference`);
      return user as string;
    });
    restrictions.push({ categories, recipients });
  }
  return { patientId, state: { restrictions, researchUse } };
}

/** `If-Match: W/"3"` → 3; absent → undefined; malformed → 400. */
function ifMatch(req: FastifyRequest): number | undefined {
  const h = req.headers['if-match'];
  if (h === undefined) return undefined;
  const m = /^(?:W\/)?"(\d{1,9})"$/.exec(String(h).trim());
  if (!m) throw badRequest('If-Match must be W/"<version>"', 'If-Match');
  return Number(m[1]);
}

export function consentRoutes(app: FastifyInstance, deps: { store: Store; guard: AccessGuard }): void {
  const { store, guard } = deps;

  /** The patient whose consent has this id, among those the caller could ask about. */
  async function patientOfConsent(subject: Subject, id: string): Promise<string | undefined> {
    const visible = await guard.patientsVisibleTo(subject);
    if (visible !== 'all') return [...visible].find((p) => consentId(p) === id);
    const { rows } = await store.db.query<{ patient_id: string }>('SELECT patient_id FROM consents');
    return rows.find((r) => consentId(r.patient_id) === id)?.patient_id;
  }

  const send = (reply: FastifyReply, c: StoredConsent, status = 200) =>
    reply.code(status).header('etag', `W/"${c.version}"`).type(FHIR_JSON).send(consentResource(c));

  app.register(async (fhir) => {
    answerWithOperationOutcome(fhir);
    acceptFhirJson(fhir);

    fhir.get<{ Params: { id: string } }>('/fhir/R4/Consent/:id', async (req, reply) => {
      const subject = await guard.subject(req);
      const patientId = await patientOfConsent(subject, req.params.id);
      if (patientId) await guard.check(req, { action: 'read', resourceType: 'Consent', patientId });
      const c = patientId ? await store.access.consent(patientId) : undefined;
      await store.audit.record(
        adminAccess(req, subject, {
          action: 'read',
          resourceType: 'Consent',
          resourceId: req.params.id,
          ...(patientId ? { patientId } : {}),
          found: !!c,
        }),
      );
      if (!c) return outcome(reply, 404, 'not-found', `Consent/${req.params.id} is not known`);
      return send(reply, c);
    });

    fhir.get('/fhir/R4/Consent', async (req, reply) => {
      const { one } = checkParams(req.query as Query, ['patient', '_id']);
      const subject = await guard.subject(req);
      const asked = referenceParam(one.patient, 'Patient', 'patient');
      let patients: string[];
      if (asked !== undefined) {
        await guard.check(req, { action: 'read', resourceType: 'Consent', patientId: asked });
        patients = [asked];
      } else {
        const visible = await guard.patientsVisibleTo(subject);
        const candidates =
          visible === 'all'
            ? (
                await store.db.query<{ patient_id: string }>(
                  'SELECT patient_id FROM consents ORDER BY patient_id LIMIT 1000',
                )
              ).rows.map((r) => r.patient_id)
            : [...visible];
        patients = [];
        for (const p of candidates)
          if ((await guard.decide(subject, { action: 'read', resourceType: 'Consent', patientId: p })).allow)
            patients.push(p);
      }
      const ids = one._id?.split(',');
      const found: StoredConsent[] = [];
      for (const p of patients) {
        const c = await store.access.consent(p);
        if (c && (!ids || ids.includes(consentId(p)))) found.push(c);
      }
      await store.audit.recordAll(
        (found.length > 0 ? found.map((c) => c.patientId) : [asked]).map((patientId) =>
          adminAccess(req, subject, {
            action: 'search',
            resourceType: 'Consent',
            ...(patientId ? { patientId } : {}),
            detail: { count: found.length },
          }),
        ),
      );
      return reply.type(FHIR_JSON).send(searchset(req, 'Consent', found.map(consentResource), undefined));
    });

    /** Create (POST, none yet) or replace (PUT) the patient's consent. */
    const write = async (req: FastifyRequest, reply: FastifyReply, id: string | undefined) => {
      const { patientId, state } = readConsent(req.body);
      if (id !== undefined && id !== consentId(patientId))
        throw new EntryError(`Consent/${id} is not the consent of Patient/${patientId}`, 'Consent.id');
      const current = await store.access.consent(patientId);
      const action = current ? 'update' : 'create';
      const subject = await guard.check(req, { action, resourceType: 'Consent', patientId });
      if (id === undefined && current)
        return outcome(
          reply,
          409,
          'duplicate',
          `the patient has a consent: PUT Consent/${consentId(patientId)}`,
          'Consent',
        );
      const expected = ifMatch(req);
      let saved: StoredConsent;
      try {
        saved = await store.access.putConsent(patientId, state, subject.userId, expected);
      } catch (e) {
        if (e instanceof StoreError && e.code === 'conflict')
          return outcome(
            reply,
            412,
            'conflict',
            `the consent is at version ${current?.version ?? 0}, not ${expected}`,
            'If-Match',
          );
        throw e;
      }
      await store.audit.record(
        adminAccess(req, subject, {
          action,
          resourceType: 'Consent',
          resourceId: consentId(patientId),
          patientId,
          detail: { version: saved.version },
        }),
      );
      return send(reply, saved, current ? 200 : 201);
    };
    fhir.put<{ Params: { id: string } }>('/fhir/R4/Consent/:id', (req, reply) =>
      write(req, reply, req.params.id),
    );
    fhir.post('/fhir/R4/Consent', (req, reply) => write(req, reply, undefined));
  });
}
