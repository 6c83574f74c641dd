/**
 * Trend, stale-data and technical rules. Pure evaluators: each takes its state and one input (a
 * point, a device report, or a clock tick with `now`) and returns the next state and any condition
 * onset/clear events.
 */
import type { AlarmPriority } from '../alarms/vocabulary.ts';
import type { VitalCode } from '../codes/vitals.ts';
import { type ConditionEvent, checkPoint, type RuleStep, type SeriesPoint } from './condition.ts';
import {
  evaluateThreshold,
  initialThresholdState,
  type ThresholdRule,
  type ThresholdState,
} from './thresholds.ts';

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
  readonly points: readonly SeriesPoint[];
}
export const initialTrendState: TrendState = { active: false, points: [] };

export const trendCondition = (rule: TrendRule): string => `trend:${rule.vital}:rise`;

export function evaluateTrend(rule: TrendRule, state: TrendState, p: SeriesPoint): RuleStep<TrendState> {
  const bad = checkPoint(p, state.points.at(-1)?.at, rule.vital);
  if (bad) return { state, events: [], refused: bad };
  const points = [...state.points, p].filter((q) => q.at > p.at - rule.windowMs);
  const span = p.at - points[0]!.at;
  const slope = slopePerHour(points);
  // Judge only a window that is mostly covered with enough points, so a short burst is not a trend.
  if (slope === undefined || points.length < rule.minPoints || span < 0.8 * rule.windowMs) {
    return { state: { ...state, points }, events: [] };
  }
  const event = (type: ConditionEvent['type']): ConditionEvent => ({
    type,
    condition: trendCondition(rule),
    category: 'physiological',
    priority: rule.priority,
    at: p.at,
    reason: `${rule.vital} trend ${slope.toFixed(1)}/h over ${Math.round(span / 60_000)} min`,
    value: slope,
  });
  if (!state.active && slope >= rule.minRisePerHour)
    return { state: { active: true, points }, events: [event('onset')] };
  if (state.active && slope < rule.minRisePerHour * rule.clearFraction) {
    return { state: { active: false, points }, events: [event('clear')] };
  }
  return { state: { ...state, points }, events: [] };
}

/** Device offline: no data for twice the device's expected reporting interval. */
export interface StalenessState {
  readonly active: boolean;
  /** Last data time, or when monitoring of the device began. */
  readonly lastSeenAt: number;
}
export type StalenessInput =
  | { readonly type: 'data'; readonly at: number }
  | { readonly type: 'tick'; readonly now: number };

export const offlineCondition = (deviceId: string): string => `technical:device-offline:${deviceId}`;

export function evaluateStaleness(
  deviceId: string,
  expectedIntervalMs: number,
  state: StalenessState,
  input: StalenessInput,
): RuleStep<StalenessState> {
  if (!(expectedIntervalMs > 0 && Number.isFinite(expectedIntervalMs))) {
    return { state, events: [], refused: `expectedIntervalMs must be > 0, got ${expectedIntervalMs}` };
  }
  const time = input.type === 'data' ? input.at : input.now;
  if (!Number.isFinite(time))
    return { state, events: [], refused: `${input.type}: time must be finite, got ${time}` };
  if (input.type === 'data') {
    const next = { active: false, lastSeenAt: Math.max(state.lastSeenAt, time) };
    return {
      state: next,
      events: state.active ? [offlineEvent(deviceId, 'clear', time, 'data received again')] : [],
    };
  }
  const silent = time - state.lastSeenAt;
  if (state.active || silent < 2 * expectedIntervalMs) return { state, events: [] };
  const reason = `no data for ${Math.round(silent / 1000)} s (expected every ${expectedIntervalMs / 1000} s)`;
  return { state: { ...state, active: true }, events: [offlineEvent(deviceId, 'onset', time, reason)] };
}

// Module-level, not a closure per call: the runtime's keep-names transform makes each named closure
// cost a property definition, and this runs for every reading.
function offlineEvent(
  deviceId: string,
  type: ConditionEvent['type'],
  at: number,
  reason: string,
): ConditionEvent {
  return {
    type,
    condition: offlineCondition(deviceId),
    category: 'technical',
    priority: 'medium',
    at,
    reason,
  };
}

/** When a tick must come to detect the device offline on time. */
export const stalenessDueAt = (state: StalenessState, expectedIntervalMs: number): number | undefined =>
  state.active ? undefined : state.lastSeenAt + 2 * expectedIntervalMs;

/** Technical conditions from a device report: lead off, low battery, poor signal quality (0..1). */
export interface DeviceReport {
  readonly at: number;
  readonly leadOff?: boolean;
  readonly battery?: number;
  readonly signalQuality?: number;
}
export interface TechnicalState {
  readonly leadOff: boolean;
  readonly battery: ThresholdState;
  readonly signal: ThresholdState;
}
export const initialTechnicalState: TechnicalState = {
  leadOff: false,
  battery: initialThresholdState,
  signal: initialThresholdState,
};

/** Low battery below 20 % (clears at 25 %); poor signal below 0.5 for 10 s (clears at 0.6). Our policy. */
export const BATTERY_RULE: ThresholdRule = {
  vital: 'battery',
  direction: 'low',
  limit: 20,
  hysteresis: 5,
  priority: 'low',
};
export const SIGNAL_RULE: ThresholdRule = {
  vital: 'signal-quality',
  direction: 'low',
  limit: 0.5,
  hysteresis: 0.1,
  priority: 'medium',
  forMs: 10_000,
};

export function evaluateTechnical(
  deviceId: string,
  state: TechnicalState,
  r: DeviceReport,
): RuleStep<TechnicalState> {
  const events: ConditionEvent[] = [];
  const refused: string[] = [];
  const tech = (e: ConditionEvent, name: string): ConditionEvent => ({
    ...e,
    condition: `technical:${name}:${deviceId}`,
    category: 'technical',
  });
  let { leadOff, battery, signal } = state;
  if (r.leadOff !== undefined && r.leadOff !== leadOff && Number.isFinite(r.at)) {
    leadOff = r.leadOff;
    const e: ConditionEvent = {
      type: leadOff ? 'onset' : 'clear',
      condition: `technical:lead-off:${deviceId}`,
      category: 'technical',
      priority: 'medium',
      at: r.at,
      reason: leadOff ? 'device reports lead off' : 'leads reconnected',
    };
    events.push(e);
  }
  const sub = (
    rule: ThresholdRule,
    s: ThresholdState,
    value: number | undefined,
    name: string,
  ): ThresholdState => {
    if (value === undefined) return s;
    const step = evaluateThreshold(rule, s, { at: r.at, value });
    events.push(...step.events.map((e) => tech(e, name)));
    if (step.refused) refused.push(step.refused);
    return step.state;
  };
  battery = sub(BATTERY_RULE, battery, r.battery, 'low-battery');
  signal = sub(SIGNAL_RULE, signal, r.signalQuality, 'poor-signal');
  const next = { leadOff, battery, signal };
  return refused.length > 0 ? { state: next, events, refused: refused.join('; ') } : { state: next, events };
}
