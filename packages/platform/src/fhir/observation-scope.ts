/**
 * What an Observation request may touch, by the access policy: which patients and which categories of
 * data (consent restricts by category), and how a patient or a device is shown to this caller when a
 * search includes it. Shared by search, $lastn, read and _include.
 */
import {
  categoryOfCode,
  type DataCategory,
  deviceResource,
  indexedObservationCodes,
  observationCodesForToken,
  PATIENT_IDENTIFIER_SYSTEM,
  patientResource,
  type Subject,
} from '@openiomt/core';
import type { FastifyRequest } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { badRequest } from '../http/problem.ts';
import type { Store } from '../store/types.ts';

export const OBSERVATION_CATEGORIES: readonly DataCategory[] = ['vital-signs', 'waveforms', 'activity'];

/** Researchers ask for research; everyone else for care. */
export const purposeOf = (s: Subject) =>
  s.roles.includes('researcher') ? { purpose: 'research' as const } : {};

/**
 * Which patients and which categories of Observation a search may return. With a patient: the categories
 * the policy allows for them (none: 403, with the reason, audited). Without: every patient the caller may
 * see all of; a patient whose consent withholds part of their data is left out of cross-patient searches
 * (search them by name to get what is allowed).
 */
export async function observationScope(
  req: FastifyRequest,
  guard: AccessGuard,
  patientId: string | undefined,
) {
  const subject = await guard.subject(req);
  const ask = (p: string, category: DataCategory) =>
    guard.decide(subject, {
      action: 'search',
      resourceType: 'Observation',
      patientId: p,
      category,
      ...purposeOf(subject),
    });
  if (patientId !== undefined) {
    const allowed: DataCategory[] = [];
    for (const c of OBSERVATION_CATEGORIES) if ((await ask(patientId, c)).allow) allowed.push(c);
    if (allowed.length === 0)
      await guard.check(req, {
        action: 'search',
        resourceType: 'Observation',
        patientId,
        ...purposeOf(subject),
      });
    return { subject, patientId, categories: allowed };
  }
  const visible = await guard.patientsVisibleTo(subject);
  if (visible === 'all') return { subject, categories: OBSERVATION_CATEGORIES };
  const patientIds: string[] = [];
  for (const p of visible) {
    const all = await Promise.all(OBSERVATION_CATEGORIES.map((c) => ask(p, c)));
    if (all.every((d) => d.allow)) patientIds.push(p);
  }
  return { subject, patientIds, categories: OBSERVATION_CATEGORIES };
}

const CATEGORY_SYSTEMS = [
  'http://terminology.hl7.org/CodeSystem/observation-category',
  'https://openiomt.org/fhir/CodeSystem/data-category',
];

/** `category=vital-signs,waveforms` (with or without a system) as data categories; 400 when unknown. */
export function categoryParam(value: string | undefined): DataCategory[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').map((token) => {
    const bar = token.indexOf('|');
    const system = bar < 0 ? undefined : token.slice(0, bar);
    const code = bar < 0 ? token : token.slice(bar + 1);
    if (
      (system !== undefined && system !== '' && !CATEGORY_SYSTEMS.includes(system)) ||
      !OBSERVATION_CATEGORIES.includes(code as DataCategory)
    )
      throw badRequest(`category must be one of ${OBSERVATION_CATEGORIES.join(', ')}`, 'category');
    return code as DataCategory;
  });
}

/** `code` tokens (8867-4, http://loinc.org|8867-4, a catalogue code; comma = or) as index codes. */
export const codeParam = (value: string | undefined): string[] | undefined =>
  value === undefined ? undefined : [...new Set(value.split(',').flatMap(observationCodesForToken))];

