/**
 * NEWS2 (Royal College of Physicians, 2017) from the latest reading of each parameter. Pure: `now` is
 * an argument. A parameter that is missing, stale or invalid is never scored 0: the result says which
 * parameters are lacking and why, and its total and band are then lower bounds (a lacking parameter can
 * only add points).
 */
import type { AlarmPriority } from '../alarms/vocabulary.ts';
import { VITALS, type VitalCode } from '../codes/vitals.ts';
import {
  type Acvpu,
  type News2Points,
  scoreAirOrOxygen,
  scoreConsciousness,
  scorePulse,
  scoreRespirationRate,
  scoreSpo2Scale1,
  scoreSpo2Scale2,
  scoreSystolicBp,
  scoreTemperatureTenths,
} from './news2-chart.ts';

export const NEWS2_PARAMETERS = [
  'respiration-rate',
  'spo2',
  'air-or-oxygen',
  'systolic-bp',
  'pulse',
  'consciousness',
  'temperature',
] as const;
export type News2Parameter = (typeof NEWS2_PARAMETERS)[number];

/** The FHIR mapping's merged systolic/diastolic panel code (fhir/profiles.ts). */
export const BLOOD_PRESSURE_PANEL = 'blood-pressure';
export type News2SourceCode = VitalCode | typeof BLOOD_PRESSURE_PANEL;

/** Which vital codes feed each parameter; the latest reading among them is used. */
export const NEWS2_SOURCES: Readonly<Record<News2Parameter, readonly News2SourceCode[]>> = {
  'respiration-rate': ['respiratory-rate'],
  spo2: ['spo2'],
  'air-or-oxygen': ['supplemental-oxygen'],
  'systolic-bp': ['bp-systolic', BLOOD_PRESSURE_PANEL],
  pulse: ['heart-rate', 'pulse-rate'],
  consciousness: ['consciousness'],
  temperature: ['body-temperature'],
};

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Default freshness windows. A policy choice, not part of the RCP chart: continuously monitored
 * parameters must be recent (10 min), non-invasive BP cycles are slower (1 h), and manually charted
 * ones (temperature, ACVPU, oxygen) follow the chart's minimum 12-hourly observation frequency.
 */
/** How far ahead of now a reading may be stamped before it is refused (device clock ahead). */
const DEFAULT_MAX_FUTURE_SKEW_MS = 5000;

export const DEFAULT_NEWS2_FRESHNESS_MS: Readonly<Record<News2Parameter, number>> = {
  'respiration-rate': 10 * MINUTE,
  spo2: 10 * MINUTE,
  'air-or-oxygen': 12 * HOUR,
  'systolic-bp': HOUR,
  pulse: 10 * MINUTE,
  consciousness: 12 * HOUR,
  temperature: 12 * HOUR,
};

/** One reading; `at` is epoch milliseconds. A BP panel carries `{ systolic, diastolic? }`. */
export interface News2Reading {
  readonly code: News2SourceCode;
  readonly value: number | boolean | string | { readonly systolic: number; readonly diastolic?: number };
  readonly at: number;
}

export interface News2Input {
  /** Epoch milliseconds. */
  readonly now: number;
  /** Any readings of the patient; the latest one per parameter is scored. */
  readonly readings: readonly News2Reading[];
  /** SpO2 Scale 2 is used only when a clinician prescribed it for this patient (target 88-92 %). */
  readonly spo2Scale2Prescribed?: boolean;
  readonly freshnessMs?: Partial<Record<News2Parameter, number>>;
  /** Readings stamped later than now + this are refused (device clock ahead). Default 5 s. */
  readonly maxFutureSkewMs?: number;
}

export type News2Problem = 'missing' | 'stale' | 'invalid';
export interface News2Issue {
  readonly parameter: News2Parameter;
  readonly problem: News2Problem;
  readonly detail: string;
}

/** Chart 2/4 clinical response: low 0-4, low-medium a single red 3, medium 5-6, high >= 7. */
export type News2Band = 'low' | 'low-medium' | 'medium' | 'high';

/** The alarm priority each band implies (none for low: routine monitoring, no alarm). */
export const NEWS2_BAND_PRIORITY: Readonly<Record<News2Band, AlarmPriority | null>> = {
  low: null,
  'low-medium': 'low',
  medium: 'medium',
  high: 'high',
};

export interface News2Score {
  /** All seven parameters present, fresh and valid. */
  readonly complete: boolean;
  readonly scale: 1 | 2;
  readonly scores: Readonly<Partial<Record<News2Parameter, News2Points>>>;
  /** Sum of the scored parameters (a lower bound when incomplete). */
  readonly total: number;
  readonly anySingleThree: boolean;
  readonly band: News2Band;
  readonly priority: AlarmPriority | null;
  /** Why each lacking parameter was not scored. */
  readonly issues: readonly News2Issue[];
  /** The measurement time of each scored parameter. */
  readonly measuredAt: Readonly<Partial<Record<News2Parameter, number>>>;
}

