import { LOINC, type VitalCode } from '../codes/vitals.ts';
import type { CodeableConcept, Coding } from './types.ts';

/** FHIR R4 core profiles for vital signs (http://hl7.org/fhir/R4/observation-vitalsigns.html). */
const SD = 'http://hl7.org/fhir/StructureDefinition';
export const VITAL_SIGNS_PROFILES = {
  vitalsigns: `${SD}/vitalsigns`,
  heartrate: `${SD}/heartrate`,
  oxygensat: `${SD}/oxygensat`,
  resprate: `${SD}/resprate`,
  bodytemp: `${SD}/bodytemp`,
  bp: `${SD}/bp`,
} as const;

export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export type ObservationCategory = 'vital-signs' | 'activity' | 'survey' | 'procedure';
const CATEGORY_DISPLAY: Record<ObservationCategory, string> = {
  'vital-signs': 'Vital Signs',
  activity: 'Activity',
  survey: 'Survey',
  procedure: 'Procedure',
};

export const categoryConcept = (code: ObservationCategory): CodeableConcept => ({
  coding: [{ system: OBSERVATION_CATEGORY, code, display: CATEGORY_DISPLAY[code] }],
});

/** The panel the bp profile requires, and its two mandatory components (plus mean, optional). */
export const BP_PANEL: Coding = {
  system: LOINC,
  code: '85354-9',
  display: 'Blood pressure panel with all children optional',
};
/** MappedReading code of a merged systolic/diastolic pair (the catalogue has no entry for the panel). */
export const BLOOD_PRESSURE_PANEL_CODE = 'blood-pressure';

/**
 * The specific vital-signs profile a single-value Observation of each vital conforms to. Vitals whose code
 * is in the vital-signs value set but have no specific profile get the base one; the rest none.
 */
export const VITAL_PROFILE: Readonly<Partial<Record<VitalCode, string>>> = {
  'heart-rate': VITAL_SIGNS_PROFILES.heartrate,
  'pulse-rate': VITAL_SIGNS_PROFILES.heartrate,
  spo2: VITAL_SIGNS_PROFILES.oxygensat,
  'respiratory-rate': VITAL_SIGNS_PROFILES.resprate,
  'body-temperature': VITAL_SIGNS_PROFILES.bodytemp,
  'bp-systolic': VITAL_SIGNS_PROFILES.vitalsigns,
  'bp-diastolic': VITAL_SIGNS_PROFILES.vitalsigns,
  'bp-mean': VITAL_SIGNS_PROFILES.vitalsigns,
};

/** Signed-data identifiers (urn:iso-astm:E1762-95:2013) for Provenance.signature.type. */
export const VERIFICATION_SIGNATURE: Coding = {
  system: 'urn:iso-astm:E1762-95:2013',
  code: '1.2.840.10065.1.12.1.5',
  display: 'Verification Signature',
};

/** Identifier system of an Observation: `${deviceId}/${seq}/${index}` names the item it came from. */
export const READING_IDENTIFIER_SYSTEM = 'urn:openiomt:reading';
/** Identifier system of a Device: the platform's device id (which may not be a valid FHIR id). */
export const DEVICE_IDENTIFIER_SYSTEM = 'urn:openiomt:device';
export const PATIENT_IDENTIFIER_SYSTEM = 'urn:openiomt:patient';
/** Extension on Provenance.signature naming the JWS key id (the device key's RFC 7638 thumbprint). */
export const JWS_KID_EXTENSION = 'https://openiomt.org/fhir/StructureDefinition/jws-kid';
