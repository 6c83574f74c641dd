/**
 * An alarm's timers are due times on the alarm itself (escalation, reminder, snooze expiry,
 * auto-resolution), fired by the reducer's `tick`; these helpers arm and disarm them. Pure.
 */
import type { Alarm } from './model.ts';
import type { AlarmPolicy } from './policy.ts';

/** The earliest time a `tick` has something to do, if any. */
export function nextDueAt(alarm: Alarm): number | undefined {
  const due = [alarm.escalateAt, alarm.remindAt, alarm.snoozedUntil, alarm.resolveAt].filter(
    (t): t is number => t !== undefined,
  );
  return due.length === 0 ? undefined : Math.min(...due);
}

/** Reminder and escalation timers of an unacknowledged alarm. */
export function unackedTimers(
  policy: AlarmPolicy,
  now: number,
  level = 0,
): Pick<Alarm, 'escalateAt' | 'remindAt'> {
  return {
    escalateAt: level < policy.maxEscalationLevel ? now + policy.escalateAfterMs : undefined,
    remindAt: now + policy.reminderIntervalMs,
  };
}

export const withoutUnackedTimers = (alarm: Alarm): Alarm => ({
  ...alarm,
  escalateAt: undefined,
  remindAt: undefined,
  snoozedUntil: undefined,
});

/**
 * The reminder and escalation timers of an active alarm upgraded to `policy` at `now` (see
 * priority-change.ts): the earlier of what was due and what the new policy allows from now, so an upgrade
 * never puts them off; fresh from now if it was snoozed, since the snooze was granted for the lesser alarm.
 */
export function upgradedTimers(
  alarm: Alarm,
  policy: AlarmPolicy,
  now: number,
): Pick<Alarm, 'escalateAt' | 'remindAt' | 'snoozedUntil'> {
  const fresh = unackedTimers(policy, now, alarm.escalationLevel);
  if (alarm.snoozedUntil !== undefined) return { ...fresh, snoozedUntil: undefined };
  const { escalateAt } = fresh;
  const remindAt = now + policy.reminderIntervalMs;
  return {
    escalateAt: escalateAt === undefined ? undefined : Math.min(alarm.escalateAt ?? escalateAt, escalateAt),
    remindAt: Math.min(alarm.remindAt ?? remindAt, remindAt),
    snoozedUntil: undefined,
  };
}
