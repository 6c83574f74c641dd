import type { AlarmPriority } from './vocabulary.ts';

/**
 * How an alarm behaves over time. These timings are local policy (IEC 60601-1-8 sets signal
 * characteristics, not escalation times): defaults below are starting points a site should review.
 */
export interface AlarmPolicy {
  /** Escalate when not acknowledged within this time; then again after each further interval. */
  readonly escalateAfterMs: number;
  /** Highest escalation level (0 = the assigned nurse or care team, 1 = charge nurse, ...). */
  readonly maxEscalationLevel: number;
  /** Remind the current recipients at this interval while unacknowledged and not snoozed. */
  readonly reminderIntervalMs: number;
  /** Resolve automatically when the condition clears; false requires a person to resolve it. */
  readonly autoResolve: boolean;
  /** The condition must stay clear this long before auto-resolution (time hysteresis). */
  readonly clearHoldMs: number;
  /** A new onset of the condition returns an acknowledged alarm to active. */
  readonly reactivateOnOnset: boolean;
  /** Longest snooze allowed. */
  readonly maxSnoozeMs: number;
}

const MIN = 60_000;

export const DEFAULT_ALARM_POLICY: Readonly<Record<AlarmPriority, AlarmPolicy>> = {
  high: {
    escalateAfterMs: 2 * MIN,
    maxEscalationLevel: 3,
    reminderIntervalMs: MIN,
    autoResolve: false,
    clearHoldMs: 60_000,
    reactivateOnOnset: true,
    maxSnoozeMs: 2 * MIN,
  },
  medium: {
    escalateAfterMs: 5 * MIN,
    maxEscalationLevel: 2,
    reminderIntervalMs: 3 * MIN,
    autoResolve: true,
    clearHoldMs: 60_000,
    reactivateOnOnset: true,
    maxSnoozeMs: 10 * MIN,
  },
  low: {
    escalateAfterMs: 15 * MIN,
    maxEscalationLevel: 1,
    reminderIntervalMs: 10 * MIN,
    autoResolve: true,
    clearHoldMs: 30_000,
    reactivateOnOnset: false,
    maxSnoozeMs: 30 * MIN,
  },
};
