/**
 * The administrator's patient routes: register (identity encrypted by the store), list, read with its FHIR
 * Patient, find by identifier (blind index) and erase (crypto-shredding). Identifiers travel in bodies,
 * never in URLs, so they stay out of proxy logs and browser history.
 */
import { patientResource } from '@openiomt/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorId, adminAccess } from '../audit/http-events.ts';
import { bodyObject, optionalString, requiredString } from '../http/body.ts';
import { badRequest, notFound } from '../http/problem.ts';
import { isBirthDate } from '../store/patients.ts';
import type { PatientIdentity } from '../store/types.ts';
import type { AdminRouteDeps } from './route-deps.ts';

const PATIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const PHONE = /^\+?[0-9 ()./-]{3,64}$/;

/** The optional identifying fields of a request body, each checked and named when refused. */
export function identityFields(b: Record<string, unknown>): PatientIdentity {
  const identifier = optionalString(b, 'identifier');
  const displayName = optionalString(b, 'displayName');
  const birthDate = optionalString(b, 'birthDate', 10);
  if (birthDate !== undefined && !isBirthDate(birthDate))
    throw badRequest('birthDate must be a date YYYY-MM-DD, not in the future', '/birthDate');
  const phone = optionalString(b, 'phone', 64);
  if (phone !== undefined && !PHONE.test(phone))
    throw badRequest('phone must be digits, spaces and + ( ) . / -', '/phone');
  const email = optionalString(b, 'email', 254);
  if (email !== undefined && !EMAIL.test(email)) throw badRequest('email is not an e-mail address', '/email');
  const address = optionalString(b, 'address', 512);
  const fields = { identifier, displayName, birthDate, phone, email, address };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== ''));
}

export function patientRoutes(admin: FastifyInstance, deps: AdminRouteDeps): void {
  const { store } = deps;

  admin.post('/api/v1/admin/patients', async (req, reply) => {
    const b = bodyObject(req.body);
    const id = optionalString(b, 'id', 64);
    if (id !== undefined && !PATIENT_ID.test(id)) throw badRequest('id has an invalid format', '/id');
    const patient = await store.patients.create({ ...(id ? { id } : {}), ...identityFields(b) });
    await store.audit.record(
      adminAccess(req, deps.actorOf(req), {
        action: 'create',
        resourceType: 'Patient',
        resourceId: patient.id,
        patientId: patient.id,
      }),
    );
    return reply.code(201).send(patient);
  });
  // Lists and searches disclose identities: one record per patient shown (the identifier asked for is
  // itself patient data and stays out of the log).
  admin.get('/api/v1/admin/patients', async (req) => {
    const page = await store.patients.list(deps.listQuery(req.query as Record<string, string>));
    await recordShown(req, page.items);
    return page;
  });
  admin.post('/api/v1/admin/patients/search', async (req) => {
    const identifier = requiredString(bodyObject(req.body), 'identifier');
    if (identifier.length > 256) throw badRequest('identifier is at most 256 characters', '/identifier');
    const items = await store.patients.findByIdentifier(identifier);
    await recordShown(req, items);
    return { items };
  });
  admin.get<{ Params: { id: string } }>('/api/v1/admin/patients/:id', async (req) => {
    const p = await store.patients.get(req.params.id);
    const id = req.params.id;
    await store.audit.record(
      adminAccess(req, deps.actorOf(req), {
        action: 'read',
        resourceType: 'Patient',
        resourceId: id,
        patientId: id,
        found: !!p,
      }),
    );
    if (!p) throw notFound(`no patient ${id}`);
    return { ...p, fhir: patientResource(p) };
  });
  async function recordShown(req: FastifyRequest, patients: readonly { id: string }[]): Promise<void> {
    const event = (patientId?: string) =>
      adminAccess(req, deps.actorOf(req), {
        action: 'search',
        resourceType: 'Patient',
        ...(patientId ? { patientId } : {}),
        detail: { count: patients.length },
      });
    await store.audit.recordAll(patients.length === 0 ? [event()] : patients.map((p) => event(p.id)));
  }

  admin.post<{ Params: { id: string } }>('/api/v1/admin/patients/:id/erase', async (req) => {
    const reason = requiredString(bodyObject(req.body ?? {}), 'reason');
    if (reason.length > 500) throw badRequest('reason is at most 500 characters', '/reason');
    const p = await store.patients.erase(req.params.id, { reason, by: actorId(deps.actorOf(req)) });
    return { ...p, fhir: patientResource(p) };
  });
}