/** Band by Chart 4: aggregate thresholds first, then the single red score. */
export function news2Band(total: number, anySingleThree: boolean): News2Band {
  if (total >= 7) return 'high';
  if (total >= 5) return 'medium';
  if (anySingleThree) return 'low-medium';
  return 'low';
}

type Parsed<T> = { ok: true; value: T } | { ok: false; detail: string };

function quantity(code: VitalCode, raw: News2Reading['value']): Parsed<number> {
  const v = typeof raw === 'object' && raw !== null ? raw.systolic : raw;
  if (typeof v !== 'number') return { ok: false, detail: `${code} must be a number, got ${typeof v}` };
  if (!Number.isFinite(v)) return { ok: false, detail: `${code} must be a finite number, got ${v}` };
  const { min, max, unit } = VITALS[code];
  if ((min !== undefined && v < min) || (max !== undefined && v > max)) {
    return { ok: false, detail: `${code} ${v} ${unit} is outside the plausible range ${min}..${max}` };
  }
  return { ok: true, value: v };
}

/** Rates, saturation and pressure are integers in the chart; temperature is scored in tenths. */
function scoreParameter(
  parameter: News2Parameter,
  reading: News2Reading,
  ctx: { scale2: boolean; onOxygen: boolean | undefined },
): Parsed<News2Points> {
  // No closures here: the runtime's keep-names transform makes each one cost a property definition, and
  // this runs for every parameter of every score.
  switch (parameter) {
    case 'air-or-oxygen':
      return typeof reading.value === 'boolean'
        ? { ok: true, value: scoreAirOrOxygen(reading.value) }
        : { ok: false, detail: `supplemental-oxygen must be true or false, got ${typeof reading.value}` };
    case 'consciousness':
      return isAcvpu(reading.value)
        ? { ok: true, value: scoreConsciousness(reading.value) }
        : { ok: false, detail: `consciousness must be one of A, C, V, P, U, got ${describe(reading.value)}` };
  }
  const code = QUANTITY_CODE[parameter](reading);
  const q = quantity(code, reading.value);
  if (!q.ok) return q;
  const n = q.value;
  switch (parameter) {
    case 'respiration-rate':
      return { ok: true, value: scoreRespirationRate(Math.round(n)) };
    case 'spo2':
      // Scale 2 above 92 % depends on air or oxygen: without a usable oxygen flag it cannot be scored.
      return {
        ok: true,
        value: ctx.scale2
          ? scoreSpo2Scale2(Math.round(n), ctx.onOxygen === true)
          : scoreSpo2Scale1(Math.round(n)),
      };
    case 'systolic-bp':
      return { ok: true, value: scoreSystolicBp(Math.round(n)) };
    case 'pulse':
      return { ok: true, value: scorePulse(Math.round(n)) };
    case 'temperature':
      return { ok: true, value: scoreTemperatureTenths(Math.round(n * 10)) };
  }
}

/** The vital whose plausible range checks a numeric parameter's value. */
const QUANTITY_CODE: Record<
  Exclude<News2Parameter, 'air-or-oxygen' | 'consciousness'>,
  (r: News2Reading) => VitalCode
> = {
  'respiration-rate': () => 'respiratory-rate',
  spo2: () => 'spo2',
  'systolic-bp': () => 'bp-systolic',
  pulse: (r) => (r.code === 'pulse-rate' ? 'pulse-rate' : 'heart-rate'),
  temperature: () => 'body-temperature',
};

/** A short, safe description of a refused value (objects may lack a prototype). */
const describe = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v.slice(0, 16)) : typeof v);

const isAcvpu = (v: unknown): v is Acvpu => v === 'A' || v === 'C' || v === 'V' || v === 'P' || v === 'U';

/** The latest reading of a parameter among its source codes, ignoring readings with an unusable time. */
function latestOf(parameter: News2Parameter, readings: readonly News2Reading[]): News2Reading | undefined {
  const sources = NEWS2_SOURCES[parameter];
  let latest: News2Reading | undefined;
  for (const r of readings) {
    if (!sources.includes(r.code) || !Number.isFinite(r.at)) continue;
    if (r.code === BLOOD_PRESSURE_PANEL && typeof r.value !== 'object') continue;
    if (latest === undefined || r.at > latest.at) latest = r;
  }
  return latest;
}

type Pick = { ok: true; reading: News2Reading } | { ok: false; issue: News2Issue };

