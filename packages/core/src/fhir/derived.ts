/**
 * Observations the platform derives from a device's waveforms (heart rate and HRV from ECG, pulse rate from
 * PPG, respiratory rate from the respiration wave, the AF screening call), and the Provenance that says what
 * they were derived from and by which algorithm version. Pure and deterministic: the same analysed window
 * gives the same resources and ids, so analysing a stretch again after a restart stores nothing twice.
 */
import { type Coding, LOINC, SNOMED, UCUM, VITALS, WAVEFORMS, type WaveformCode } from '../codes/vitals.ts';
import { derivedObservationId, deviceReference, patientReference } from './ids.ts';
import { categoryConcept, type ObservationCategory, VITAL_SIGNS_PROFILES } from './profiles.ts';
import type { CodeableConcept, Observation, Provenance, Reference } from './types.ts';

/** The kinds of waveform analysed, as the signal package names them. */
export type DerivedWaveformKind = 'ecg' | 'ppg' | 'resp';

/**
 * What the analyser reports for one window (structurally the signal package's WindowResult; core uses no
 * other package of ours, so the shape is repeated here).
 */
export interface DerivedWindow {
  readonly kind: DerivedWaveformKind;
  readonly startMs: number;
  readonly endMs: number;
  /** Signal quality 0..1. */
  readonly quality: number;
  readonly leadOff: boolean;
  /** Beats, pulses or breaths per minute; absent when the window could not be measured. */
  readonly rate?: number;
  /** Time-domain HRV over the `spanMs` that ends at endMs (ECG). */
  readonly hrv?: {
    readonly sdnnMs: number;
    readonly rmssdMs: number;
    readonly pnn50: number;
    readonly beats: number;
    readonly spanMs: number;
  };
  /** The AF screening call over the stretch ending at endMs (ECG). */
  readonly rhythm?: 'af-suspected' | 'not-af';
}

/** A stored waveform Observation the window was computed from, with the stretch it covers (epoch ms). */
export interface DerivedSource {
  readonly id: string;
  readonly startMs: number;
  readonly endMs: number;
}

export interface DerivedInput {
  readonly deviceId: string;
  readonly patientId: string;
  /** The catalogue waveform analysed (ecg-ii, ppg, respiration, ...). */
  readonly sourceCode: WaveformCode;
  readonly window: DerivedWindow;
  /** Source waveform Observations covering (at least) the analysed stretches; others are left out. */
  readonly sources: readonly DerivedSource[];
  /** Version of the analysis software (the signal package's WAVEFORM_ANALYSIS_VERSION). */
  readonly algorithmVersion: string;
  /** When the platform derived them (FHIR instant). */
  readonly recorded: string;
  /** How far back the rate looked (ms before endMs), when longer than the window (respiration). */
  readonly rateSpanMs?: number;
  /** How far back the rhythm call looked (ms before endMs); defaults to the HRV span, else the window. */
  readonly rhythmSpanMs?: number;
}

export const DERIVED_CODES = [
  'heart-rate',
  'pulse-rate',
  'respiratory-rate',
  'hrv-sdnn',
  'hrv-rmssd',
  'heart-rhythm',
] as const;
export type DerivedCode = (typeof DERIVED_CODES)[number];

export interface MappedDerivedObservation {
  readonly id: string;
  readonly code: DerivedCode;
  /** Start of the analysed stretch (what the store indexes and searches by date). */
  readonly effective: string;
  readonly resource: Observation;
}

export interface MappedDerived {
  /** The window's rate Observation first (always present: a value, or why there is none). */
  readonly observations: MappedDerivedObservation[];
  readonly provenance: Provenance;
}

/** Code system of measures no standard terminology codes yet (see RMSSD below). */
export const DERIVED_MEASURE_SYSTEM = 'https://openiomt.org/fhir/CodeSystem/derived-measure';
/** Identifier system of a derived Observation: `${deviceId}/${windowStartMs}/${code}`. */
export const DERIVED_IDENTIFIER_SYSTEM = 'urn:openiomt:derived';
/** Identifier system naming the platform's software that derived an Observation. */
export const SOFTWARE_IDENTIFIER_SYSTEM = 'urn:openiomt:software';

