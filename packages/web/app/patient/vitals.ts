/**
 * Vital signs in plain words for patients and their caregivers: what a number measures, the usual range
 * for an adult at rest, and one sentence that puts the two together. The ranges are general guidance (the
 * care team may set other targets, e.g. oxygen 88–92 % for some lung conditions), never a diagnosis, and
 * the words say so.
 */

export interface VitalInfo {
  readonly code: string;
  /** Plain name, lower case, to sit inside a sentence ("your heart rate"). */
  readonly name: string;
  /** Title for a tile or chart. */
  readonly title: string;
  /** The unit as a person reads it. */
  readonly unit: string;
  /** Decimals shown (temperature 1, the rest whole numbers). */
  readonly decimals: number;
  /** Usual adult range, inclusive. */
  readonly low: number;
  readonly high: number;
  /** What the number tells, in one sentence. */
  readonly about: string;
}

/** Tiles and charts in this order: the signs a patient most often asks about first. */
export const VITAL_ORDER = [
  'news2',
  'heart-rate',
  'pulse-rate',
  'spo2',
  'respiratory-rate',
  'bp-systolic',
  'bp-diastolic',
  'bp-mean',
  'body-temperature',
] as const;

const info = (i: VitalInfo): [string, VitalInfo] => [i.code, i];

export const VITAL_INFO: ReadonlyMap<string, VitalInfo> = new Map([
  info({
    code: 'news2',
    name: 'early warning score',
    title: 'Early warning score (NEWS2)',
    unit: '',
    decimals: 0,
    low: 0,
    high: 4,
    about:
      'A score made from several of your readings together. The higher it is, the more closely your care team looks at you.',
  }),
  info({
    code: 'heart-rate',
    name: 'heart rate',
    title: 'Heart rate',
    unit: 'beats a minute',
    decimals: 0,
    low: 60,
    high: 100,
    about: 'How many times your heart beats in a minute.',
  }),
  info({
    code: 'pulse-rate',
    name: 'pulse',
    title: 'Pulse',
    unit: 'beats a minute',
    decimals: 0,
    low: 60,
    high: 100,
    about: 'Your heart rate as the finger clip (pulse oximeter) counts it.',
  }),
  info({
    code: 'spo2',
    name: 'oxygen saturation',
    title: 'Oxygen saturation',
    unit: '%',
    decimals: 0,
    low: 96,
    high: 100,
    about: 'How much of the blood in your arteries is carrying oxygen.',
  }),
  info({
    code: 'respiratory-rate',
    name: 'breathing rate',
    title: 'Breathing rate',
    unit: 'breaths a minute',
    decimals: 0,
    low: 12,
    high: 20,
    about: 'How many breaths you take in a minute.',
  }),
  info({
    code: 'bp-systolic',
    name: 'blood pressure (upper number)',
    title: 'Blood pressure, upper number',
    unit: 'mmHg',
    decimals: 0,
    low: 90,
    high: 120,
    about: 'The pressure in your arteries when your heart beats (systolic).',
  }),
  info({
    code: 'bp-diastolic',
    name: 'blood pressure (lower number)',
    title: 'Blood pressure, lower number',
    unit: 'mmHg',
    decimals: 0,
    low: 60,
    high: 80,
    about: 'The pressure in your arteries between heartbeats (diastolic).',
  }),
  info({
    code: 'bp-mean',
    name: 'average blood pressure',
    title: 'Average blood pressure',
    unit: 'mmHg',
    decimals: 0,
    low: 70,
    high: 100,
    about: 'The average pressure in your arteries over one heartbeat.',
  }),
  info({
    code: 'body-temperature',
    name: 'temperature',
    title: 'Temperature',
    unit: '°C',
    decimals: 1,
    low: 36.1,
    high: 37.8,
    about: 'Your body temperature.',
  }),
]);

export type Verdict = 'below' | 'usual' | 'above';

export interface Explanation {
  readonly title: string;
  /** The value with its unit, e.g. "97 %". */
  readonly reading: string;
  /** E.g. "Your oxygen saturation is 97 %: normal is 96–100 %." */
  readonly sentence: string;
  readonly verdict: Verdict;
  /** The verdict in words (never shown by colour alone). */
  readonly verdictText: string;
  readonly about: string;
  /** What to do about a reading outside the usual range. */
  readonly advice?: string;
}

/** The number rounded for its sign and the unit: "97 %", "36.8 °C", "72 beats a minute", "3". */
export function formatReading(code: string, value: number): string {
  const i = VITAL_INFO.get(code);
  // A sign without guidance: as measured, to at most 2 decimals.
  const n = i ? formatNumber(value, i.decimals) : String(Number(value.toFixed(2)));
  return i?.unit ? `${n} ${i.unit}` : n;
}

export function formatNumber(value: number, decimals: number): string {
  return value.toFixed(decimals);
}

/** "96–100 %", "0–4". */
export function usualRange(i: VitalInfo): string {
  const range = `${formatNumber(i.low, i.decimals)}–${formatNumber(i.high, i.decimals)}`;
  return i.unit ? `${range} ${i.unit}` : range;
}

export function verdictOf(i: VitalInfo, value: number): Verdict {
  const v = Number(value.toFixed(i.decimals));
  return v < i.low ? 'below' : v > i.high ? 'above' : 'usual';
}

const VERDICT_TEXT: Record<Verdict, string> = {
  below: 'Lower than usual',
  usual: 'In the usual range',
  above: 'Higher than usual',
};

/** The plain-language explanation of one reading; undefined for a code without guidance. */
export function explain(code: string, value: number): Explanation | undefined {
  const i = VITAL_INFO.get(code);
  if (!i || !Number.isFinite(value)) return undefined;
  const reading = formatReading(code, value);
  const verdict = verdictOf(i, value);
  const isScore = code === 'news2';
  const sentence = isScore
    ? `Your ${i.name} is ${reading}: ${usualRange(i)} means low risk.`
    : `Your ${i.name} is ${reading}: normal is ${usualRange(i)}.`;
  const advice =
    verdict === 'usual'
      ? undefined
      : isScore
        ? 'Your care team is told about scores like this. If you feel unwell, contact them.'
        : 'One reading outside the usual range is not always a problem, and your care team may have set other targets for you. If you feel unwell, or you are worried, contact your care team.';
  return {
    title: i.title,
    reading,
    sentence,
    verdict,
    verdictText: isScore ? news2RiskText(value) : VERDICT_TEXT[verdict],
    about: i.about,
    ...(advice ? { advice } : {}),
  };
}

/** NEWS2 bands as the Royal College of Physicians names the risk: 0–4 low, 5–6 medium, 7+ high. */
export function news2RiskText(total: number): string {
  return total >= 7 ? 'High risk' : total >= 5 ? 'Medium risk' : 'Low risk';
}

/** Codes with guidance, in display order, among those given. */
export function orderedCodes(codes: Iterable<string>): string[] {
  const present = new Set(codes);
  const known = VITAL_ORDER.filter((c) => present.has(c));
  const other = [...present].filter((c) => !VITAL_INFO.has(c)).sort();
  return [...known, ...other];
}
