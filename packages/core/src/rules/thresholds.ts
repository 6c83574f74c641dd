/**
 * Limit alarms on one vital sign: "above/below a limit for N seconds" and/or "N readings in a row",
 * cleared with hysteresis (the value must come back past the limit by a margin, for M readings in a
 * row) so that a value hovering at the limit does not flap. Pure: feed points in time order.
 */
import type { AlarmPriority } from '../alarms/vocabulary.ts';
import type { VitalCode } from '../codes/vitals.ts';
import { type ConditionEvent, checkPoint, type RuleStep, type SeriesPoint } from './condition.ts';

/** Device measures that technical rules put limits on. */
export type TechnicalMeasure = 'battery' | 'signal-quality';

export interface ThresholdRule {
  readonly vital: VitalCode | TechnicalMeasure;
  readonly direction: 'high' | 'low';
  /** Breach when value > limit (high) or value < limit (low). */
  readonly limit: number;
  /** Clear only when value <= limit - hysteresis (high) or >= limit + hysteresis (low). */
  readonly hysteresis: number;
  readonly priority: AlarmPriority;
  /** The breach must last this long (first to latest breaching point). Default 0. */
  readonly forMs?: number;
  /** And this many breaching readings in a row. Default 1. */
  readonly consecutive?: number;
  /** Readings in a row past the hysteresis margin needed to clear. Default 1. */
  readonly clearConsecutive?: number;
}

/**
 * Adult defaults, typical of bedside monitor factory settings (e.g. the adult profiles of Philips
 * IntelliVue and Mindray monitors: HR 50-120, SpO2 low 90, RR 8-30, NIBP systolic 90-160, temperature
 * 36-39 C). They are starting points; a clinician sets per-patient limits, and each site should check
 * them against its own monitors' manuals. The hysteresis margins and delays are our policy.
 */
export const DEFAULT_THRESHOLDS: readonly ThresholdRule[] = [
  { vital: 'heart-rate', direction: 'high', limit: 120, hysteresis: 5, priority: 'medium', forMs: 10_000 },
  { vital: 'heart-rate', direction: 'low', limit: 50, hysteresis: 5, priority: 'medium', forMs: 10_000 },
  { vital: 'pulse-rate', direction: 'high', limit: 120, hysteresis: 5, priority: 'medium', forMs: 10_000 },
  { vital: 'pulse-rate', direction: 'low', limit: 50, hysteresis: 5, priority: 'medium', forMs: 10_000 },
  { vital: 'spo2', direction: 'low', limit: 90, hysteresis: 2, priority: 'medium', forMs: 10_000 },
  {
    vital: 'respiratory-rate',
    direction: 'high',
    limit: 30,
    hysteresis: 2,
    priority: 'medium',
    forMs: 10_000,
  },
  { vital: 'respiratory-rate', direction: 'low', limit: 8, hysteresis: 2, priority: 'medium', forMs: 10_000 },
  { vital: 'bp-systolic', direction: 'high', limit: 160, hysteresis: 5, priority: 'medium' },
  { vital: 'bp-systolic', direction: 'low', limit: 90, hysteresis: 5, priority: 'medium' },
  { vital: 'body-temperature', direction: 'high', limit: 39, hysteresis: 0.2, priority: 'low' },
  { vital: 'body-temperature', direction: 'low', limit: 36, hysteresis: 0.2, priority: 'low' },
];

/** A patient's own limits override the defaults rule by rule (same vital and direction). */
export function patientThresholds(overrides: readonly ThresholdRule[]): ThresholdRule[] {
  const key = (r: ThresholdRule) => `${r.vital}:${r.direction}`;
  const mine = new Map(overrides.map((r) => [key(r), r]));
  const merged = DEFAULT_THRESHOLDS.map((r) => mine.get(key(r)) ?? r);
  const extra = overrides.filter((r) => !DEFAULT_THRESHOLDS.some((d) => key(d) === key(r)));
  return [...merged, ...extra];
}

/** What is wrong with a rule: the field at fault and why. */
export interface RuleProblem {
  readonly field: keyof ThresholdRule;
  readonly detail: string;
}

/**
 * Refuses rules the evaluation cannot work with, naming the field. Whether a rule makes clinical sense
 * for a patient (a possible limit, a band that can clear) is threshold-check.ts.
 */
