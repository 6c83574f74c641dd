/**
 * Everything the rules watch for one patient, composed: limit alarms (patient thresholds over the
 * defaults), trends, NEWS2 from the latest value of each parameter, technical conditions of each device
 * (lead off, low battery, poor signal, offline) and the rhythm screening. Pure: it holds rule states and
 * turns inputs (a vital, a derived measurement, a device status, a clock tick) into condition events for
 * the alarm service; it never reads a clock or does I/O.
 */
import type { AlarmPriority } from '../alarms/vocabulary.ts';
import type { VitalCode } from '../codes/vitals.ts';
import type { ConditionEvent, RuleStep } from './condition.ts';
import {
  computeNews2,
  NEWS2_SOURCES,
  type News2Reading,
  type News2Score,
  news2ChangesAfter,
} from './news2.ts';
import { evaluateStaleness, offlineCleared, type StalenessState, stalenessDueAt } from './staleness.ts';
import { evaluateTechnical, initialTechnicalState, SIGNAL_RULE, type TechnicalState } from './technical.ts';
import {
  evaluateThreshold,
  initialThresholdState,
  patientThresholds,
  type ThresholdRule,
  type ThresholdState,
  thresholdCondition,
} from './thresholds.ts';
import {
  DEFAULT_HEART_RATE_TREND,
  evaluateTrend,
  initialTrendState,
  type TrendRule,
  type TrendState,
  trendCondition,
} from './trends.ts';

export const NEWS2_CONDITION = 'news2';
export const AF_CONDITION = 'rhythm:af';

export interface MonitorSettings {
  /** The patient's own limits; they override the defaults rule by rule. */
  readonly thresholds?: readonly ThresholdRule[];
  readonly spo2Scale2Prescribed?: boolean;
  readonly trends?: readonly TrendRule[];
}

/** A measurement waveform analysis derived for the patient (see the platform's analysis). */
export interface DerivedMeasurementInput {
  readonly deviceId: string;
  readonly code: VitalCode;
  readonly value?: number;
  readonly at: number;
  readonly signalQuality: number;
  readonly leadOff?: boolean;
  readonly rhythm?: 'af-suspected' | 'not-af';
  /** What the rhythm call rests on (the signal package's AF screen). */
  readonly rhythmBasis?: AfScreenBasis;
}

/**
 * Why an AF screen called AF or not (the signal package's AfBasis): irregular RR without distinct P waves,
 * irregular RR with them (not AF), variable but patterned RR without P waves before a narrow QRS, or neither.
 */
export type AfScreenBasis =
  | 'irregular-rr'
  | 'irregular-rr-with-p-waves'
  | 'variable-rr-without-p-waves'
  | 'rr-not-af-like';

/** The AF alarm's reason, in words, from what the screen saw. */
function afOnsetReason(basis: AfScreenBasis | undefined): string {
  if (basis === 'irregular-rr')
    return 'irregularly irregular RR intervals without distinct P waves suggest atrial fibrillation (screening)';
  if (basis === 'variable-rr-without-p-waves')
    return 'variable RR intervals with no P waves before a narrow QRS suggest atrial fibrillation (screening)';
  return 'the rhythm suggests atrial fibrillation (screening)';
}

export interface DeviceStatusInput {
  readonly deviceId: string;
  readonly at: number;
  readonly battery?: number;
  readonly leadOff?: boolean;
}

/** A condition that was open when the platform stopped, so its rule can clear it after a restart. */
export interface OpenCondition {
  readonly condition: string;
  readonly priority: AlarmPriority;
}

const NEWS2_CODES = new Set<string>(Object.values(NEWS2_SOURCES).flat());

export class PatientMonitor {
  private thresholds: ThresholdRule[] = [];
  private trends: readonly TrendRule[] = [];
  /** The rules of each vital with their condition keys, built once per configuration (hot path). */
  private thresholdsByVital = new Map<string, Keyed<ThresholdRule>[]>();
  private trendsByVital = new Map<string, Keyed<TrendRule>[]>();
  private readonly thresholdStates = new Map<string, ThresholdState>();
  private readonly trendStates = new Map<string, TrendState>();
  private readonly technical = new Map<string, TechnicalState>();
  private readonly staleness = new Map<string, { intervalMs: number; state: StalenessState }>();
  private readonly latest = new Map<string, News2Reading>();
  private news2Priority: AlarmPriority | null = null;
  private afActive = false;
  private scale2 = false;
  private lastScore: News2Score | undefined;
  /** When NEWS2 was last scored; and whether something it depends on changed since without a score. */
  private scoredAt = Number.NEGATIVE_INFINITY;
  private news2Unscored = false;