function pickFresh(parameter: News2Parameter, input: News2Input): Pick {
  const reading = latestOf(parameter, input.readings);
  if (reading === undefined) {
    return { ok: false, issue: { parameter, problem: 'missing', detail: `no ${parameter} reading` } };
  }
  const window = input.freshnessMs?.[parameter] ?? DEFAULT_NEWS2_FRESHNESS_MS[parameter];
  const age = input.now - reading.at;
  if (age > window) {
    const detail = `latest ${parameter} is ${Math.round(age / 1000)} s old (window ${window / 1000} s)`;
    return { ok: false, issue: { parameter, problem: 'stale', detail } };
  }
  if (-age > (input.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS)) {
    const detail = `${parameter} is stamped ${Math.round(-age / 1000)} s in the future`;
    return { ok: false, issue: { parameter, problem: 'invalid', detail } };
  }
  return { ok: true, reading };
}

/** Scores NEWS2 from the latest fresh reading of each parameter at `input.now`. Never throws. */
export function computeNews2(input: News2Input): News2Score {
  const scale2 = input.spo2Scale2Prescribed === true;
  const issues: News2Issue[] = [];
  const picked = new Map<News2Parameter, News2Reading>();
  if (!Number.isFinite(input.now)) {
    for (const parameter of NEWS2_PARAMETERS) {
      issues.push({ parameter, problem: 'invalid', detail: `now must be a finite time, got ${input.now}` });
    }
  } else {
    for (const parameter of NEWS2_PARAMETERS) {
      const p = pickFresh(parameter, input);
      if (p.ok) picked.set(parameter, p.reading);
      else issues.push(p.issue);
    }
  }
  const oxygen = picked.get('air-or-oxygen')?.value;
  const ctx = { scale2, onOxygen: typeof oxygen === 'boolean' ? oxygen : undefined };
  const scores: Partial<Record<News2Parameter, News2Points>> = {};
  const measuredAt: Partial<Record<News2Parameter, number>> = {};
  for (const [parameter, reading] of picked) {
    if (parameter === 'spo2' && scale2 && ctx.onOxygen === undefined) {
      const detail = 'SpO2 Scale 2 needs a fresh, valid air-or-oxygen reading to score';
      issues.push({ parameter, problem: 'missing', detail });
      continue;
    }
    const s = scoreParameter(parameter, reading, ctx);
    if (s.ok) {
      scores[parameter] = s.value;
      measuredAt[parameter] = reading.at;
    } else {
      issues.push({ parameter, problem: 'invalid', detail: s.detail });
    }
  }
  const values: News2Points[] = NEWS2_PARAMETERS.flatMap((p) => scores[p] ?? []);
  const total = values.reduce<number>((a, b) => a + b, 0);
  const anySingleThree = values.includes(3);
  const band = news2Band(total, anySingleThree);
  return {
    complete: issues.length === 0,
    scale: scale2 ? 2 : 1,
    scores,
    total,
    anySingleThree,
    band,
    priority: NEWS2_BAND_PRIORITY[band],
    issues: sortIssues(issues),
    measuredAt,
  };
}

/** The NEWS2 parameters each source code feeds (a reading of it may be the one scored for them). */
const PARAMETERS_OF: ReadonlyMap<string, readonly News2Parameter[]> = (() => {
  const m = new Map<string, News2Parameter[]>();
  for (const p of NEWS2_PARAMETERS)
    for (const code of NEWS2_SOURCES[p]) m.set(code, [...(m.get(code) ?? []), p]);
  return m;
})();

/**
 * The earliest time from which a score of these readings may differ from the score made at `scoredAt`:
 * a parameter's latest reading going stale (older than its freshness window), or a reading stamped too far
 * in the future coming into range. Until then only the clock moves, and the score stays what it was (its
 * issues' wording of an age aside). Infinity when no reading can change that way. Conservative: every
 * reading counts, not only the latest of its parameter, so it may name a time at which nothing changes.
 */
export function news2ChangesAfter(
  readings: Iterable<News2Reading>,
  scoredAt: number,
  options: { readonly freshnessMs?: News2Input['freshnessMs']; readonly maxFutureSkewMs?: number } = {},
): number {
  const skew = options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
  let due = Number.POSITIVE_INFINITY;
  for (const r of readings) {
    if (!Number.isFinite(r.at)) continue;
    for (const parameter of PARAMETERS_OF.get(r.code) ?? []) {
      const staleFrom = r.at + (options.freshnessMs?.[parameter] ?? DEFAULT_NEWS2_FRESHNESS_MS[parameter]);
      if (staleFrom >= scoredAt && staleFrom < due) due = staleFrom;
    }
    const validFrom = r.at - skew;
    if (validFrom > scoredAt && validFrom < due) due = validFrom;
  }
  return due;
}

const sortIssues = (issues: News2Issue[]): News2Issue[] =>
  issues.sort((a, b) => NEWS2_PARAMETERS.indexOf(a.parameter) - NEWS2_PARAMETERS.indexOf(b.parameter));
