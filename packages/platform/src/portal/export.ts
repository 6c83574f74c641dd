/**
 * A patient's data as one FHIR R4 Bundle of type collection (GDPR Art. 15/20: access and portability),
 * written as it is read: every list is paged through the store 1000 at a time and each page is sent before
 * the next is asked for, so a patient with 100k Observations costs a page of memory, not the whole history.
 *
 * What goes in is decided per resource by the access policy, for the caller: the Observation categories
 * they may export (consent can withhold some from staff and caregivers), the Patient's identity when they
 * may read demographics (else the pseudonymous Patient, so references still resolve), Flags (alarms),
 * Communications (alarm notifications and secure messages) and the Consent when they may read those.
 */
import { randomUUID } from 'node:crypto';
import type { AccessRequest, Decision } from '@openiomt/core';
import {
  type Alarm,
  alarmToFlag,
  categoryOfCode,
  type DataCategory,
  indexedObservationCodes,
  notificationToCommunication,
  patientResource,
} from '@openiomt/core';
import { isErased } from '../store/patient-data-key.ts';
import { provenanceOfObservations } from '../store/patient-export.ts';
import { decodeCursor } from '../store/sql.ts';
import type { Store } from '../store/types.ts';
import { consentResource, messageCommunication } from './fhir.ts';

export const EXPORT_PAGE = 1000;
export const OBSERVATION_CATEGORIES: readonly DataCategory[] = ['vital-signs', 'waveforms', 'activity'];

export interface ExportPlan {
  readonly patientId: string;
  /** Observation categories the caller may export; never empty (the route refuses the export then). */
  readonly observationCategories: readonly DataCategory[];
  /** Identity (name, identifier, contacts) or only the pseudonymous id. */
  readonly demographics: boolean;
  readonly flags: boolean;
  readonly communications: boolean;
  readonly consent: boolean;
}

type Decide = (request: Omit<AccessRequest, 'subject'>) => Promise<Decision>;

/** What this caller may take out of the patient's record, asked of the policy resource by resource. */
export async function planExport(decide: Decide, patientId: string): Promise<ExportPlan> {
  const observationCategories: DataCategory[] = [];
  for (const category of OBSERVATION_CATEGORIES)
    if ((await decide({ action: 'export', resourceType: 'Observation', patientId, category })).allow)
      observationCategories.push(category);
  // The core policy defines 'export' for Observations only: the rest of the record goes with 'read'.
  const may = async (resourceType: 'Patient' | 'Flag' | 'Communication' | 'Consent') =>
    (await decide({ action: 'read', resourceType, patientId })).allow;
  return {
    patientId,
    observationCategories,
    demographics: await may('Patient'),
    flags: await may('Flag'),
    communications: await may('Communication'),
    consent: await may('Consent'),
  };
}

/** The resource types the plan puts in (for the audit record). */
export const plannedTypes = (p: ExportPlan): string[] => [
  'Patient',
  'Observation',
  'Provenance',
  ...(p.flags ? ['Flag'] : []),
  ...(p.communications ? ['Communication'] : []),
  ...(p.consent ? ['Consent'] : []),
];

/** The index codes to list: all (undefined) or those of the allowed categories. */
function observationCodes(categories: readonly DataCategory[]): string[] | undefined {
  if (categories.length === OBSERVATION_CATEGORIES.length) return undefined;
  return indexedObservationCodes().filter((c) => categories.includes(categoryOfCode(c)));
}

/**
 * The Bundle as JSON text in pieces. `base` is the FHIR base URL that entries' fullUrls are made from.
 * An error part-way ends the stream (the client gets invalid JSON, never a plausible partial Bundle).
 */