/** The index codes to search: those asked for (or all), within the allowed and asked categories. */
export function narrowCodes(
  requested: string[] | undefined,
  allowed: readonly DataCategory[],
  asked: readonly DataCategory[] | undefined,
): string[] | undefined {
  const categories = asked ? allowed.filter((c) => asked.includes(c)) : allowed;
  if (categories.length === OBSERVATION_CATEGORIES.length) return requested;
  return (requested ?? indexedObservationCodes()).filter((c) => categories.includes(categoryOfCode(c)));
}

/** The category of a stored Observation: waveforms carry SampledData; otherwise by its code. */
export function categoryOfObservation(o: Record<string, unknown>): DataCategory {
  if (o.valueSampledData !== undefined) return 'waveforms';
  const coding = ((o.code as { coding?: { system?: string; code?: string }[] } | undefined)?.coding ?? [])[0];
  const codes = coding ? observationCodesForToken(`${coding.system ?? ''}|${coding.code ?? ''}`) : [];
  return codes.length > 0 ? categoryOfCode(codes[0] as string) : 'vital-signs';
}

/** Marks a Patient shown without its identity (the caller may see the data, not who it is about). */
const PSEUDONYMISED = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'PSEUDED',
  display: 'pseudonymized',
};

/**
 * The Patient as this caller may see it: with demographics when the policy allows reading the Patient,
 * otherwise only its pseudonymous id (for callers who may see some of its data). Undefined when the
 * patient does not exist.
 */
export async function patientFor(
  store: Store,
  guard: AccessGuard,
  subject: Subject,
  patientId: string,
): Promise<{ resource: Record<string, unknown>; identified: boolean } | undefined> {
  const decision = await guard.decide(subject, { action: 'read', resourceType: 'Patient', patientId });
  if (decision.allow) {
    const p = await store.patients.get(patientId);
    return p
      ? { resource: patientResource(p) as unknown as Record<string, unknown>, identified: true }
      : undefined;
  }
  if (!(await store.patients.get(patientId))) return undefined;
  return {
    resource: {
      ...(patientResource({ id: patientId }) as unknown as Record<string, unknown>),
      identifier: [{ system: PATIENT_IDENTIFIER_SYSTEM, value: patientId }],
      meta: { security: [PSEUDONYMISED] },
    },
    identified: false,
  };
}

/** The patient a device is assigned to now, if any. */
export async function currentPatientOf(store: Store, deviceId: string): Promise<string | undefined> {
  const { rows } = await store.db.query<{ patient_id: string }>(
    `SELECT patient_id FROM device_assignments
      WHERE device_id = $1 AND from_at <= now() AND (to_at IS NULL OR to_at > now())`,
    [deviceId],
  );
  return rows[0]?.patient_id;
}

/**
 * A device as FHIR for this caller: its link to a patient only when the caller may read that patient's
 * devices (the registry itself is readable by staff; which patient wears what is not theirs to know).
 */
export async function deviceFor(store: Store, guard: AccessGuard, subject: Subject, deviceId: string) {
  return (await deviceShown(store, guard, subject, deviceId))?.resource;
}

/** The Device as this subject may see it, with the patient it names (a disclosure to audit), if any. */
export async function deviceShown(
  store: Store,
  guard: AccessGuard,
  subject: Subject,
  deviceId: string,
): Promise<{ resource: Record<string, unknown>; patientId?: string } | undefined> {
  const d = await store.devices.get(deviceId);
  if (!d) return undefined;
  const patientId = await currentPatientOf(store, deviceId);
  const showPatient =
    patientId !== undefined &&
    (await guard.decide(subject, { action: 'read', resourceType: 'Device', patientId })).allow;
  const resource = deviceResource({
    id: d.id,
    kind: d.kind,
    status: d.status,
    ...(d.model ? { model: d.model } : {}),
    ...(d.manufacturer ? { manufacturer: d.manufacturer } : {}),
    ...(d.firmware ? { firmware: d.firmware } : {}),
    ...(showPatient ? { patientId } : {}),
  }) as unknown as Record<string, unknown>;
  return showPatient ? { resource, patientId } : { resource };
}
