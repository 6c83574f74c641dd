export * from './ids.ts';
export * from './map-reading.ts';
export * from './observation.ts';
export * from './observation-index.ts';
export * from './profiles.ts';
export * from './provenance.ts';
export * from './resources.ts';
export type * as Fhir from './types.ts';
export type { Device, Observation, Patient, Provenance, SampledData } from './types.ts';