const PARTICIPANT_TYPE = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
const DATA_ABSENT_REASON = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
/**
 * Provenance.activity: v3-DataOperation has no DERIVE code (only CREATE, UPDATE, DELETE, EXECUTE, ...), and
 * the W3C PROV activity "Derivation" (wasDerivedFrom) is exactly this; R4's binding is extensible.
 */
const DERIVATION_ACTIVITY: Coding = {
  system: 'http://hl7.org/fhir/w3c-provenance-activity-type',
  code: 'Derivation',
  display: 'wasDerivedFrom',
};

interface DerivedDefinition {
  readonly display: string;
  readonly codings: readonly Coding[];
  readonly unit: string;
  readonly unitDisplay: string;
  readonly category: ObservationCategory;
  readonly profile?: string;
  /** Values outside are not plausible and are reported as not measured. */
  readonly min: number;
  readonly max: number;
}

const rateDefinition = (code: 'heart-rate' | 'pulse-rate' | 'respiratory-rate', profile: string) => {
  const def = VITALS[code];
  return {
    display: def.display,
    codings: def.codings,
    unit: def.unit as string,
    unitDisplay: def.unitDisplay as string,
    category: 'vital-signs' as const,
    profile,
    min: def.min as number,
    max: def.max as number,
  };
};

const DEFINITIONS: Readonly<Record<Exclude<DerivedCode, 'heart-rhythm'>, DerivedDefinition>> = {
  'heart-rate': rateDefinition('heart-rate', VITAL_SIGNS_PROFILES.heartrate),
  // Pulse rate from a PPG: LOINC 8889-8 (heart rate by pulse oximetry) and MDC_PULS_OXIM_PULS_RATE, with
  // 8867-4 as well because the heart-rate vital-signs profile requires it (as the catalogue's pulse-rate).
  'pulse-rate': rateDefinition('pulse-rate', VITAL_SIGNS_PROFILES.heartrate),
  'respiratory-rate': rateDefinition('respiratory-rate', VITAL_SIGNS_PROFILES.resprate),
  'hrv-sdnn': {
    display: 'Heart rate variability (SDNN)',
    codings: [
      { system: LOINC, code: '80404-7', display: 'R-R interval.standard deviation (Heart rate variability)' },
    ],
    unit: 'ms',
    unitDisplay: 'ms',
    category: 'procedure',
    min: 0,
    max: 10_000,
  },
  // RMSSD has no LOINC code (LOINC has SDNN, 80404-7, but no RMSSD term), and we found no IEEE 11073-10101
  // (MDC) term for it we could verify; a made-up MDC number would mislead receivers. So it carries the
  // platform's own code and says in text what it is; a standard code can be added beside it once one exists.
  'hrv-rmssd': {
    display: 'Heart rate variability (RMSSD)',
    codings: [
      {
        system: DERIVED_MEASURE_SYSTEM,
        code: 'hrv-rmssd',
        display: 'Root mean square of successive R-R interval differences (RMSSD)',
      },
    ],
    unit: 'ms',
    unitDisplay: 'ms',
    category: 'procedure',
    min: 0,
    max: 10_000,
  },
};

const RHYTHM_CODE: Coding = { system: LOINC, code: '8884-9', display: 'Heart rate rhythm' };
const AF: Coding = { system: SNOMED, code: '49436004', display: 'Atrial fibrillation' };

/** The catalogue codings of each derived code (also used to answer FHIR token searches). */
export const DERIVED_CODINGS: Readonly<Record<DerivedCode, readonly Coding[]>> = {
  'heart-rate': DEFINITIONS['heart-rate'].codings,
  'pulse-rate': DEFINITIONS['pulse-rate'].codings,
  'respiratory-rate': DEFINITIONS['respiratory-rate'].codings,
  'hrv-sdnn': DEFINITIONS['hrv-sdnn'].codings,
  'hrv-rmssd': DEFINITIONS['hrv-rmssd'].codings,
  'heart-rhythm': [RHYTHM_CODE],
};

/** The vital each waveform kind measures. */
export const RATE_CODE: Readonly<
  Record<DerivedWaveformKind, 'heart-rate' | 'pulse-rate' | 'respiratory-rate'>
> = { ecg: 'heart-rate', ppg: 'pulse-rate', resp: 'respiratory-rate' };

