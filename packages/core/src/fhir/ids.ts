import { createHash } from 'node:crypto';

/** A FHIR R4 resource id: letters, digits, '-' and '.', at most 64. */
export const FHIR_ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * A name-based UUID (RFC 9562 §5.8 style, version 8, from SHA-256). The same name always gives the same
 * id, so a redelivered message maps to the same resources and the store can upsert them.
 */
export function nameBasedUuid(name: string): string {
  const b = createHash('sha256').update(`openiomt:${name}`).digest().subarray(0, 16);
  return uuidText(b, 0x80); // version 8: custom (hash-based, SHA-256)
}

/** The 16 bytes as a UUID of `version` (its high nibble), variant 10 (RFC 4122/9562). */
function uuidText(b: Buffer, version: number): string {
  b[6] = ((b[6] ?? 0) & 0x0f) | version;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const MAX_UUID7_MS = 2 ** 48 - 1;

/**
 * A name-based UUID laid out as RFC 9562 version 7: the first 48 bits are `timeMs` (clamped to what they
 * can hold), the other 74 come from SHA-256 of the name instead of a random source, so the same name and
 * time always give the same id. Ids made in time order sort in time order, which keeps a database index
 * on them appending at its end instead of touching a random page for every row.
 */
export function timeOrderedNameBasedUuid(timeMs: number, name: string): string {
  const b = createHash('sha256').update(`openiomt:${name}`).digest().subarray(0, 16);
  const ms = Number.isFinite(timeMs) ? Math.min(Math.max(Math.floor(timeMs), 0), MAX_UUID7_MS) : 0;
  b.writeUIntBE(ms, 0, 6);
  return uuidText(b, 0x70); // version 7: Unix time first
}

/** Which reading a device Observation id is made from: its device, sequence number and signed time. */
export interface ReadingRef {
  readonly device: string;
  readonly seq: number;
  /** The reading's time (the message ts, RFC 3339). */
  readonly ts: string;
}

/**
 * How a reading's Observation ids are made. 'time-ordered' (since stop 15): version 7, led by the
 * reading's time. 'hashed': version 8, a hash alone; readings stored before then keep these ids, because
 * an id, once given out, must go on naming the same Observation.
 */
export type ObservationIdScheme = 'time-ordered' | 'hashed';

/** The id of the Observation made from item `index` of a reading (vitals first, then waveforms). */
export function observationId(
  reading: ReadingRef,
  index: number,
  scheme: ObservationIdScheme = 'time-ordered',
): string {
  const name = `observation:${reading.device}/${reading.seq}/${index}`;
  return scheme === 'hashed' ? nameBasedUuid(name) : timeOrderedNameBasedUuid(Date.parse(reading.ts), name);
}

/** The scheme a device Observation id was made by, read from its UUID version digit. */
export function observationIdScheme(id: string): ObservationIdScheme {
  return id.charAt(14) === '8' ? 'hashed' : 'time-ordered';
}

/**
 * The id of an Observation the platform derived from a device's waveform: one per (device, analysed window
 * start, derived code), so analysing the same stretch again (after a restart) gives the same id.
 */
export function derivedObservationId(deviceId: string, windowStartMs: number, code: string): string {
  return timeOrderedNameBasedUuid(windowStartMs, `derived:${deviceId}/${windowStartMs}/${code}`);
}

/** The id of the Provenance that signs a reading. */
export function provenanceId(deviceId: string, seq: number): string {
  return nameBasedUuid(`provenance:${deviceId}/${seq}`);
}

/**
 * The FHIR id of a platform entity. Device ids may hold '_' (not allowed in FHIR ids); such ids, and any
 * other that is no valid FHIR id, become a name-based UUID. The entity's own id stays in an identifier.
 */
export function fhirId(resourceType: 'Device' | 'Patient' | 'Flag' | 'Communication', id: string): string {
  return FHIR_ID_PATTERN.test(id) ? id : nameBasedUuid(`${resourceType}:${id}`);
}

export const deviceReference = (deviceId: string): string => `Device/${fhirId('Device', deviceId)}`;
export const patientReference = (patientId: string): string => `Patient/${fhirId('Patient', patientId)}`;
