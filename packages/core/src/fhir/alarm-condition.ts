/**
 * Human names for alarm conditions. A condition is the rule's key, e.g. `threshold:heart-rate:high`,
 * `trend:heart-rate:rise`, `news2`, `rhythm:af` or `technical:lead-off:<deviceId>`; the FHIR Flag carries it
 * as the code and this display beside it. Conditions are read leniently: a malformed or unknown one still
 * gets a readable (and FHIR-valid) name, never an exception.
 */
import { isVitalCode, VITALS } from '../codes/vitals.ts';

/** Shorter than the catalogue's LOINC-style displays, which read badly in an alarm list. */
const VITAL_LABEL: Readonly<Record<string, string>> = {
  'heart-rate': 'Heart rate',
  'pulse-rate': 'Pulse rate',
  spo2: 'SpO2',
  'respiratory-rate': 'Respiratory rate',
  'bp-systolic': 'Systolic blood pressure',
  'bp-diastolic': 'Diastolic blood pressure',
  'bp-mean': 'Mean blood pressure',
  'body-temperature': 'Temperature',
  battery: 'Battery',
  'signal-quality': 'Signal quality',
};

const TECHNICAL_LABEL: Readonly<Record<string, string>> = {
  'device-offline': 'Device offline',
  'lead-off': 'Lead off',
  'low-battery': 'Low battery',
  'poor-signal': 'Poor signal quality',
};

const RHYTHM_LABEL: Readonly<Record<string, string>> = {
  // Screening from a wearable's ECG: a suspicion for a clinician to confirm, not a diagnosis.
  af: 'Atrial fibrillation suspected',
};

const TREND_LABEL: Readonly<Record<string, string>> = { rise: 'rising', fall: 'falling' };

/** Longest display made from an unknown condition, so a runaway string cannot flood a list. */
const MAX_DISPLAY = 120;

/**
 * A display for an alarm condition: "Heart rate high", "Heart rate rising", "NEWS2 elevated",
 * "Device offline", "Lead off", "Atrial fibrillation suspected"; anything unknown becomes
 * "Alarm condition: <condition>". The device id of a technical condition is left out on purpose.
 */
export function alarmConditionDisplay(condition: string): string {
  return clip(known(condition) || unknown(condition));
}

/** The device a technical condition names (`technical:<name>:<deviceId>`), if any. */
export function alarmConditionDeviceId(condition: string): string | undefined {
  const [kind, name, ...rest] = condition.split(':');
  const deviceId = rest.join(':');
  return kind === 'technical' && name && deviceId ? deviceId : undefined;
}

function known(condition: string): string | undefined {
  const [kind = '', first, second, ...more] = condition.split(':');
  switch (kind) {
    case 'threshold':
      return first && second && more.length === 0 ? `${vitalLabel(first)} ${words(second)}` : undefined;
    case 'trend':
      return first && second && more.length === 0
        ? `${vitalLabel(first)} ${own(TREND_LABEL, second) ?? `trend (${words(second)})`}`
        : undefined;
    case 'news2':
      // The band (when a rule names one) is the alarm's priority; without one the score is simply raised.
      if (first === undefined) return 'NEWS2 elevated';
      return first && second === undefined ? `NEWS2 ${words(first)}` : undefined;
    case 'technical':
      return first ? (own(TECHNICAL_LABEL, first) ?? capitalise(words(first))) : undefined;
    case 'rhythm':
      return first && second === undefined
        ? (own(RHYTHM_LABEL, first) ?? `Abnormal rhythm (${words(first)})`)
        : undefined;
    default:
      return undefined;
  }
}

function unknown(condition: string): string {
  const text = printable(condition);
  return text === '' ? 'Alarm condition (unnamed)' : `Alarm condition: ${text}`;
}

function vitalLabel(code: string): string {
  return own(VITAL_LABEL, code) ?? (isVitalCode(code) ? VITALS[code].display : capitalise(words(code)));
}

/** Own properties only: a condition like `threshold:constructor:high` must not find Object's members. */
const own = (table: Readonly<Record<string, string>>, key: string): string | undefined =>
  Object.hasOwn(table, key) ? table[key] : undefined;

/** `lead-off` -> `lead off`; control characters and runs of whitespace become one space. */
const words = (code: string): string => printable(code.replace(/[-_]+/g, ' '));

const printable = (s: string): string =>
  s
    .replace(/\p{Cc}/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function clip(s: string): string {
  const text = printable(s) || 'Alarm condition (unnamed)';
  const chars = Array.from(text); // code points, so a cut never splits a surrogate pair
  return chars.length <= MAX_DISPLAY
    ? text
    : `${chars
        .slice(0, MAX_DISPLAY - 1)
        .join('')
        .trimEnd()}…`;
}
