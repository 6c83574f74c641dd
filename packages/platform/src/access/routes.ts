/**
 * The access facts as an API: care teams (administrators), a patient's consent and caregiver grants (the
 * patient), and break-glass (clinicians and nurses in an emergency). Every route goes through the guard.
 */
import { randomUUID } from 'node:crypto';
import { type ConsentRestriction, DATA_CATEGORIES, type DataCategory, type Subject } from '@openiomt/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { adminAccess } from '../audit/http-events.ts';
import { bodyObject, optionalInstant, optionalInt, requiredString } from '../http/body.ts';
import { badRequest, HttpProblem, notFound } from '../http/problem.ts';
import { enqueueWebhookDeliveries } from '../notify/webhook-outbox.ts';
import type { StoredGrant } from '../store/access.ts';
import type { Store } from '../store/types.ts';
import type { AccessGuard } from './guard.ts';

export interface AccessRouteDeps {
  readonly store: Store;
  readonly guard: AccessGuard;
  /** Wakes the webhook deliverer after a break-glass notification was queued. */
  readonly wakeWebhooks?: () => void;
}

const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

export function accessRoutes(app: FastifyInstance, deps: AccessRouteDeps): void {
  const { store, guard } = deps;

  // ----- care teams (administration) -----
  app.post('/api/v1/admin/care-teams', async (req, reply) => {
    const subject = await guard.check(req, { action: 'create', resourceType: 'CareTeam' });
    const name = requiredString(bodyObject(req.body), 'name');
    if (name.length > 128) throw badRequest('name must be at most 128 characters', '/name');
    const team = await store.access.createCareTeam(name);
    await store.audit.record(
      adminAccess(req, subject, { action: 'create', resourceType: 'CareTeam', resourceId: team.id }),
    );
    return reply.code(201).send(team);
  });
  app.get('/api/v1/admin/care-teams', async (req) => {
    await guard.check(req, { action: 'search', resourceType: 'CareTeam' });
    return { items: await store.access.careTeams() };
  });
  app.get<{ Params: { id: string } }>('/api/v1/admin/care-teams/:id', async (req) => {
    await guard.check(req, { action: 'read', resourceType: 'CareTeam' });
    const team = await store.access.careTeam(req.params.id);
    if (!team) throw notFound(`no care team ${req.params.id}`);
    return team;
  });
  for (const [segment, kind] of [
    ['members', 'member'],
    ['patients', 'patient'],
  ] as const) {
    const path = `/api/v1/admin/care-teams/:id/${segment}/:member`;
    for (const method of ['PUT', 'DELETE'] as const) {
      app.route<{ Params: { id: string; member: string } }>({
        method,
        url: path,
        handler: async (req) => {
          const subject = await guard.check(req, { action: 'update', resourceType: 'CareTeam' });
          if (!USER_ID.test(req.params.member)) throw badRequest(`invalid ${kind} id`, `/${kind}`);
          const present = method === 'PUT';
          const team = await store.access.setMembership(req.params.id, kind, req.params.member, present);
          // Who may see whose data changed: a patient added or removed is that patient's record.
          await store.audit.record(
            adminAccess(req, subject, {
              action: 'update',
              resourceType: 'CareTeam',
              resourceId: req.params.id,
              ...(kind === 'patient' ? { patientId: req.params.member } : {}),
              detail: {
                [present ? 'added' : 'removed']: kind,
                ...(kind === 'member' ? { userId: req.params.member } : {}),
              },
            }),
          );
          return team;
        },
      });
    }
  }

  // ----- consent (the patient) -----
  app.get<{ Params: { id: string } }>('/api/v1/patients/:id/consent', async (req) => {
    await guard.check(req, { action: 'read', resourceType: 'Consent', patientId: req.params.id });
    const c = await store.access.consent(req.params.id);
    return c ?? { patientId: req.params.id, restrictions: [], researchUse: false, version: 0 };
  });
  app.put<{ Params: { id: string } }>('/api/v1/patients/:id/consent', async (req) => {
    const subject = await guard.check(req, {
      action: 'update',
      resourceType: 'Consent',
      patientId: req.params.id,
    });
    const b = bodyObject(req.body);
    const restrictions = parseRestrictions(b.restrictions);
    if (typeof b.researchUse !== 'boolean')
      throw badRequest('researchUse must be true or false', '/researchUse');
    const version = optionalInt(b, 'version', 0, 1_000_000);
    const consent = await store.access.putConsent(
      req.params.id,
      { restrictions, researchUse: b.researchUse },
      subject.userId,
      version,
    );
    await store.audit.record(
      adminAccess(req, subject, {
        action: 'update',
        resourceType: 'Consent',
        patientId: req.params.id,
        detail: { version: consent.version, restrictions: restrictions.length, researchUse: b.researchUse },
      }),
    );
    return consent;
  });

  // ----- caregiver grants (the patient) -----
  app.get<{ Params: { id: string } }>('/api/v1/patients/:id/caregivers', async (req) => {
    await guard.check(req, { action: 'read', resourceType: 'Consent', patientId: req.params.id });
    return { items: (await store.access.grantsOfPatient(req.params.id)).map(grantJson) };
  });
  app.post<{ Params: { id: string } }>('/api/v1/patients/:id/caregivers', async (req, reply) => {
    const subject = await guard.check(req, {
      action: 'update',
      resourceType: 'Consent',
      patientId: req.params.id,
    });
    const b = bodyObject(req.body);
    const caregiverUserId = requiredString(b, 'userId', USER_ID);
    const categories = b.categories === undefined ? undefined : parseCategories(b.categories, '/categories');
    const until = optionalInstant(b, 'until');
    const grant = await store.access.grant({
      patientId: req.params.id,
      caregiverUserId,
      ...(categories ? { categories } : {}),
      ...(until ? { until } : {}),
    });
    await store.audit.record(grantEvent(req, subject, grant, 'create'));
    return reply.code(201).send(grantJson(grant));
  });
  app.delete<{ Params: { id: string; grant: string } }>(
    '/api/v1/patients/:id/caregivers/:grant',
    async (req) => {
      const subject = await guard.check(req, {
        action: 'update',
        resourceType: 'Consent',
        patientId: req.params.id,
      });
      const grant = await store.access.revokeGrant(req.params.grant, req.params.id);
      await store.audit.record(grantEvent(req, subject, grant, 'delete'));
      return grantJson(grant);
    },
  );

  // ----- break-glass (clinicians and nurses, in an emergency) -----
  app.post<{ Params: { id: string } }>('/api/v1/patients/:id/break-glass', async (req, reply) => {
    const subject = await guard.subject(req);
    if (subject.kind !== 'user' || !subject.roles.some((r) => r === 'clinician' || r === 'nurse'))
      throw new HttpProblem({
        status: 403,
        title: 'Forbidden',
        detail: 'only clinicians and nurses may break the glass',
      });
    if (!subject.mfa)
      throw new HttpProblem({
        status: 403,
        title: 'Forbidden',
        detail: 'multi-factor authentication is required',
      });
    const b = bodyObject(req.body);
    const reason = requiredString(b, 'reason');
    if (reason.trim().length < 10 || reason.length > 500)
      throw badRequest('reason must say why, in 10 to 500 characters', '/reason');
    const minutes = optionalInt(b, 'minutes', 1, 240) ?? 60;
    if (!(await store.patients.get(req.params.id))) throw notFound(`no patient ${req.params.id}`);
    const glass = await store.access.openBreakGlass({
      userId: subject.userId,
      patientId: req.params.id,
      reason,
      minutes,
    });
    // In the audit log against the patient, with the code of why (the text stays in the break-glass record).
    await store.audit.record(
      adminAccess(req, subject, {
        action: 'break-glass',
        resourceType: 'Patient',
        resourceId: req.params.id,
        patientId: req.params.id,
        detail: { breakGlassId: glass.id, until: glass.until, minutes },
      }),
    );
    // The privacy officer hears of it: a security event, and a signed webhook to whoever subscribed.
    await store.securityEvents.add({
      kind: 'break-glass',
      source: req.ip,
      detail: `${subject.userId} opened break-glass ${glass.id} until ${glass.until}`,
    });
    await store.db.transaction((tx) =>
      enqueueWebhookDeliveries(
        tx,
        {
          id: randomUUID(),
          type: 'break-glass.opened',
          patientId: req.params.id,
          at: glass.openedAt,
          data: glass,
        },
        new Date(),
      ),
    );
    deps.wakeWebhooks?.();
    return reply.code(201).send(glass);
  });
  app.get('/api/v1/admin/break-glass', async (req) => {
    await guard.check(req, { action: 'search', resourceType: 'AuditEvent' });
    return { items: await store.access.breakGlassList() };
  });
}

