/**
 * FHIR R4 read and search of who and what the platform knows: Patient (identity only where the policy
 * allows reading it, otherwise pseudonymous), Practitioner (staff accounts, no credentials), CareTeam and
 * Device. Every route goes through the access guard (deny by default) and every disclosure of a patient's
 * data is audited. Identifiers searched for are patient data: they stay out of the audit detail, and
 * `POST /Patient/_search` keeps them out of URLs.
 */
import { nameBasedUuid, PATIENT_IDENTIFIER_SYSTEM, type Subject } from '@openiomt/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { adminAccess } from '../audit/http-events.ts';
import { badRequest } from '../http/problem.ts';
import { USER_SYSTEM } from '../portal/fhir.ts';
import type { CareTeam } from '../store/access.ts';
import type { Store } from '../store/types.ts';
import type { User } from '../store/users.ts';
import { deviceShown, patientFor } from './observation-scope.ts';
import { acceptFhirJson, answerWithOperationOutcome, FHIR_JSON, outcome, searchset } from './responses.ts';
import { checkParams, countParam, type Query, referenceParam } from './search-params.ts';

const STAFF_ROLES = ['clinician', 'nurse'];
const MAX_SCAN = 10_000;

/** Only the names of the parameters used, never their values (an identifier is patient data). */
const paramNames = (q: Query) => Object.keys(q).sort().join(',');

