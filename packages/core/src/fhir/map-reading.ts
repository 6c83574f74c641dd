import type { ReadingMessage } from '../message/reading.ts';
import type { ObservationIdScheme } from './ids.ts';
import { type MappedObservation, mapObservations } from './observation.ts';
import { provenanceResource } from './provenance.ts';
import type { Provenance } from './types.ts';

export interface MappedReading {
  observations: MappedObservation[];
  provenance: Provenance;
}

export interface ReadingToMap {
  readonly message: ReadingMessage;
  readonly patientId: string;
  /** Key id from the JWS header (the device key's thumbprint). */
  readonly kid: string;
  /** The compact JWS exactly as received. */
  readonly jws: string;
  /** When the platform received it (FHIR instant). */
  readonly receivedAt: string;
  /** How its Observation ids are made: 'hashed' only for readings stored with such ids (see ids.ts). */
  readonly idScheme?: ObservationIdScheme;
}

/**
 * A verified reading as FHIR R4: one Observation per vital (a systolic/diastolic pair at one time is one
 * bp panel), one per waveform chunk, and one Provenance carrying the device's signature. Pure and
 * deterministic: the same input gives the same resources and ids.
 */
export function mapReading(input: ReadingToMap): MappedReading {
  const observations = mapObservations(input.message, input.patientId, input.idScheme);
  const provenance = provenanceResource({
    message: input.message,
    observationIds: observations.map((o) => o.id),
    kid: input.kid,
    jws: input.jws,
    receivedAt: input.receivedAt,
  });
  return { observations, provenance };
}