export async function* exportBundle(
  store: Store,
  plan: ExportPlan,
  o: { base: string; now?: Date },
): AsyncGenerator<string> {
  const { patientId } = plan;
  const at = (o.now ?? new Date()).toISOString();
  let first = true;
  const entry = (resource: Record<string, unknown>): string => {
    const text = JSON.stringify({ fullUrl: `${o.base}/${resource.resourceType}/${resource.id}`, resource });
    const sep = first ? '' : ',';
    first = false;
    return sep + text;
  };
  yield `{"resourceType":"Bundle","id":"${randomUUID()}","meta":{"lastUpdated":"${at}"},"type":"collection","timestamp":"${at}","entry":[`;

  const patient = await store.patients.get(patientId);
  yield entry(
    patientResource(plan.demographics && patient ? patient : { id: patientId }) as unknown as Record<
      string,
      unknown
    >,
  );
  if (plan.consent) {
    const consent = await store.access.consent(patientId);
    if (consent) yield entry(consentResource(consent));
  }

  // Observations and their Provenance, one page at a time; a Provenance covering two pages goes once.
  const codes = observationCodes(plan.observationCategories);
  const provenanceSent = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await store.observations.list({
      patientId,
      limit: EXPORT_PAGE,
      ...(codes ? { codes } : {}),
      ...(cursor ? { cursor } : {}),
    });
    if (page.items.length > 0) yield page.items.map(entry).join('');
    const provenance = await provenanceOfObservations(
      store.db,
      page.items.map((r) => r.id as string),
    );
    const fresh = provenance.filter((p) => !provenanceSent.has(p.id as string));
    for (const p of fresh) provenanceSent.add(p.id as string);
    if (fresh.length > 0) yield fresh.map(entry).join('');
    cursor = page.next;
  } while (cursor);

  if (plan.flags) {
    cursor = undefined;
    do {
      const page = await store.alarms.list({ patientId, limit: EXPORT_PAGE, ...(cursor ? { cursor } : {}) });
      if (page.items.length > 0)
        yield page.items.map((a) => entry(alarmToFlag(a) as unknown as Record<string, unknown>)).join('');
      cursor = page.next;
    } while (cursor);
  }

  if (plan.communications) {
    yield* alarmCommunications(store, patientId, entry);
    if ((await isErased(store.db, patientId)) === false)
      yield* messageCommunications(store, patientId, entry);
  }
  yield ']}';
}

type Entry = (resource: Record<string, unknown>) => string;

/** Alarm notifications as Communications about their Flag (alarms looked up once per page). */
async function* alarmCommunications(store: Store, patientId: string, entry: Entry): AsyncGenerator<string> {
  let cursor: string | undefined;
  do {
    const page = await store.alarms.notifications({
      patientId,
      limit: EXPORT_PAGE,
      ...(cursor ? { cursor } : {}),
    });
    const alarms = new Map<string, Alarm>();
    for (const id of new Set(page.items.map((n) => n.alarmId))) {
      const a = await store.alarms.get(id);
      if (a) alarms.set(id, a.alarm);
    }
    const parts = page.items.flatMap((n) => {
      const a = alarms.get(n.alarmId);
      return a ? [entry(notificationToCommunication(n, a) as unknown as Record<string, unknown>)] : [];
    });
    if (parts.length > 0) yield parts.join('');
    cursor = page.next;
  } while (cursor);
}

/** Secure messages, decrypted with the patient's key, newest first, with their senders' display names. */
async function* messageCommunications(store: Store, patientId: string, entry: Entry): AsyncGenerator<string> {
  const names = new Map<string, string | undefined>();
  let before: { at: string; id: string } | undefined;
  do {
    const page = await store.messages.list({ patientId, limit: EXPORT_PAGE, ...(before ? { before } : {}) });
    for (const m of page.items)
      if (!names.has(m.senderUserId))
        names.set(m.senderUserId, (await store.users.get(m.senderUserId))?.displayName);
    if (page.items.length > 0)
      yield page.items.map((m) => entry(messageCommunication(m, names.get(m.senderUserId)))).join('');
    before = page.next ? decodeCursor(page.next) : undefined;
  } while (before);
}