export function thresholdRuleProblem(rule: ThresholdRule): RuleProblem | undefined {
  const bad = (field: keyof ThresholdRule, detail: string) => ({ field, detail });
  if (!Number.isFinite(rule.limit)) return bad('limit', `limit must be a finite number, got ${rule.limit}`);
  if (!(rule.hysteresis >= 0 && Number.isFinite(rule.hysteresis)))
    return bad('hysteresis', `hysteresis must be >= 0, got ${rule.hysteresis}`);
  if (rule.forMs !== undefined && !(rule.forMs >= 0))
    return bad('forMs', `forMs must be >= 0, got ${rule.forMs}`);
  for (const f of ['consecutive', 'clearConsecutive'] as const) {
    const n = rule[f];
    if (n !== undefined && !(Number.isInteger(n) && n >= 1))
      return bad(f, `${f} must be an integer >= 1, got ${n}`);
  }
  return undefined;
}

/** Refuses limits that cannot work; the message begins with the field's name. */
export const validateThresholdRule = (rule: ThresholdRule): string | undefined =>
  thresholdRuleProblem(rule)?.detail;

export const thresholdCondition = (rule: ThresholdRule): string =>
  `threshold:${rule.vital}:${rule.direction}`;

export interface ThresholdState {
  readonly active: boolean;
  readonly lastAt?: number;
  readonly breachSince?: number;
  readonly breachCount: number;
  readonly clearCount: number;
}

export const initialThresholdState: ThresholdState = { active: false, breachCount: 0, clearCount: 0 };

/** Feeds one point of the rule's vital. */
export function evaluateThreshold(
  rule: ThresholdRule,
  state: ThresholdState,
  p: SeriesPoint,
): RuleStep<ThresholdState> {
  const bad = ruleProblem(rule) ?? checkPoint(p, state.lastAt, rule.vital);
  if (bad) return { state, events: [], refused: bad };
  const high = rule.direction === 'high';
  if (!state.active) {
    const breach = high ? p.value > rule.limit : p.value < rule.limit;
    if (!breach) return { state: { ...initialThresholdState, lastAt: p.at }, events: [] };
    const since = state.breachSince ?? p.at;
    const count = state.breachCount + 1;
    const held = p.at - since >= (rule.forMs ?? 0) && count >= (rule.consecutive ?? 1);
    if (!held)
      return { state: { ...state, lastAt: p.at, breachSince: since, breachCount: count }, events: [] };
    const reason = `${rule.vital} ${p.value} ${high ? '>' : '<'} ${rule.limit} for ${(p.at - since) / 1000} s, ${count} readings`;
    return {
      state: { active: true, lastAt: p.at, breachCount: 0, clearCount: 0 },
      events: [thresholdEvent(rule, p, 'onset', reason)],
    };
  }
  const back = high ? p.value <= rule.limit - rule.hysteresis : p.value >= rule.limit + rule.hysteresis;
  if (!back) return { state: { ...state, lastAt: p.at, clearCount: 0 }, events: [] };
  const clearCount = state.clearCount + 1;
  if (clearCount < (rule.clearConsecutive ?? 1))
    return { state: { ...state, lastAt: p.at, clearCount }, events: [] };
  const margin = high ? rule.limit - rule.hysteresis : rule.limit + rule.hysteresis;
  const reason = `${rule.vital} ${p.value} back ${high ? 'at or below' : 'at or above'} ${margin}`;
  return {
    state: { ...initialThresholdState, lastAt: p.at },
    events: [thresholdEvent(rule, p, 'clear', reason)],
  };
}

// Module-level helpers, not closures per call: the runtime's keep-names transform makes each named closure
// cost a property definition, and these run for every vital of every reading.
function thresholdEvent(
  rule: ThresholdRule,
  p: SeriesPoint,
  type: ConditionEvent['type'],
  reason: string,
): ConditionEvent {
  return {
    type,
    condition: thresholdCondition(rule),
    category: 'physiological',
    priority: rule.priority,
    at: p.at,
    reason,
    value: p.value,
  };
}

/** Rules are immutable values: each is validated once, not at every point. */
const ruleProblems = new WeakMap<ThresholdRule, string | null>();
function ruleProblem(rule: ThresholdRule): string | undefined {
  let problem = ruleProblems.get(rule);
  if (problem === undefined) {
    problem = validateThresholdRule(rule) ?? null;
    ruleProblems.set(rule, problem);
  }
  return problem ?? undefined;
}

/** Folds a whole series through a rule (for tests and replays). */
export function evaluateSeries<S>(
  step: (state: S, p: SeriesPoint) => RuleStep<S>,
  initial: S,
  points: readonly SeriesPoint[],
): { state: S; events: ConditionEvent[]; refused: string[] } {
  let state = initial;
  const events: ConditionEvent[] = [];
  const refused: string[] = [];
  for (const p of points) {
    const r = step(state, p);
    state = r.state;
    events.push(...r.events);
    if (r.refused) refused.push(r.refused);
  }
  return { state, events, refused };
}
