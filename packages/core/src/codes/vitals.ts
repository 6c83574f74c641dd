/**
 * The catalogue of vital signs and waveforms a device may send, keyed by the short code used in the
 * device message. Each entry names its LOINC (or SNOMED CT) code, its UCUM unit and, where known, its
 * IEEE 11073-10101 (MDC) code. The FHIR mapping and the validator both read from here, so a new vital
 * sign is one entry.
 */

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const MDC = 'urn:iso:std:iso:11073:10101';
export const UCUM = 'http://unitsofmeasure.org';

export interface Coding {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

/** How a vital's value is carried: a number with a unit, a yes/no, or a code from a small set. */
export type VitalValueKind = 'quantity' | 'boolean' | 'code';

export interface VitalDefinition {
  readonly code: VitalCode;
  readonly display: string;
  readonly valueKind: VitalValueKind;
  /** Codings for Observation.code; the first is the primary (LOINC where one exists). */
  readonly codings: readonly Coding[];
  /** The UCUM unit values are stored in (quantity only). */
  readonly unit?: string;
  /** Human-readable unit (Quantity.unit). */
  readonly unitDisplay?: string;
  /** Physically possible range, inclusive; outside it a reading is rejected as implausible. */
  readonly min?: number;
  readonly max?: number;
  /** Allowed codes when valueKind is 'code'. */
  readonly allowedCodes?: readonly string[];
  /** The coded answer for each allowed code (valueCodeableConcept), when valueKind is 'code'. */
  readonly answerCodings?: Readonly<Record<string, Coding>>;
  /** Observation.category code (vital-signs or activity). */
  readonly category: 'vital-signs' | 'activity' | 'survey';
}

export const VITAL_CODES = [
  'heart-rate',
  'pulse-rate',
  'spo2',
  'respiratory-rate',
  'bp-systolic',
  'bp-diastolic',
  'bp-mean',
  'body-temperature',
  'consciousness',
  'supplemental-oxygen',
  'steps',
  'fall',
] as const;
export type VitalCode = (typeof VITAL_CODES)[number];

export const WAVEFORM_CODES = [
  'ecg-i',
  'ecg-ii',
  'ecg-iii',
  'ecg-avr',
  'ecg-avl',
  'ecg-avf',
  'ecg-v1',
  'ecg-v2',
  'ecg-v3',
  'ecg-v4',
  'ecg-v5',
  'ecg-v6',
  'ecg-mlii',
  'ppg',
  'respiration',
] as const;
export type WaveformCode = (typeof WAVEFORM_CODES)[number];

export interface WaveformDefinition {
  readonly code: WaveformCode;
  readonly display: string;
  readonly codings: readonly Coding[];
  /** UCUM unit of the physical value (origin + factor * sample). */
  readonly unit: string;
}

const loinc = (code: string, display: string): Coding => ({ system: LOINC, code, display });
const mdc = (code: string, display: string): Coding => ({ system: MDC, code, display });

const sct = (code: string, display: string): Coding => ({ system: SNOMED, code, display });

/** SNOMED CT answers for the ACVPU letters (the HL7 UK ACVPU value set). */
export const ACVPU_ANSWERS: Readonly<Record<'A' | 'C' | 'V' | 'P' | 'U', Coding>> = {
  A: sct('248234008', 'Mentally alert'),
  C: sct('130987000', 'Acute confusion'),
  V: sct('300202002', 'Responds to voice'),
  P: sct('450847001', 'Responds to pain'),
  U: sct('422768004', 'Unresponsive'),
};

export const VITALS: Readonly<Record<VitalCode, VitalDefinition>> = {
  'heart-rate': {
    code: 'heart-rate',
    display: 'Heart rate',
    valueKind: 'quantity',
    codings: [loinc('8867-4', 'Heart rate'), mdc('147842', 'MDC_ECG_HEART_RATE')],
    unit: '/min',
    unitDisplay: 'beats/minute',
    min: 0,
    max: 350,
    category: 'vital-signs',
  },
  'pulse-rate': {
    code: 'pulse-rate',
    display: 'Pulse rate by pulse oximetry',
    valueKind: 'quantity',
    codings: [
      loinc('8867-4', 'Heart rate'),
      loinc('8889-8', 'Heart rate by Pulse oximetry'),
      mdc('149530', 'MDC_PULS_OXIM_PULS_RATE'),
    ],
    unit: '/min',
    unitDisplay: 'beats/minute',
    min: 0,
    max: 350,
    category: 'vital-signs',
  },
  spo2: {
    code: 'spo2',
    display: 'Oxygen saturation by pulse oximetry',
    valueKind: 'quantity',
    codings: [
      loinc('2708-6', 'Oxygen saturation in Arterial blood'),
      loinc('59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry'),
      mdc('150456', 'MDC_PULS_OXIM_SAT_O2'),
    ],
    unit: '%',
    unitDisplay: '%',
    min: 0,
    max: 100,
    category: 'vital-signs',
  },
  'respiratory-rate': {
    code: 'respiratory-rate',
    display: 'Respiratory rate',
    valueKind: 'quantity',
    codings: [loinc('9279-1', 'Respiratory rate'), mdc('151562', 'MDC_RESP_RATE')],
    unit: '/min',
    unitDisplay: 'breaths/minute',
    min: 0,
    max: 150,
    category: 'vital-signs',
  },
  'bp-systolic': {
    code: 'bp-systolic',
    display: 'Systolic blood pressure',
    valueKind: 'quantity',
    codings: [loinc('8480-6', 'Systolic blood pressure'), mdc('150021', 'MDC_PRESS_BLD_NONINV_SYS')],
    unit: 'mm[Hg]',
    unitDisplay: 'mmHg',
    min: 0,
    max: 350,
    category: 'vital-signs',
  },
  'bp-diastolic': {
    code: 'bp-diastolic',
    display: 'Diastolic blood pressure',
    valueKind: 'quantity',
    codings: [loinc('8462-4', 'Diastolic blood pressure'), mdc('150022', 'MDC_PRESS_BLD_NONINV_DIA')],
    unit: 'mm[Hg]',
    unitDisplay: 'mmHg',
    min: 0,
    max: 300,
    category: 'vital-signs',
  },
  'bp-mean': {
    code: 'bp-mean',
    display: 'Mean blood pressure',
    valueKind: 'quantity',
    codings: [loinc('8478-0', 'Mean blood pressure'), mdc('150023', 'MDC_PRESS_BLD_NONINV_MEAN')],
    unit: 'mm[Hg]',
    unitDisplay: 'mmHg',
    min: 0,
    max: 300,
    category: 'vital-signs',
  },
  'body-temperature': {
    code: 'body-temperature',
    display: 'Body temperature',
    valueKind: 'quantity',
    codings: [loinc('8310-5', 'Body temperature'), mdc('150364', 'MDC_TEMP_BODY')],
    unit: 'Cel',
    unitDisplay: 'C',
    min: 20,
    max: 46,
    category: 'vital-signs',
  },
  consciousness: {
    code: 'consciousness',
    display: 'Level of consciousness (ACVPU)',
    valueKind: 'code',
    // SNOMED's ACVPU scale (the NEWS2 one, as UK Core uses it) first; LOINC 67775-7 is the older AVPU
    // "Level of responsiveness" (NEMSIS eVitals.26), which has no "new confusion" answer.
    codings: [
      {
        system: SNOMED,
        code: '1104441000000107',
        display: 'ACVPU (Alert Confusion Voice Pain Unresponsive) scale score',
      },
      loinc('67775-7', 'Level of responsiveness'),
    ],
    allowedCodes: ['A', 'C', 'V', 'P', 'U'],
    answerCodings: ACVPU_ANSWERS,
    category: 'survey',
  },
  'supplemental-oxygen': {
    code: 'supplemental-oxygen',
    display: 'Supplemental oxygen in use',
    valueKind: 'boolean',
    codings: [sct('57485005', 'Oxygen therapy')],
    category: 'vital-signs',
  },
  steps: {
    code: 'steps',
    display: 'Number of steps',
    valueKind: 'quantity',
    codings: [loinc('55423-8', 'Number of steps in unspecified time Pedometer')],
    unit: '{steps}',
    unitDisplay: 'steps',
    min: 0,
    max: 1_000_000,
    category: 'activity',
  },
  fall: {
    code: 'fall',
    display: 'Fall detected',
    valueKind: 'boolean',
    codings: [sct('1912002', 'Fall')],
    category: 'activity',
  },
};

export const WAVEFORMS: Readonly<Record<WaveformCode, WaveformDefinition>> = {
  'ecg-i': {
    code: 'ecg-i',
    display: 'ECG lead I',
    codings: [mdc('131329', 'MDC_ECG_ELEC_POTL_I')],
    unit: 'mV',
  },
  'ecg-ii': {
    code: 'ecg-ii',
    display: 'ECG lead II',
    codings: [mdc('131330', 'MDC_ECG_ELEC_POTL_II')],
    unit: 'mV',
  },
  'ecg-iii': {
    code: 'ecg-iii',
    display: 'ECG lead III',
    codings: [mdc('131389', 'MDC_ECG_ELEC_POTL_III')],
    unit: 'mV',
  },
  'ecg-avr': {
    code: 'ecg-avr',
    display: 'ECG lead aVR',
    codings: [mdc('131390', 'MDC_ECG_ELEC_POTL_AVR')],
    unit: 'mV',
  },
  'ecg-avl': {
    code: 'ecg-avl',
    display: 'ECG lead aVL',
    codings: [mdc('131391', 'MDC_ECG_ELEC_POTL_AVL')],
    unit: 'mV',
  },
  'ecg-avf': {
    code: 'ecg-avf',
    display: 'ECG lead aVF',
    codings: [mdc('131392', 'MDC_ECG_ELEC_POTL_AVF')],
    unit: 'mV',
  },
  'ecg-v1': {
    code: 'ecg-v1',
    display: 'ECG lead V1',
    codings: [mdc('131331', 'MDC_ECG_ELEC_POTL_V1')],
    unit: 'mV',
  },
  'ecg-v2': {
    code: 'ecg-v2',
    display: 'ECG lead V2',
    codings: [mdc('131332', 'MDC_ECG_ELEC_POTL_V2')],
    unit: 'mV',
  },
  'ecg-v3': {
    code: 'ecg-v3',
    display: 'ECG lead V3',
    codings: [mdc('131333', 'MDC_ECG_ELEC_POTL_V3')],
    unit: 'mV',
  },
  'ecg-v4': {
    code: 'ecg-v4',
    display: 'ECG lead V4',
    codings: [mdc('131334', 'MDC_ECG_ELEC_POTL_V4')],
    unit: 'mV',
  },
  'ecg-v5': {
    code: 'ecg-v5',
    display: 'ECG lead V5',
    codings: [mdc('131335', 'MDC_ECG_ELEC_POTL_V5')],
    unit: 'mV',
  },
  'ecg-v6': {
    code: 'ecg-v6',
    display: 'ECG lead V6',
    codings: [mdc('131336', 'MDC_ECG_ELEC_POTL_V6')],
    unit: 'mV',
  },
  // Modified lead II (MIT-BIH recordings); MDC has no separate code, so it is reported as lead II.
  'ecg-mlii': {
    code: 'ecg-mlii',
    display: 'ECG modified lead II',
    codings: [mdc('131330', 'MDC_ECG_ELEC_POTL_II')],
    unit: 'mV',
  },
  ppg: {
    code: 'ppg',
    display: 'Photoplethysmogram',
    codings: [mdc('150452', 'MDC_PULS_OXIM_PLETH')],
    unit: '1',
  },
  respiration: {
    code: 'respiration',
    display: 'Respiration waveform',
    // 151780 is MDC_IMPED_TTHOR (transthoracic impedance), the respiration wave bedside monitors send
    // (Philips NOM_RESP, Mindray); it was mislabelled MDC_RESP. Values are normalised, hence unit 1.
    codings: [mdc('151780', 'MDC_IMPED_TTHOR')],
    unit: '1',
  },
};

export const isVitalCode = (s: string): s is VitalCode => Object.hasOwn(VITALS, s);
export const isWaveformCode = (s: string): s is WaveformCode => Object.hasOwn(WAVEFORMS, s);