const METHOD: Readonly<Record<DerivedWaveformKind, string>> = {
  ecg: 'beats detected on the ECG (QRS detection)',
  ppg: 'pulses detected on the photoplethysmogram',
  resp: 'breaths detected on the respiration waveform',
};

const iso = (ms: number): string => new Date(ms).toISOString();

interface Stretch {
  readonly startMs: number;
  readonly endMs: number;
}

/** Maps one analysed window to its Observations and one Provenance covering them. */
export function mapDerived(input: DerivedInput): MappedDerived {
  const w = input.window;
  requireWindow(w);
  const rateStretch = spanEnding(w, input.rateSpanMs);
  const made: { obs: MappedDerivedObservation; stretch: Stretch }[] = [];
  const add = (code: DerivedCode, stretch: Stretch, body: Partial<Observation>) =>
    made.push({ obs: observation(input, code, stretch, body), stretch });

  const rateCode = RATE_CODE[w.kind];
  add(rateCode, rateStretch, measured(DEFINITIONS[rateCode], w.rate, w));
  if (w.kind === 'ecg' && w.hrv && w.hrv.beats > 0) {
    const span = spanEnding(w, w.hrv.spanMs);
    add('hrv-sdnn', span, measured(DEFINITIONS['hrv-sdnn'], w.hrv.sdnnMs, w));
    add('hrv-rmssd', span, measured(DEFINITIONS['hrv-rmssd'], w.hrv.rmssdMs, w));
  }
  if (w.kind === 'ecg' && w.rhythm)
    add('heart-rhythm', spanEnding(w, input.rhythmSpanMs ?? w.hrv?.spanMs), rhythmBody(w.rhythm));

  const observations = made.map(({ obs, stretch }) => {
    const from = sourcesOver(input.sources, stretch);
    if (from.length > 0) obs.resource.derivedFrom = from.map((s) => ({ reference: `Observation/${s.id}` }));
    return obs;
  });
  const used = sourcesOver(input.sources, {
    startMs: Math.min(...made.map((m) => m.stretch.startMs)),
    endMs: w.endMs,
  });
  return { observations, provenance: provenance(input, observations, used) };
}

function requireWindow(w: DerivedWindow): void {
  const ok =
    Number.isFinite(w.startMs) &&
    Number.isFinite(w.endMs) &&
    w.endMs > w.startMs &&
    !Number.isNaN(new Date(w.startMs).getTime()) &&
    !Number.isNaN(new Date(w.endMs).getTime());
  if (!ok) throw new RangeError(`derived window must have finite startMs < endMs`);
}

/** The stretch of `spanMs` ending at the window's end (the window itself when absent or not sensible). */
function spanEnding(w: DerivedWindow, spanMs: number | undefined): Stretch {
  if (spanMs === undefined || !Number.isFinite(spanMs) || spanMs <= 0)
    return { startMs: w.startMs, endMs: w.endMs };
  return { startMs: Math.min(w.startMs, w.endMs - spanMs), endMs: w.endMs };
}

