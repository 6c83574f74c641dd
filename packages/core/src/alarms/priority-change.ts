/**
 * What an open alarm becomes when its condition returns at another priority (NEWS2 rising from medium to
 * high, or falling back). Pure; the reducer (alarm.ts) applies it.
 *
 * Up: the alarm takes the policy of its new priority, so a high alarm escalates, reminds, snoozes and
 * resolves like every other high alarm (never automatically). Its timers are armed for the new policy, but
 * never later than they already were: a more urgent alarm must not wait longer for its reminder or
 * escalation than the less urgent one would have. A snooze granted for the lesser alarm ends: the greater
 * one is announced now and timed from now.
 *
 * Down: the alarm keeps the highest priority it reached, and that priority's policy, until a person or
 * the rules resolve it (IEC 60601-1-8 practice: a latched high alarm does not quietly become one that
 * resolves itself). Lowering is refused by the reducer with a reason; the next alarm of the condition
 * starts at whatever priority the rules then report.
 */
import type { Alarm } from './model.ts';
import { type AlarmPolicy, DEFAULT_ALARM_POLICY } from './policy.ts';
import { type AlarmPriority, comparePriority } from './vocabulary.ts';

export type PriorityChange = 'up' | 'same' | 'down';

export function priorityChange(alarm: Alarm, priority: AlarmPriority | undefined): PriorityChange {
  if (priority === undefined) return 'same';
  const c = comparePriority(priority, alarm.priority);
  return c > 0 ? 'up' : c < 0 ? 'down' : 'same';
}

/** The policy an alarm of this priority follows, unless the caller names another. */
export const policyOf = (priority: AlarmPriority, policy?: AlarmPolicy): AlarmPolicy =>
  policy ?? DEFAULT_ALARM_POLICY[priority];
