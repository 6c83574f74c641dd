/**
 * The technical rules of a device report: lead off, low battery, poor signal quality. A pure evaluator:
 * it takes its state and one report and returns the next state and any condition onset/clear events.
 */
import type { ConditionEvent, RuleStep } from './condition.ts';
import {
  evaluateThreshold,
  initialThresholdState,
  type ThresholdRule,
  type ThresholdState,
} from './thresholds.ts';

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
