import type { AlarmCategory, AlarmPriority } from '../alarms/vocabulary.ts';

/** One timed numeric value of a series; `at` is epoch milliseconds. */
export interface SeriesPoint {
  readonly at: number;
  readonly value: number;
}

/** A rule's verdict that its condition began or ended; the alarm reducer consumes these. */
export interface ConditionEvent {
  readonly type: 'onset' | 'clear';
  /** e.g. `threshold:heart-rate:high`; with the patient id it makes the alarm key. */
  readonly condition: string;
  readonly category: AlarmCategory;
  readonly priority: AlarmPriority;
  readonly at: number;
  readonly reason: string;
  readonly value?: number;
}

/** Result of feeding one input to a rule: the next state, the events, or a refusal with its reason. */
export interface RuleStep<S> {
  readonly state: S;
  readonly events: readonly ConditionEvent[];
  readonly refused?: string;
}

/** Refuses non-finite values and times, and times going backwards. */
export function checkPoint(p: SeriesPoint, lastAt: number | undefined, what: string): string | undefined {
  if (!Number.isFinite(p.at)) return `${what}: at must be a finite time, got ${p.at}`;
  if (!Number.isFinite(p.value)) return `${what}: value must be a finite number, got ${p.value}`;
  if (lastAt !== undefined && p.at < lastAt)
    return `${what}: at ${p.at} is before the previous point ${lastAt}`;
  return undefined;
}