  constructor(settings: MonitorSettings = {}) {
    this.configure(settings);
  }

  /** New settings; rules whose condition stays keep their state (an open breach stays open). */
  configure(settings: MonitorSettings): void {
    this.thresholds = patientThresholds(settings.thresholds ?? []);
    this.trends = settings.trends ?? [DEFAULT_HEART_RATE_TREND];
    this.thresholdsByVital = byVital(this.thresholds, thresholdCondition);
    this.trendsByVital = byVital(this.trends, trendCondition);
    this.scale2 = settings.spo2Scale2Prescribed === true;
    this.news2Unscored = true;
    const keep = new Set(this.thresholds.map(thresholdCondition));
    for (const k of this.thresholdStates.keys()) if (!keep.has(k)) this.thresholdStates.delete(k);
  }

  /** Puts the rules of conditions that are still open back into their active state. */
  restore(open: readonly OpenCondition[]): void {
    for (const o of open) {
      const [kind, name, device] = o.condition.split(':');
      if (kind === 'threshold')
        this.thresholdStates.set(o.condition, { ...initialThresholdState, active: true });
      else if (kind === 'trend') this.trendStates.set(o.condition, { ...initialTrendState, active: true });
      else if (o.condition === NEWS2_CONDITION) {
        this.news2Priority = o.priority;
        this.news2Unscored = true;
      } else if (o.condition === AF_CONDITION) this.afActive = true;
      else if (kind === 'technical' && device !== undefined) this.restoreTechnical(name, device);
    }
  }

  /** Remembers a past value for NEWS2 without scoring it now (seeding after a restart). */
  remember(code: VitalCode, value: News2Reading['value'], at: number): void {
    if (!NEWS2_CODES.has(code)) return;
    const previous = this.latest.get(code);
    if (!previous || previous.at <= at) this.latest.set(code, { code, value, at });
    this.news2Unscored = true;
  }

  /**
   * The earliest time at which a tick may change anything: a watched device due to be called offline, a
   * NEWS2 parameter going stale or coming into range, a NEWS2 not yet scored since its inputs or settings
   * changed (-Infinity: now). Infinity when nothing waits on the clock. A tick before it returns no events
   * and changes nothing but the wording of ages in the score's issues, so a caller may skip it: a ward of
   * patients whose data keeps arriving then costs nothing on the clock.
   */
  nextTickDue(): number {
    if (this.news2Unscored && this.latest.size > 0) return Number.NEGATIVE_INFINITY;
    let due = Number.POSITIVE_INFINITY;
    for (const { intervalMs, state } of this.staleness.values()) {
      const offlineAt = stalenessDueAt(state, intervalMs);
      if (offlineAt !== undefined && offlineAt < due) due = offlineAt;
    }
    if (this.latest.size === 0) return due;
    return Math.min(due, news2ChangesAfter(this.latest.values(), this.scoredAt));
  }

  /** The last NEWS2 computed (after a NEWS2 parameter arrived or a tick). */
  get news2(): News2Score | undefined {
    return this.lastScore;
  }

  /**
   * A vital sign the device measured (or a clinician charted) at `at`; `now` judges NEWS2 freshness. A
   * `late` value (uploaded long after it was measured, e.g. store-and-forward) still counts for NEWS2 if
   * fresh enough, but does not start limit or trend alarms about a moment that has passed.
   */
  vital(
    code: VitalCode,
    value: News2Reading['value'],
    at: number,
    now: number,
    late = false,
  ): ConditionEvent[] {
    const events: ConditionEvent[] = [];
    if (typeof value === 'number' && !late) events.push(...this.numeric(code, value, at));
    if (NEWS2_CODES.has(code)) {
      const previous = this.latest.get(code);
      if (!previous || previous.at <= at) this.latest.set(code, { code, value, at });
      events.push(...this.scoreNews2(now));
    }
    return events;
  }

