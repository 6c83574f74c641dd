/**
 * How the clinician screens name, format and age vital signs. A copy of the few catalogue facts the
 * screens need (core/src/codes/vitals.ts), so the browser bundle does not pull in the platform's core.
 * Pure: no DOM, `now` is an argument.
 */

export interface VitalInfo {
  readonly code: string;
  /** Full name, for labels and screen readers. */
  readonly label: string;
  /** Short name shown on tiles and census columns. */
  readonly short: string;
  /** Unit as shown (the UCUM unit the platform sends is mapped to this). */
  readonly unit: string;
  readonly decimals: number;
  /**
   * After this long a value is marked stale. The NEWS2 freshness windows (core/src/rules/news2.ts), so a
   * value the screen shows as current is one the score still counts.
   */
  readonly staleAfterMs: number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;

const info = (
  code: string,
  label: string,
  short: string,
  unit: string,
  decimals: number,
  staleAfterMs: number,
): VitalInfo => ({ code, label, short, unit, decimals, staleAfterMs });

export const VITAL_INFO: Readonly<Record<string, VitalInfo>> = {
  'heart-rate': info('heart-rate', 'Heart rate', 'HR', '/min', 0, 10 * MIN),
  'pulse-rate': info('pulse-rate', 'Pulse rate (oximeter)', 'PR', '/min', 0, 10 * MIN),
  spo2: info('spo2', 'Oxygen saturation', 'SpO₂', '%', 0, 10 * MIN),
  'respiratory-rate': info('respiratory-rate', 'Respiratory rate', 'RR', '/min', 0, 10 * MIN),
  'bp-systolic': info('bp-systolic', 'Systolic blood pressure', 'Sys', 'mmHg', 0, HOUR),
  'bp-diastolic': info('bp-diastolic', 'Diastolic blood pressure', 'Dia', 'mmHg', 0, HOUR),
  'bp-mean': info('bp-mean', 'Mean blood pressure', 'MAP', 'mmHg', 0, HOUR),
  'body-temperature': info('body-temperature', 'Temperature', 'Temp', '°C', 1, 12 * HOUR),
  news2: info('news2', 'NEWS2 score', 'NEWS2', '', 0, HOUR),
};

/** The readings a census row and the patient tiles show, in this order. */
export const HEADLINE_VITALS = ['heart-rate', 'spo2', 'respiratory-rate', 'bp', 'body-temperature'] as const;
export type HeadlineVital = (typeof HEADLINE_VITALS)[number];

const UCUM_DISPLAY: Readonly<Record<string, string>> = {
  'mm[Hg]': 'mmHg',
  Cel: '°C',
  '/min': '/min',
  '%': '%',
};

export function vitalLabel(code: string): string {
  return VITAL_INFO[code]?.label ?? code;
}

/** The unit as people read it: the catalogue's, else the UCUM unit sent, made legible. */
export function unitText(code: string, unit?: string): string {
  const known = VITAL_INFO[code]?.unit;
  if (known !== undefined) return known;
  return unit ? (UCUM_DISPLAY[unit] ?? unit) : '';
}

/** A value with the catalogue's number of decimals (temperature 37.2, the rest whole). */
export function formatVital(code: string, value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const decimals = VITAL_INFO[code]?.decimals ?? (Number.isInteger(value) ? 0 : 1);
  return value.toFixed(decimals);
}

export interface TimedValue {
  readonly value: number;
  readonly unit?: string;
  /** ISO instant of the measurement. */
  readonly at: string;
}

/** True when the value is older than its code's freshness window (or has no valid time). */
export function isStale(code: string, at: string | undefined, now: number): boolean {
  if (at === undefined) return true;
  const t = Date.parse(at);
  if (!Number.isFinite(t)) return true;
  const limit = VITAL_INFO[code === 'bp' ? 'bp-systolic' : code]?.staleAfterMs ?? 10 * MIN;
  return now - t > limit;
}

/** Age in a few characters: "12 s", "4 min", "3 h", "2 d" ("now" under 5 s, "future" for clock skew). */
export function ageText(at: string | number | undefined, now: number): string {
  if (at === undefined) return '';
  const t = typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(t)) return '';
  const s = Math.round((now - t) / 1000);
  if (s < -5) return 'future';
  if (s < 5) return 'now';
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} d`;
}

/** A headline reading for display: blood pressure is systolic/diastolic, timed by the systolic value. */
export interface Headline {
  readonly key: HeadlineVital;
  readonly short: string;
  readonly label: string;
  readonly text: string;
  readonly unit: string;
  readonly at?: string;
  readonly stale: boolean;
  readonly missing: boolean;
}

export function headline(
  key: HeadlineVital,
  vitals: Readonly<Record<string, TimedValue | undefined>>,
  now: number,
): Headline {
  if (key === 'bp') {
    const sys = vitals['bp-systolic'];
    const dia = vitals['bp-diastolic'];
    const at = sys?.at ?? dia?.at;
    return {
      key,
      short: 'BP',
      label: 'Blood pressure',
      text:
        sys || dia
          ? `${formatVital('bp-systolic', sys?.value)}/${formatVital('bp-diastolic', dia?.value)}`
          : '–',
      unit: 'mmHg',
      ...(at ? { at } : {}),
      stale: isStale('bp', at, now),
      missing: !sys && !dia,
    };
  }
  // Heart rate from the ECG first; an oximeter's pulse rate stands in when there is no ECG.
  const v = key === 'heart-rate' ? pickHeartRate(vitals) : { code: key, value: vitals[key] };
  const meta = VITAL_INFO[v.code];
  return {
    key,
    short: meta?.short ?? key,
    label: meta?.label ?? key,
    text: formatVital(v.code, v.value?.value),
    unit: unitText(v.code, v.value?.unit),
    ...(v.value ? { at: v.value.at } : {}),
    stale: isStale(v.code, v.value?.at, now),
    missing: !v.value,
  };
}

/** The fresher of heart rate and pulse rate, preferring heart rate when both are equally recent. */
function pickHeartRate(vitals: Readonly<Record<string, TimedValue | undefined>>): {
  code: string;
  value: TimedValue | undefined;
} {
  const hr = vitals['heart-rate'];
  const pr = vitals['pulse-rate'];
  if (hr && (!pr || Date.parse(hr.at) >= Date.parse(pr.at))) return { code: 'heart-rate', value: hr };
  if (pr) return { code: 'pulse-rate', value: pr };
  return { code: 'heart-rate', value: undefined };
}

const BAND_WORDS: Readonly<Record<string, string>> = {
  high: 'High',
  medium: 'Medium',
  'low-medium': 'Low–medium',
  low: 'Low',
};

/** The NEWS2 band in words (never colour alone): "High", "Low–medium" (a single red score). */
export function bandText(band: string | undefined): string {
  return band ? (BAND_WORDS[band] ?? band) : 'Not scored';
}

const NEWS2_PARAMETER_LABELS: Readonly<Record<string, string>> = {
  'respiration-rate': 'respiration rate',
  spo2: 'SpO₂',
  'air-or-oxygen': 'air or oxygen',
  'systolic-bp': 'systolic BP',
  pulse: 'pulse',
  consciousness: 'consciousness',
  temperature: 'temperature',
};

export function news2ParameterLabel(p: string): string {
  return NEWS2_PARAMETER_LABELS[p] ?? p;
}