/** A caregiver grant given or taken back: the patient's record, naming the caregiver (an id). */
function grantEvent(req: FastifyRequest, subject: Subject, g: StoredGrant, action: 'create' | 'delete') {
  return adminAccess(req, subject, {
    action,
    resourceType: 'CaregiverGrant',
    resourceId: g.id,
    patientId: g.patientId,
    detail: {
      caregiverUserId: g.caregiverUserId,
      ...(g.categories ? { categories: [...g.categories] } : {}),
    },
  });
}

function parseCategories(raw: unknown, at: string): DataCategory[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > DATA_CATEGORIES.length)
    throw badRequest(`must be a non-empty list of ${DATA_CATEGORIES.join(', ')}`, at);
  return raw.map((c, i) => {
    if (typeof c !== 'string' || !(DATA_CATEGORIES as readonly string[]).includes(c))
      throw badRequest(`must be one of ${DATA_CATEGORIES.join(', ')}`, `${at}/${i}`);
    return c as DataCategory;
  });
}

/** Consent restrictions from outside input; every refusal names the element at fault. */
export function parseRestrictions(raw: unknown): ConsentRestriction[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > 32)
    throw badRequest('restrictions must be a list of at most 32', '/restrictions');
  return raw.map((r, i) => {
    const at = `/restrictions/${i}`;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw badRequest('must be an object', at);
    const o = r as Record<string, unknown>;
    const extra = Object.keys(o).find((k) => k !== 'categories' && k !== 'recipients');
    if (extra) throw badRequest(`unknown property ${extra}`, `${at}/${extra}`);
    const categories = parseCategories(o.categories, `${at}/categories`);
    if (o.recipients === undefined) return { categories };
    if (!Array.isArray(o.recipients) || o.recipients.length === 0 || o.recipients.length > 100)
      throw badRequest(
        'recipients must be a non-empty list of user ids (omit it for everyone)',
        `${at}/recipients`,
      );
    const recipients = o.recipients.map((u, j) => {
      if (typeof u !== 'string' || !USER_ID.test(u))
        throw badRequest('must be a user id', `${at}/recipients/${j}`);
      return u;
    });
    return { categories, recipients };
  });
}

/** A grant as the API answers it: `until` an RFC 3339 instant, as it is accepted (the policy keeps epoch ms). */
function grantJson(g: StoredGrant): Omit<StoredGrant, 'until'> & { until?: string } {
  const { until, ...rest } = g;
  return { ...rest, ...(until !== undefined ? { until: new Date(until).toISOString() } : {}) };
}