  /** Several vitals of one reading: limits and trends for each, NEWS2 scored once for them all. */
  vitals(
    samples: readonly { code: VitalCode; value: News2Reading['value']; at: number; late?: boolean }[],
    now: number,
  ): ConditionEvent[] {
    const events: ConditionEvent[] = [];
    let news2 = false;
    for (const v of samples) {
      if (typeof v.value === 'number' && !v.late) events.push(...this.numeric(v.code, v.value, v.at));
      if (NEWS2_CODES.has(v.code)) {
        this.remember(v.code, v.value, v.at);
        news2 = true;
      }
    }
    if (news2) events.push(...this.scoreNews2(now));
    return events;
  }

  /** A measurement derived from a waveform: limits and NEWS2 on its value, technical rules on its quality. */
  derived(d: DerivedMeasurementInput, now: number): ConditionEvent[] {
    const events: ConditionEvent[] = [];
    const leadOff = d.leadOff === true;
    events.push(...this.deviceStatus({ deviceId: d.deviceId, at: d.at, leadOff }));
    // Lead off is its own alarm; it is not also a poor signal.
    if (!leadOff) events.push(...this.techStep(d.deviceId, { at: d.at, signalQuality: d.signalQuality }));
    // A value measured on artefact must not raise a physiological alarm.
    const trustworthy = !leadOff && d.signalQuality >= SIGNAL_RULE.limit;
    if (d.value !== undefined && trustworthy) events.push(...this.vital(d.code, d.value, d.at, now));
    if (d.rhythm === 'af-suspected' && !this.afActive) {
      this.afActive = true;
      events.push(afEvent('onset', d.at, afOnsetReason(d.rhythmBasis)));
    } else if (d.rhythm === 'not-af' && this.afActive) {
      this.afActive = false;
      events.push(afEvent('clear', d.at, 'rhythm no longer suggests atrial fibrillation'));
    }
    return events;
  }

  /** Battery and lead-off as the device reports them. */
  deviceStatus(s: DeviceStatusInput): ConditionEvent[] {
    return this.techStep(s.deviceId, {
      at: s.at,
      ...(s.battery === undefined ? {} : { battery: s.battery }),
      ...(s.leadOff === undefined ? {} : { leadOff: s.leadOff }),
    });
  }

  /** Data arrived from a device at `receivedAt` (platform clock): it is online. */
  deviceSeen(deviceId: string, expectedIntervalMs: number, receivedAt: number): ConditionEvent[] {
    const tracked = this.staleness.get(deviceId);
    const state = tracked?.state ?? { active: false, lastSeenAt: receivedAt };
    const r = evaluateStaleness(deviceId, expectedIntervalMs, state, { type: 'data', at: receivedAt });
    this.staleness.set(deviceId, { intervalMs: expectedIntervalMs, state: r.state });
    return [...r.events];
  }

  /** Starts watching a device that has not spoken since the platform started. */
  watchDevice(deviceId: string, expectedIntervalMs: number, lastSeenAt: number, offline = false): void {
    if (this.staleness.has(deviceId)) return;
    this.staleness.set(deviceId, { intervalMs: expectedIntervalMs, state: { active: offline, lastSeenAt } });
  }

  /**
   * The platform started listening for devices at `at` (after a start): the silence of the devices it
   * watches counts from then, not from before the platform's own downtime, and is blamed on a device only
   * after the longer of twice its interval and `reconnectGraceMs` (the time its reconnect backoff may take).
   */
  listening(at: number, reconnectGraceMs = 0): void {
    for (const [deviceId, t] of this.staleness)
      t.state = evaluateStaleness(deviceId, t.intervalMs, t.state, {
        type: 'listening',
        at,
        reconnectGraceMs,
      }).state;
  }

  /** Stops watching a device (unassigned or revoked); an open offline alarm is cleared. */
  unwatchDevice(deviceId: string, at: number, reason: string): ConditionEvent[] {
    const tracked = this.staleness.get(deviceId);
    this.staleness.delete(deviceId);
    return tracked?.state.active ? [offlineCleared(deviceId, at, reason)] : [];
  }

