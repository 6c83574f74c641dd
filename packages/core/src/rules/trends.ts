/**
 * The trend rule: a vital sign rising steadily over a window (least-squares slope). A pure evaluator: it
 * takes its state and one point and returns the next state and any condition onset/clear events. The
 * device rules beside it: staleness.ts (device offline), technical.ts (lead off, battery, signal).
 */
import type { AlarmPriority } from '../alarms/vocabulary.ts';
import type { VitalCode } from '../codes/vitals.ts';
import { type ConditionEvent, checkPoint, type RuleStep, type SeriesPoint } from './condition.ts';

const HOUR = 3_600_000;

/** Least-squares slope of value against time, in units per hour; undefined with < 2 distinct times. */
export function slopePerHour(points: readonly SeriesPoint[]): number | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  const t0 = points[0]!.at; // centre times near 0 so epoch milliseconds do not lose precision
  let st = 0;
  let sv = 0;
  for (const p of points) {
    st += p.at - t0;
    sv += p.value;
  }
  const mt = st / n;
  const mv = sv / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    const dt = p.at - t0 - mt;
    num += dt * (p.value - mv);
    den += dt * dt;
  }
  return den === 0 ? undefined : (num / den) * HOUR;
}

export interface TrendRule {
  readonly vital: VitalCode;
  readonly windowMs: number;
  /** Onset when the fitted slope is at least this (units per hour) over a well-covered window. */
  readonly minRisePerHour: number;
  readonly minPoints: number;
  /** Clear when the slope falls below minRisePerHour * clearFraction (hysteresis). */
  readonly clearFraction: number;
  readonly priority: AlarmPriority;
}

/** A sustained heart-rate rise: about +15/min over 30 minutes. Our policy, not a published standard. */
export const DEFAULT_HEART_RATE_TREND: TrendRule = {
  vital: 'heart-rate',
  windowMs: 30 * 60_000,
  minRisePerHour: 30,
  minPoints: 10,
  clearFraction: 0.5,
  priority: 'low',
};

export interface TrendState {
  readonly active: boolean;
  readonly window: TrendWindow;
}

/**
 * The points of a trend's window and their least-squares sums, so that a step costs O(1), not O(window):
 * a 30-minute window of a 1 Hz heart rate holds 1,800 points, and copying and refitting them for every
 * reading cost ~45 µs and 30 KB of garbage per reading. The points are a view [start, end) of an
 * append-only log that successive states share; a state that is stepped twice (a branch) copies its
 * view first, so every state still behaves as an immutable value.
 */
export interface TrendWindow {
  readonly log: PointLog;
  readonly start: number;
  readonly end: number;
  /**
   * Times are summed in seconds from `origin` (epoch ms) and values from `base`: sums of small numbers
   * keep the fit close to one from scratch (a property test compares them).
   */
  readonly origin: number;
  readonly base: number;
  readonly n: number;
  readonly st: number;
  readonly sv: number;
  readonly stt: number;
  readonly stv: number;
}

interface PointLog {
  readonly at: number[];
  readonly value: number[];
}

const EMPTY_WINDOW: TrendWindow = {
  log: { at: [], value: [] },
  start: 0,
  end: 0,
  origin: 0,
  base: 0,
  n: 0,
  st: 0,
  sv: 0,
  stt: 0,
  stv: 0,
};
export const initialTrendState: TrendState = { active: false, window: EMPTY_WINDOW };

export const trendCondition = (rule: TrendRule): string => `trend:${rule.vital}:rise`;

/** Points dropped from the front of a log before it is compacted (and its sums recomputed exactly). */
const COMPACT_AFTER = 4096;

