export * from './alarm.ts';
export * from './audit-event.ts';
export * from './code-search.ts';
export * from './derived.ts';
export * from './ids.ts';
export * from './map-reading.ts';
export * from './observation.ts';
export * from './observation-index.ts';
export * from './profiles.ts';
export * from './provenance.ts';
export * from './resources.ts';
export * from './subscription-criteria.ts';
export type * as Fhir from './types.ts';
export type {
  Communication,
  Device,
  Flag,
  Observation,
  Patient,
  Provenance,
  SampledData,
} from './types.ts';
export * from './vitalsigns-profile.ts';
