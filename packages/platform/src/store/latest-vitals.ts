/**
 * The latest stored value of chosen vital signs of a patient: what NEWS2 needs after a restart, when the
 * rules' memory is empty. Found through the observation index, then read from the signed message itself
 * (the one stored truth).
 */
import {
  BLOOD_PRESSURE_PANEL_CODE,
  decodeReading,
  isVitalCode,
  parseCompactJws,
  VITALS,
  type VitalCode,
  type VitalSample,
} from '@openiomt/core';
import { requireInstant } from './sql.ts';
import type { Database } from './types.ts';

export interface LatestVital {
  readonly code: VitalSample['code'];
  readonly value: VitalSample['value'];
  /** Measurement time, epoch ms. */
  readonly at: number;
}

export interface LatestVitalsRepository {
  /** For each index code, the newest reading since `since` that carries it; its matching vitals. */
  latest(patientId: string, indexCodes: readonly string[], since: string): Promise<LatestVital[]>;
  /** The same for many patients in two queries; every patient asked for has an entry. */
  latestMany(
    patientIds: readonly string[],
    indexCodes: readonly string[],
    since: string,
  ): Promise<Map<string, LatestVital[]>>;
}

export function latestVitalsRepository(db: Database): LatestVitalsRepository {
  const latestMany: LatestVitalsRepository['latestMany'] = async (patientIds, indexCodes, since) => {
    requireInstant(since, 'since');
    const patients = [...new Set(patientIds)];
    const codes = [...new Set(indexCodes)];
    // One index probe per patient and code, newest first. DISTINCT ON read (and joined to its reading) every
    // row of the look-back before keeping one per code: ~0.5 s for a patient with 12 h of one-per-second
    // readings, paid by every patient the rules load after a restart (bench/latest-vitals.bench.ts).
    const { rows } = await db.query<{ patient_id: string; code: string; jws: string }>(
      `SELECT p.patient_id, o.code, r.jws
         FROM unnest($1::text[]) AS p(patient_id)
         CROSS JOIN unnest($2::text[]) AS c(code)
         CROSS JOIN LATERAL (SELECT code, device_id, seq FROM observations
                              WHERE patient_id = p.patient_id AND code = c.code AND effective >= $3
                              ORDER BY effective DESC LIMIT 1) o
         JOIN readings r ON r.device_id = o.device_id AND r.seq = o.seq`,
      [patients, codes, since],
    );
    const found = await enteredLatest(db, patients, codes, since);
    const wanted = new Set(indexCodes);
    for (const row of rows) {
      const out = found.get(row.patient_id) ?? [];
      found.set(row.patient_id, out);
      out.push(...readingVitals(row.code, row.jws, wanted));
    }
    return new Map(patients.map((id) => [id, newestPerCode(found.get(id) ?? [])]));
  };
  return {
    async latest(patientId, indexCodes, since) {
      return (await latestMany([patientId], indexCodes, since)).get(patientId) ?? [];
    },
    latestMany,
  };
}

/** The vitals of a stored signed reading that the index code found it by stands for. */
function readingVitals(indexCode: string, compact: string, wanted: ReadonlySet<string>): LatestVital[] {
  const jws = parseCompactJws(compact);
  if (!jws.ok) return [];
  const message = decodeReading(jws.value.payload);
  if (!message.ok) return [];
  const out: LatestVital[] = [];
  for (const v of message.value.vitals) {
    const inPanel = indexCode === 'blood-pressure' && v.code.startsWith('bp-');
    if (v.code !== indexCode && !inPanel) continue;
    if (!wanted.has(v.code) && !inPanel) continue;
    out.push({ code: v.code, value: v.value, at: Date.parse(v.at ?? message.value.ts) });
  }
  return out;
}

/** The newest entered Observation of each index code (device_id '' in derived_observations), by patient. */
async function enteredLatest(
  db: Database,
  patientIds: readonly string[],
  indexCodes: readonly string[],
  since: string,
): Promise<Map<string, LatestVital[]>> {
  const { rows } = await db.query<{
    patient_id: string;
    code: string;
    resource: Record<string, unknown> | string;
  }>(
    `SELECT p.patient_id, d.code, d.resource
       FROM unnest($1::text[]) AS p(patient_id)
       CROSS JOIN unnest($2::text[]) AS c(code)
       CROSS JOIN LATERAL (SELECT code, resource FROM derived_observations
                            WHERE patient_id = p.patient_id AND device_id = '' AND code = c.code
                              AND effective >= $3
                            ORDER BY effective DESC LIMIT 1) d`,
    [patientIds, indexCodes, since],
  );
  const found = new Map<string, LatestVital[]>();
  for (const row of rows) {
    const resource = typeof row.resource === 'string' ? JSON.parse(row.resource) : row.resource;
    const out = found.get(row.patient_id) ?? [];
    found.set(row.patient_id, out);
    out.push(...enteredVitals(row.code, resource));
  }
  return found;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The vitals of an entered Observation as stored (fhir/observation-entry.ts made it from the catalogue). */
export function enteredVitals(indexCode: string, resource: Json): LatestVital[] {
  const at = Date.parse(String(resource.effectiveDateTime));
  if (!Number.isFinite(at)) return [];
  if (indexCode === BLOOD_PRESSURE_PANEL_CODE) {
    const components = Array.isArray(resource.component) ? resource.component : [];
    return components.flatMap((c) => {
      const code = isObject(c) ? bpComponentCode(c) : undefined;
      const value = code && vitalValue(code, c as Json);
      return code && value !== undefined ? [{ code, value, at }] : [];
    });
  }
  if (!isVitalCode(indexCode)) return [];
  const value = vitalValue(indexCode, resource);
  return value === undefined ? [] : [{ code: indexCode, value, at }];
}

function bpComponentCode(component: Json): VitalCode | undefined {
  const coding =
    isObject(component.code) && Array.isArray(component.code.coding) ? component.code.coding : [];
  const loinc = coding.map((c) => (isObject(c) ? c.code : undefined));
  return (['bp-systolic', 'bp-diastolic', 'bp-mean'] as const).find((k) =>
    VITALS[k].codings.some((c) => loinc.includes(c.code)),
  );
}

function vitalValue(code: VitalCode, holder: Json): VitalSample['value'] | undefined {
  const def = VITALS[code];
  if (def.valueKind === 'quantity') {
    const v = isObject(holder.valueQuantity) ? holder.valueQuantity.value : undefined;
    return typeof v === 'number' ? v : undefined;
  }
  if (def.valueKind === 'boolean')
    return typeof holder.valueBoolean === 'boolean' ? holder.valueBoolean : undefined;
  const cc = holder.valueCodeableConcept;
  const coded =
    isObject(cc) && Array.isArray(cc.coding) && isObject(cc.coding[0]) ? cc.coding[0].code : undefined;
  return Object.entries(def.answerCodings ?? {}).find(([, c]) => c.code === coded)?.[0];
}

/** Of a device's and an entered value for the same vital, the newer counts. */
function newestPerCode(vitals: readonly LatestVital[]): LatestVital[] {
  const newest = new Map<string, LatestVital>();
  for (const v of vitals) {
    const seen = newest.get(v.code);
    if (!seen || v.at > seen.at) newest.set(v.code, v);
  }
  return [...newest.values()];
}