function sourcesOver(sources: readonly DerivedSource[], s: Stretch): DerivedSource[] {
  const seen = new Set<string>();
  return sources.filter((x) => {
    if (!(x.startMs < s.endMs && x.endMs > s.startMs) || seen.has(x.id)) return false;
    seen.add(x.id);
    return true;
  });
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** A value with its unit, or why there is none (lead off, too noisy, implausible). */
function measured(def: DerivedDefinition, value: number | undefined, w: DerivedWindow): Partial<Observation> {
  if (value !== undefined && Number.isFinite(value) && value >= def.min && value <= def.max)
    return { valueQuantity: { value: round1(value), unit: def.unitDisplay, system: UCUM, code: def.unit } };
  const why = w.leadOff
    ? 'lead off or sensor detached'
    : value === undefined
      ? 'signal too poor to measure'
      : 'implausible result discarded';
  return {
    dataAbsentReason: {
      coding: [{ system: DATA_ABSENT_REASON, code: 'error', display: 'Error' }],
      text: why,
    },
  };
}

/**
 * The AF call is a screening finding from an algorithm, not a diagnosis: the value names atrial
 * fibrillation (SNOMED CT) only as what is suspected, the interpretation says positive/negative screen,
 * the status stays preliminary until a clinician reviews the ECG, and a note says so in words.
 */
function rhythmBody(rhythm: 'af-suspected' | 'not-af'): Partial<Observation> {
  const suspected = rhythm === 'af-suspected';
  return {
    status: 'preliminary',
    valueCodeableConcept: suspected
      ? { coding: [{ ...AF }], text: 'AF suspected' }
      : { text: 'AF not suspected' },
    interpretation: [
      {
        coding: [
          suspected
            ? { system: INTERPRETATION, code: 'POS', display: 'Positive' }
            : { system: INTERPRETATION, code: 'NEG', display: 'Negative' },
        ],
        text: suspected ? 'AF suspected (screening finding)' : 'AF not suspected (screening finding)',
      },
    ],
    note: [
      {
        text: 'Automated screening of RR-interval irregularity and P waves; not a diagnosis. Confirm on a reviewed ECG.',
      },
    ],
  };
}

function codeOf(code: DerivedCode): CodeableConcept {
  if (code === 'heart-rhythm') return { coding: [{ ...RHYTHM_CODE }], text: 'Heart rate rhythm' };
  const def = DEFINITIONS[code];
  return { coding: def.codings.map((c) => ({ ...c })), text: def.display };
}

function observation(
  input: DerivedInput,
  code: DerivedCode,
  stretch: Stretch,
  body: Partial<Observation>,
): MappedDerivedObservation {
  const w = input.window;
  const windowStart = Math.round(w.startMs);
  const id = derivedObservationId(input.deviceId, windowStart, code);
  const def = code === 'heart-rhythm' ? undefined : DEFINITIONS[code];
  const effective = iso(stretch.startMs);
  const resource: Observation = {
    resourceType: 'Observation',
    id,
    ...(def?.profile ? { meta: { profile: [def.profile] } } : {}),
    identifier: [{ system: DERIVED_IDENTIFIER_SYSTEM, value: `${input.deviceId}/${windowStart}/${code}` }],
    status: 'final',
    category: [categoryConcept(def?.category ?? 'procedure')],
    code: codeOf(code),
    subject: { reference: patientReference(input.patientId) },
    effectivePeriod: { start: effective, end: iso(stretch.endMs) },
    ...body,
    method: {
      text: `OpenIoMT waveform analysis ${input.algorithmVersion}: ${METHOD[w.kind]} (${WAVEFORMS[input.sourceCode].display})`,
    },
    device: { reference: deviceReference(input.deviceId) },
  };
  return { id, code, effective, resource };
}

/**
 * One Provenance per window: the platform's analysis software (assembler, with its version) derived the
 * targets from the device's waveform Observations (entities, role source). Its id is the id of the window's
 * rate Observation (ids are unique per resource type in FHIR), so the store finds it by that primary key.
 */
function provenance(
  input: DerivedInput,
  observations: readonly MappedDerivedObservation[],
  used: readonly DerivedSource[],
): Provenance {
  const device: Reference = { reference: deviceReference(input.deviceId) };
  const first = observations[0] as MappedDerivedObservation;
  const starts = observations.map((o) => Date.parse(o.resource.effectivePeriod?.start as string));
  return {
    resourceType: 'Provenance',
    id: first.id,
    target: observations.map((o) => ({ reference: `Observation/${o.id}` })),
    occurredPeriod: { start: iso(Math.min(...starts)), end: iso(input.window.endMs) },
    recorded: input.recorded,
    activity: { coding: [{ ...DERIVATION_ACTIVITY }], text: 'Derived by waveform analysis' },
    agent: [
      {
        type: { coding: [{ system: PARTICIPANT_TYPE, code: 'assembler', display: 'Assembler' }] },
        who: {
          identifier: {
            system: SOFTWARE_IDENTIFIER_SYSTEM,
            value: `waveform-analysis/${input.algorithmVersion}`,
          },
          display: `OpenIoMT waveform analysis ${input.algorithmVersion}`,
        },
      },
      { role: [{ text: 'source device' }], who: device },
    ],
    ...(used.length > 0
      ? { entity: used.map((s) => ({ role: 'source' as const, what: { reference: `Observation/${s.id}` } })) }
      : {}),
  };
}
