import { createHash } from 'node:crypto';

/** A FHIR R4 resource id: letters, digits, '-' and '.', at most 64. */
export const FHIR_ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * A name-based UUID (RFC 9562 §5.8 style, version 8, from SHA-256). The same name always gives the same
 * id, so a redelivered message maps to the same resources and the store can upsert them.
 */
export function nameBasedUuid(name: string): string {
  const b = createHash('sha256').update(`openiomt:${name}`).digest().subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x80; // version 8: custom (hash-based, SHA-256)
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80; // variant 10 (RFC 4122/9562)
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The id of the Observation made from item `index` of a reading (vitals first, then waveforms). */
export function observationId(deviceId: string, seq: number, index: number): string {
  return nameBasedUuid(`observation:${deviceId}/${seq}/${index}`);
}

/**
 * The id of an Observation the platform derived from a device's waveform: one per (device, analysed window
 * start, derived code), so analysing the same stretch again (after a restart) gives the same id.
 */
export function derivedObservationId(deviceId: string, windowStartMs: number, code: string): string {
  return nameBasedUuid(`derived:${deviceId}/${windowStartMs}/${code}`);
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