  /** The clock moved: device-offline detection and NEWS2 parameters going stale. */
  tick(now: number): ConditionEvent[] {
    const events: ConditionEvent[] = [];
    for (const [deviceId, t] of this.staleness) {
      const r = evaluateStaleness(deviceId, t.intervalMs, t.state, { type: 'tick', now });
      t.state = r.state;
      events.push(...r.events);
    }
    if (this.latest.size > 0) events.push(...this.scoreNews2(now));
    return events;
  }

  private numeric(code: VitalCode, value: number, at: number): ConditionEvent[] {
    const events: ConditionEvent[] = [];
    const point = { at, value };
    for (const { rule, key } of this.thresholdsByVital.get(code) ?? NONE) {
      const r = evaluateThreshold(rule, this.thresholdStates.get(key) ?? initialThresholdState, point);
      this.thresholdStates.set(key, r.state);
      for (const e of r.events) events.push(e);
    }
    for (const { rule, key } of this.trendsByVital.get(code) ?? NONE) {
      const r = evaluateTrend(rule, this.trendStates.get(key) ?? initialTrendState, point);
      this.trendStates.set(key, r.state);
      for (const e of r.events) events.push(e);
    }
    return events;
  }

  private scoreNews2(now: number): ConditionEvent[] {
    const score = computeNews2({
      now,
      readings: [...this.latest.values()],
      spo2Scale2Prescribed: this.scale2,
    });
    this.lastScore = score;
    this.scoredAt = now;
    this.news2Unscored = false;
    const was = this.news2Priority;
    const p = score.priority;
    this.news2Priority = p;
    if (p !== null && p !== was) return [news2Event(score, 'onset', p, now)];
    if (p === null && was !== null) return [news2Event(score, 'clear', was, now)];
    return [];
  }

  private techStep(
    deviceId: string,
    r: { at: number; battery?: number; leadOff?: boolean; signalQuality?: number },
  ): ConditionEvent[] {
    const step = evaluateTechnical(deviceId, this.technical.get(deviceId) ?? initialTechnicalState, r);
    return this.keep(step, (s) => this.technical.set(deviceId, s));
  }

  private restoreTechnical(name: string | undefined, deviceId: string): void {
    const t = this.technical.get(deviceId) ?? initialTechnicalState;
    const on = { ...initialThresholdState, active: true };
    if (name === 'lead-off') this.technical.set(deviceId, { ...t, leadOff: true });
    else if (name === 'low-battery') this.technical.set(deviceId, { ...t, battery: on });
    else if (name === 'poor-signal') this.technical.set(deviceId, { ...t, signal: on });
    else if (name === 'device-offline') {
      const tracked = this.staleness.get(deviceId);
      if (tracked) tracked.state = { ...tracked.state, active: true };
    }
  }

  private keep<S>(r: RuleStep<S>, save: (s: S) => void): ConditionEvent[] {
    save(r.state);
    return [...r.events];
  }
}

/** Built only when the priority changes (a module function: no closure per score). */
function news2Event(
  score: News2Score,
  type: ConditionEvent['type'],
  priority: AlarmPriority,
  at: number,
): ConditionEvent {
  const lacking = score.issues.map((i) => i.parameter);
  const reason = `NEWS2 ${score.total}${score.complete ? '' : ` or more (not scored: ${lacking.join(', ')})`}, ${score.band} clinical risk`;
  return {
    type,
    condition: NEWS2_CONDITION,
    category: 'physiological',
    priority,
    at,
    reason,
    value: score.total,
  };
}

interface Keyed<R> {
  readonly rule: R;
  readonly key: string;
}
const NONE: readonly never[] = [];

function byVital<R extends { readonly vital: string }>(
  rules: readonly R[],
  key: (rule: R) => string,
): Map<string, Keyed<R>[]> {
  const map = new Map<string, Keyed<R>[]>();
  for (const rule of rules) {
    const list = map.get(rule.vital) ?? [];
    list.push({ rule, key: key(rule) });
    map.set(rule.vital, list);
  }
  return map;
}

const afEvent = (type: ConditionEvent['type'], at: number, reason: string): ConditionEvent => ({
  type,
  condition: AF_CONDITION,
  category: 'physiological',
  priority: 'medium',
  at,
  reason,
});