export function registryRoutes(app: FastifyInstance, deps: { store: Store; guard: AccessGuard }): void {
  const { store, guard } = deps;

  app.register(async (fhir) => {
    answerWithOperationOutcome(fhir);
    acceptFhirJson(fhir);
    fhir.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    // ----- Patient -----
    fhir.get<{ Params: { id: string } }>('/fhir/R4/Patient/:id', async (req, reply) => {
      const subject = await guard.subject(req);
      const id = req.params.id;
      const p = await patientFor(store, guard, subject, id);
      // Neither identity nor any data of this patient may be seen: refused (and audited) as a Patient read.
      if (p && !p.identified && !(await seesAnything(subject, id)))
        await guard.check(req, { action: 'read', resourceType: 'Patient', patientId: id });
      if (!p) await guard.check(req, { action: 'read', resourceType: 'Patient', patientId: id });
      await store.audit.record(
        adminAccess(req, subject, {
          action: 'read',
          resourceType: 'Patient',
          resourceId: id,
          patientId: id,
          found: !!p,
          ...(p ? { detail: { identified: p.identified } } : {}),
        }),
      );
      if (!p) return outcome(reply, 404, 'not-found', `Patient/${id} is not known`);
      return reply.type(FHIR_JSON).send(p.resource);
    });

    const searchPatients = async (req: FastifyRequest, q: Query) => {
      const { one } = checkParams(q, ['_id', 'identifier']);
      const subject = await guard.subject(req);
      const limit = countParam(one._count);
      let ids: string[];
      let next: string | undefined;
      if (one.identifier !== undefined) {
        const bar = one.identifier.indexOf('|');
        const system = bar < 0 ? undefined : one.identifier.slice(0, bar);
        const value = bar < 0 ? one.identifier : one.identifier.slice(bar + 1);
        if (value.length === 0 || value.length > 256)
          throw badRequest('identifier: 1..256 characters', 'identifier');
        ids =
          system === PATIENT_IDENTIFIER_SYSTEM
            ? [value]
            : (await store.patients.findByIdentifier(value)).map((p) => p.id);
      } else if (one._id !== undefined) {
        ids = one._id.split(',');
      } else {
        const visible = await guard.patientsVisibleTo(subject);
        if (visible === 'all') {
          const page = await store.patients.list({ limit, ...(one._cursor ? { cursor: one._cursor } : {}) });
          ids = page.items.map((p) => p.id);
          next = page.next;
        } else ids = [...visible].sort().slice(0, limit);
      }
      const resources: Record<string, unknown>[] = [];
      for (const id of ids.slice(0, limit)) {
        const p = await patientFor(store, guard, subject, id);
        if (p && (p.identified || (await seesAnything(subject, id)))) resources.push(p.resource);
      }
      const patients = resources.map((r) => String(r.id));
      await store.audit.recordAll(
        (patients.length > 0 ? patients : [undefined]).map((patientId) =>
          adminAccess(req, subject, {
            action: 'search',
            resourceType: 'Patient',
            ...(patientId ? { patientId } : {}),
            detail: { params: paramNames(q), count: resources.length },
          }),
        ),
      );
      return searchset(req, 'Patient', resources, next);
    };
    fhir.get('/fhir/R4/Patient', async (req, reply) =>
      reply.type(FHIR_JSON).send(await searchPatients(req, req.query as Query)),
    );
    fhir.post('/fhir/R4/Patient/_search', async (req, reply) =>
      reply
        .type(FHIR_JSON)
        .send(await searchPatients(req, { ...(req.query as Query), ...(req.body as Query) })),
    );

    // ----- Practitioner (staff accounts; read like the care-team registry) -----
    const practitioner = (u: User) => ({
      resourceType: 'Practitioner',
      id: u.id,
      identifier: [{ system: USER_SYSTEM, value: u.id }],
      active: u.disabledAt === undefined,
      ...(u.displayName ? { name: [{ text: u.displayName }] } : {}),
      extension: [
        {
          url: 'https://openiomt.org/fhir/StructureDefinition/role',
          valueCode: u.roles.filter((r) => STAFF_ROLES.includes(r)).join(' '),
        },
      ],
    });
    fhir.get<{ Params: { id: string } }>('/fhir/R4/Practitioner/:id', async (req, reply) => {
      await guard.check(req, { action: 'read', resourceType: 'CareTeam' });
      const u = /^[0-9a-f-]{36}$/i.test(req.params.id) ? await store.users.get(req.params.id) : undefined;
      if (!u?.roles.some((r) => STAFF_ROLES.includes(r)))
        return outcome(reply, 404, 'not-found', `Practitioner/${req.params.id} is not known`);
      return reply.type(FHIR_JSON).send(practitioner(u));
    });
    fhir.get('/fhir/R4/Practitioner', async (req, reply) => {
      const { one } = checkParams(req.query as Query, ['_id']);
      await guard.check(req, { action: 'search', resourceType: 'CareTeam' });
      const limit = countParam(one._count);
      const wanted = one._id?.split(',');
      // Users are paged by creation; each page keeps its staff (a page may hold fewer than _count).
      const page = await store.users.list({ limit, ...(one._cursor ? { cursor: one._cursor } : {}) });
      const out = page.items.filter(
        (u) => u.roles.some((r) => STAFF_ROLES.includes(r)) && (!wanted || wanted.includes(u.id)),
      );
      const next = page.next;
      return reply
        .type(FHIR_JSON)
        .send(searchset(req, 'Practitioner', out.slice(0, limit).map(practitioner), next));
    });

    // ----- CareTeam -----
    fhir.get<{ Params: { id: string } }>('/fhir/R4/CareTeam/:id', async (req, reply) => {
      const subject = await guard.check(req, { action: 'read', resourceType: 'CareTeam' });
      const team = await store.access.careTeam(req.params.id).catch(() => undefined);
      if (!team || !teamVisible(subject, team, undefined))
        return outcome(reply, 404, 'not-found', `CareTeam/${req.params.id} is not known`);
      await auditTeams(req, subject, [team], 'read');
      return reply.type(FHIR_JSON).send(careTeamResource(team));
    });
    fhir.get('/fhir/R4/CareTeam', async (req, reply) => {
      const { one } = checkParams(req.query as Query, ['patient', 'subject', 'participant', '_id']);
      const patientId = referenceParam(
        one.patient ?? one.subject,
        'Patient',
        one.patient ? 'patient' : 'subject',
      );
      const participant = referenceParam(one.participant, '(?:Practitioner|Patient)', 'participant');
      const subject = await guard.check(req, {
        action: 'search',
        resourceType: 'CareTeam',
        ...(patientId ? { patientId } : {}),
      });
      const limit = countParam(one._count);
      const ids = one._id?.split(',');
      const teams = (await store.access.careTeams()).filter(
        (t) =>
          teamVisible(subject, t, patientId) &&
          (!patientId || t.patients.includes(patientId)) &&
          (!participant || t.members.includes(participant) || t.patients.includes(participant)) &&
          (!ids || ids.includes(t.id)),
      );
      await auditTeams(req, subject, teams.slice(0, limit), 'search');
      return reply
        .type(FHIR_JSON)
        .send(searchset(req, 'CareTeam', teams.slice(0, limit).map(careTeamResource), undefined));
    });

    // ----- Device -----
    fhir.get<{ Params: { id: string } }>('/fhir/R4/Device/:id', async (req, reply) => {
      const subject = await guard.check(req, { action: 'read', resourceType: 'Device' });
      const id = await deviceIdOf(req.params.id);
      const d = id === undefined ? undefined : await deviceShown(store, guard, subject, id);
      if (!d) return outcome(reply, 404, 'not-found', `Device/${req.params.id} is not known`);
      // A device that names its patient discloses who wears it: audited as a read of that patient's data.
      if (d.patientId !== undefined)
        await store.audit.record(
          adminAccess(req, subject, {
            action: 'read',
            resourceType: 'Device',
            resourceId: id,
            patientId: d.patientId,
          }),
        );
      return reply.type(FHIR_JSON).send(d.resource);
    });
    fhir.get('/fhir/R4/Device', async (req, reply) => {
      const { one } = checkParams(req.query as Query, ['patient', '_id', 'identifier', 'status']);
      const patientId = referenceParam(one.patient, 'Patient', 'patient');
      if (one.status !== undefined && one.status !== 'active' && one.status !== 'inactive')
        throw badRequest('status must be active or inactive', 'status');
      const subject = await guard.check(req, {
        action: 'search',
        resourceType: 'Device',
        ...(patientId ? { patientId } : {}),
      });
      const limit = countParam(one._count);
      let ids: string[];
      let next: string | undefined;
      const wanted = one.identifier?.replace(/^urn:openiomt:device\|/, '') ?? one._id;
      if (patientId !== undefined) {
        const { rows } = await store.db.query<{ device_id: string }>(
          `SELECT device_id FROM device_assignments
            WHERE patient_id = $1 AND from_at <= now() AND (to_at IS NULL OR to_at > now()) ORDER BY device_id`,
          [patientId],
        );
        ids = rows.map((r) => r.device_id);
      } else if (wanted !== undefined) {
        ids = (await Promise.all(wanted.split(',').map(deviceIdOf))).filter((d): d is string => !!d);
      } else {
        const page = await store.devices.list({
          limit,
          ...(one.status === 'inactive' ? { status: 'revoked' as const } : {}),
          ...(one._cursor ? { cursor: one._cursor } : {}),
        });
        ids = page.items.map((d) => d.id);
        next = page.next;
      }
      const devices: Record<string, unknown>[] = [];
      const named = new Map<string, number>(); // patient -> devices shown that name them
      for (const id of ids.slice(0, limit)) {
        const d = await deviceShown(store, guard, subject, id);
        if (!d || (one.status !== undefined && d.resource.status !== one.status)) continue;
        devices.push(d.resource);
        if (d.patientId !== undefined) named.set(d.patientId, (named.get(d.patientId) ?? 0) + 1);
      }
      if (patientId !== undefined && !named.has(patientId)) named.set(patientId, 0);
      // One event per patient whose devices were disclosed (as for Observation searches).
      await store.audit.recordAll(
        [...named].map(([p, count]) =>
          adminAccess(req, subject, {
            action: 'search',
            resourceType: 'Device',
            patientId: p,
            detail: { count },
          }),
        ),
      );
      return reply.type(FHIR_JSON).send(searchset(req, 'Device', devices, next));
    });
  });

  /** Whether the caller sees anything of the patient's data (then the Patient is shown pseudonymously). */
  async function seesAnything(subject: Subject, patientId: string): Promise<boolean> {
    for (const category of ['vital-signs', 'waveforms', 'activity', 'alarms'] as const) {
      const d = await guard.decide(subject, {
        action: 'read',
        resourceType: category === 'alarms' ? 'Flag' : 'Observation',
        patientId,
        category,
      });
      if (d.allow) return true;
    }
    return false;
  }

  /** A platform device id from a FHIR Device id (ids a FHIR id cannot hold were made name-based UUIDs). */
  async function deviceIdOf(fhirId: string): Promise<string | undefined> {
    if (await store.devices.get(fhirId)) return fhirId;
    if (!/^[0-9a-f-]{36}$/i.test(fhirId)) return undefined;
    const { rows } = await store.db.query<{ id: string }>(
      `SELECT id FROM devices WHERE id !~ '^[A-Za-z0-9.-]{1,64}$' LIMIT ${MAX_SCAN}`,
    );
    return rows.find((r) => nameBasedUuid(`Device:${r.id}`) === fhirId)?.id;
  }

  async function auditTeams(
    req: FastifyRequest,
    subject: Subject,
    teams: CareTeam[],
    action: 'read' | 'search',
  ) {
    const patients = [...new Set(teams.flatMap((t) => t.patients))];
    await store.audit.recordAll(
      (patients.length > 0 ? patients : [undefined]).map((patientId) =>
        adminAccess(req, subject, {
          action,
          resourceType: 'CareTeam',
          ...(patientId ? { patientId } : {}),
          detail: { count: teams.length },
        }),
      ),
    );
  }
}

/**
 * Administrators and services see every team; staff see the teams they belong to, and (with `patient`,
 * already checked by the policy: care team or break-glass) the teams of that patient.
 */
function teamVisible(subject: Subject, team: CareTeam, checkedPatient: string | undefined): boolean {
  if (subject.kind === 'service' || subject.roles.includes('administrator')) return true;
  return (
    team.members.includes(subject.userId) ||
    (checkedPatient !== undefined && team.patients.includes(checkedPatient))
  );
}

const SNOMED = 'http://snomed.info/sct';

/** A team with its members (Practitioner) and its patients as participants: a team cares for many. */
export function careTeamResource(t: CareTeam): Record<string, unknown> {
  return {
    resourceType: 'CareTeam',
    id: t.id,
    status: 'active',
    name: t.name,
    participant: [
      ...t.members.map((m) => ({
        role: [{ coding: [{ system: SNOMED, code: '223366009', display: 'Healthcare professional' }] }],
        member: { reference: `Practitioner/${m}` },
      })),
      ...t.patients.map((p) => ({
        role: [{ coding: [{ system: SNOMED, code: '116154003', display: 'Patient' }] }],
        member: { reference: `Patient/${p}` },
      })),
    ],
  };
}