/** The window with p added and the points at or before `from` dropped. */
function slide(w: TrendWindow, p: SeriesPoint, from: number): TrendWindow {
  let log = w.log;
  let start = w.start;
  const end = w.end;
  if (end !== log.at.length || w.log === EMPTY_WINDOW.log) {
    // Another state already appended to this log (or it is the shared empty one): copy this view.
    log = { at: log.at.slice(start, end), value: log.value.slice(start, end) };
    start = 0;
  }
  log.at.push(p.at);
  log.value.push(p.value);
  // The same points as w's view, so w's sums hold whether or not the view was copied.
  let { origin, base } = w;
  let sums: Sums = { n: w.n, st: w.st, sv: w.sv, stt: w.stt, stv: w.stv };
  if (sums.n === 0) {
    origin = p.at;
    base = p.value;
  }
  sums = addPoint(sums, origin, base, p.at, p.value, 1);
  const last = log.at.length;
  while (start < last - 1 && (log.at[start] as number) <= from) {
    sums = addPoint(sums, origin, base, log.at[start]!, log.value[start]!, -1);
    start++;
  }
  if (start > COMPACT_AFTER && start > last - start) {
    // Mostly dropped points: keep only the window's.
    log = { at: log.at.slice(start), value: log.value.slice(start) };
    start = 0;
    return { log, start, end: log.at.length, ...recount(log, 0) };
  }
  // When the origin lies far behind the window (more than four spans of it), the sums start afresh around
  // the window's oldest point: rounding stays at the size of the window's own spread. On a steady stream
  // that is once every four window lengths: O(1) per point.
  const first = log.at[start] as number;
  if (first - origin > 4 * Math.max(p.at - first, 1))
    return { log, start, end: last, ...recount(log, start) };
  return { log, start, end: last, origin, base, ...sums };
}

type Sums = Pick<TrendWindow, 'n' | 'st' | 'sv' | 'stt' | 'stv'>;

function addPoint(s: Sums, origin: number, base: number, at: number, value: number, sign: 1 | -1): Sums {
  const t = (at - origin) / 1000;
  const v = value - base;
  return {
    n: s.n + sign,
    st: s.st + sign * t,
    sv: s.sv + sign * v,
    stt: s.stt + sign * t * t,
    stv: s.stv + sign * t * v,
  };
}

/** The sums of log[from..] from scratch, around its first point. */
function recount(log: PointLog, from: number): Sums & { origin: number; base: number } {
  const origin = log.at[from] as number;
  const base = log.value[from] as number;
  let s: Sums = { n: 0, st: 0, sv: 0, stt: 0, stv: 0 };
  for (let i = from; i < log.at.length; i++) s = addPoint(s, origin, base, log.at[i]!, log.value[i]!, 1);
  return { origin, base, ...s };
}

/** The points in a trend state's window, oldest first (for tests and displays; O(window)). */
export function trendPoints(state: TrendState): SeriesPoint[] {
  const { log, start, end } = state.window;
  const points: SeriesPoint[] = [];
  for (let i = start; i < end; i++) points.push({ at: log.at[i]!, value: log.value[i]! });
  return points;
}

/** The least-squares slope of a state's window in units per hour: slopePerHour(trendPoints(state)). */
export const trendSlope = (state: TrendState): number | undefined => windowSlope(state.window);

function windowSlope(w: TrendWindow): number | undefined {
  if (w.n < 2 || w.log.at[w.end - 1] === w.log.at[w.start]) return undefined;
  const den = w.stt - (w.st * w.st) / w.n;
  if (!(den > 0)) return undefined;
  return ((w.stv - (w.st * w.sv) / w.n) / den) * 3600;
}

export function evaluateTrend(rule: TrendRule, state: TrendState, p: SeriesPoint): RuleStep<TrendState> {
  const w = state.window;
  const bad = checkPoint(p, w.end > w.start ? w.log.at[w.end - 1] : undefined, rule.vital);
  if (bad) return { state, events: [], refused: bad };
  const window = slide(w, p, p.at - rule.windowMs);
  const span = p.at - (window.log.at[window.start] as number);
  const slope = windowSlope(window);
  // Judge only a window that is mostly covered with enough points, so a short burst is not a trend.
  if (slope === undefined || window.n < rule.minPoints || span < 0.8 * rule.windowMs) {
    return { state: { active: state.active, window }, events: [] };
  }
  if (!state.active && slope >= rule.minRisePerHour)
    return { state: { active: true, window }, events: [trendEvent(rule, p, 'onset', slope, span)] };
  if (state.active && slope < rule.minRisePerHour * rule.clearFraction)
    return { state: { active: false, window }, events: [trendEvent(rule, p, 'clear', slope, span)] };
  return { state: { active: state.active, window }, events: [] };
}

function trendEvent(
  rule: TrendRule,
  p: SeriesPoint,
  type: ConditionEvent['type'],
  slope: number,
  span: number,
): ConditionEvent {
  return {
    type,
    condition: trendCondition(rule),
    category: 'physiological',
    priority: rule.priority,
    at: p.at,
    reason: `${rule.vital} trend ${slope.toFixed(1)}/h over ${Math.round(span / 60_000)} min`,
    value: slope,
  };
}
