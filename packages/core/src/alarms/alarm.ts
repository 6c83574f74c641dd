/**
 * The alarm lifecycle as a pure reducer: `(alarm, event, now) -> result`. Nothing here reads a clock,
 * sets a timer or writes anywhere: timers are due times on the alarm, fired by a `tick` event, and
 * side effects (notify, remind, escalate, schedule the next tick) are returned for the platform to
 * carry out. Every accepted event yields attributed transitions for the audit trail; an event that
 * does not apply is refused with a reason, never thrown. The types it works on are model.ts.
 */
import {
  type Alarm,
  type AlarmEffect,
  type AlarmEvent,
  type AlarmResult,
  type AlarmState,
  type AlarmTransition,
  SYSTEM_ACTOR,
} from './model.ts';
import type { AlarmPolicy } from './policy.ts';
import { policyOf, priorityChange } from './priority-change.ts';
import { nextDueAt, unackedTimers, upgradedTimers, withoutUnackedTimers } from './timers.ts';
import { type AlarmCategory, type AlarmPriority, alarmKey } from './vocabulary.ts';

export { nextDueAt } from './timers.ts';

export interface RaiseAlarm {
  readonly id: string;
  readonly patientId: string;
  readonly condition: string;
  readonly category: AlarmCategory;
  readonly priority: AlarmPriority;
  readonly by: string;
  readonly reason: string;
  readonly policy?: AlarmPolicy;
}

/** A new active alarm: notifies level 0 and schedules the first reminder and escalation. */
export function raiseAlarm(input: RaiseAlarm, now: number): AlarmResult & { ok: true } {
  const policy = policyOf(input.priority, input.policy);
  const alarm: Alarm = {
    id: input.id,
    key: alarmKey(input.patientId, input.condition),
    patientId: input.patientId,
    condition: input.condition,
    category: input.category,
    priority: input.priority,
    state: 'active',
    policy,
    raisedAt: now,
    updatedAt: now,
    conditionPresent: true,
    escalationLevel: 0,
    ...unackedTimers(policy, now),
  };
  const transition = step(alarm, now, 'raise', input.by, input.reason, null);
  return done(alarm, [notice('notify', alarm, now, input.reason)], [transition]);
}

/** Applies one event at time `now` (epoch ms). */
export function reduceAlarm(alarm: Alarm, event: AlarmEvent, now: number): AlarmResult {
  if (!Number.isFinite(now)) return refuse(alarm, `now must be a finite time, got ${now}`);
  if (now < alarm.updatedAt)
    return refuse(alarm, `now ${now} is before the alarm's last change ${alarm.updatedAt}`);
  if (alarm.state === 'resolved')
    return refuse(alarm, 'the alarm is resolved; a new onset raises a new alarm');
  if (event.type === 'tick') return tick(alarm, now);
  if (event.by.trim() === '') return refuse(alarm, `${event.type} must say who did it (by is empty)`);
  if (event.reason.trim() === '') return refuse(alarm, `${event.type} must give a reason (reason is empty)`);
  switch (event.type) {
    case 'acknowledge':
      return acknowledge(alarm, event, now);
    case 'assign':
      return assign(alarm, event, now);
    case 'snooze':
      return snooze(alarm, event, now);
    case 'escalate':
      return escalate(alarm, event, now);
    case 'resolve':
      return (
        (event.force ? undefined : resolvable(alarm)) ??
        resolve(alarm, now, 'resolve', event.by, event.reason)
      );
    case 'condition-cleared':
      return conditionCleared(alarm, event, now);
    case 'condition-onset':
      return conditionOnset(alarm, event, now);
  }
}

type EventOf<T extends AlarmEvent['type']> = Extract<AlarmEvent, { type: T }>;

function acknowledge(alarm: Alarm, e: EventOf<'acknowledge'>, now: number): AlarmResult {
  if (alarm.state !== 'active') return refuse(alarm, `cannot acknowledge an ${alarm.state} alarm`);
  const next: Alarm = {
    ...withoutUnackedTimers(alarm),
    state: 'acknowledged',
    acknowledgedAt: now,
    acknowledgedBy: e.by,
    updatedAt: now,
  };
  const cancel: AlarmEffect = { type: 'cancel-reminders', alarmId: alarm.id, dueAt: now, reason: e.reason };
  return done(next, [cancel], [step(alarm, now, 'acknowledge', e.by, e.reason, 'acknowledged')]);
}

function assign(alarm: Alarm, e: EventOf<'assign'>, now: number): AlarmResult {
  if (e.assignee.trim() === '') return refuse(alarm, 'assign needs an assignee (assignee is empty)');
  if (alarm.assignee === e.assignee) return refuse(alarm, `the alarm is already assigned to ${e.assignee}`);
  const next: Alarm = { ...alarm, assignee: e.assignee, updatedAt: now };
  const effect = notice('notify', next, now, e.reason);
  return done(next, [effect], [step(alarm, now, 'assign', e.by, e.reason, alarm.state)]);
}

function snooze(alarm: Alarm, e: EventOf<'snooze'>, now: number): AlarmResult {
  if (alarm.state !== 'active')
    return refuse(alarm, `only an active alarm can be snoozed, this one is ${alarm.state}`);
  const max = alarm.policy.maxSnoozeMs;
  if (!(e.durationMs > 0 && e.durationMs <= max)) {
    const got = `${e.durationMs / 1000} s`;
    return refuse(alarm, `a snooze lasts at most ${max / 1000} s for a ${alarm.priority} alarm, got ${got}`);
  }
  const next: Alarm = { ...withoutUnackedTimers(alarm), snoozedUntil: now + e.durationMs, updatedAt: now };
  const cancel: AlarmEffect = { type: 'cancel-reminders', alarmId: alarm.id, dueAt: now, reason: e.reason };
  return done(next, [cancel], [step(alarm, now, 'snooze', e.by, e.reason, 'active')]);
}

function escalate(alarm: Alarm, e: EventOf<'escalate'>, now: number): AlarmResult {
  if (alarm.escalationLevel >= alarm.policy.maxEscalationLevel) {
    return refuse(alarm, `already at the highest escalation level ${alarm.escalationLevel}`);
  }
  const level = alarm.escalationLevel + 1;
  const rearm = alarm.state === 'active' && alarm.snoozedUntil === undefined;
  const next: Alarm = {
    ...alarm,
    escalationLevel: level,
    escalateAt:
      rearm && level < alarm.policy.maxEscalationLevel ? now + alarm.policy.escalateAfterMs : undefined,
    updatedAt: now,
  };
  return done(
    next,
    [notice('escalate', next, now, e.reason)],
    [step(alarm, now, 'escalate', e.by, e.reason, alarm.state)],
  );
}

/**
 * A person may not resolve a physiological alarm while its condition is present: nothing would alarm
 * while it lasted (the rules raise a new alarm only when the condition clears and comes back). A
 * technical one (a device offline, a lead off) may be: the equipment is often dealt with away from the
 * platform. Undefined when resolving is allowed.
 */
function resolvable(alarm: Alarm): AlarmResult | undefined {
  if (!alarm.conditionPresent || alarm.category !== 'physiological') return undefined;
  const after = alarm.policy.autoResolve ? 'it resolves itself' : 'it can be resolved';
  const limit = alarm.condition.startsWith('threshold:')
    ? "; if the limit is wrong for this patient, change the patient's alarm settings"
    : '';
  return refuse(
    alarm,
    `cannot resolve while the condition is still present: acknowledge or snooze the alarm; ${after} once the condition has cleared${limit}; if it can no longer be measured (the device was removed), resolve with force and a reason`,
  );
}

function resolve(
  alarm: Alarm,
  now: number,
  event: AlarmTransition['event'],
  by: string,
  reason: string,
): AlarmResult {
  const next: Alarm = {
    ...withoutUnackedTimers(alarm),
    resolveAt: undefined,
    state: 'resolved',
    resolvedAt: now,
    resolvedBy: by,
    resolution: reason,
    updatedAt: now,
  };
  const cancel: AlarmEffect = { type: 'cancel-reminders', alarmId: alarm.id, dueAt: now, reason };
  return done(next, [cancel], [step(alarm, now, event, by, reason, 'resolved')]);
}

function conditionCleared(alarm: Alarm, e: EventOf<'condition-cleared'>, now: number): AlarmResult {
  if (!alarm.conditionPresent) return refuse(alarm, 'the condition is already clear');
  const { autoResolve, clearHoldMs } = alarm.policy;
  const cleared: Alarm = { ...alarm, conditionPresent: false, clearedAt: now, updatedAt: now };
  if (autoResolve && clearHoldMs <= 0) return resolve(cleared, now, 'auto-resolve', e.by, e.reason);
  const next: Alarm = autoResolve ? { ...cleared, resolveAt: now + clearHoldMs } : cleared;
  // Without auto-resolution someone must still resolve it: tell them the condition has cleared.
  const effects = autoResolve ? [] : [notice('notify', next, now, `${e.reason}; manual resolution required`)];
  return done(next, effects, [step(alarm, now, 'condition-cleared', e.by, e.reason, alarm.state)]);
}

function conditionOnset(alarm: Alarm, e: EventOf<'condition-onset'>, now: number): AlarmResult {
  const change = priorityChange(alarm, e.priority);
  const upgrade = change === 'up';
  if (alarm.conditionPresent && !upgrade) {
    return refuse(
      alarm,
      change === 'down'
        ? `the alarm keeps its ${alarm.priority} priority while open (${e.priority} is lower)`
        : 'the condition is already present at this priority',
    );
  }
  const priority = upgrade && e.priority ? e.priority : alarm.priority;
  const policy = upgrade ? policyOf(priority, e.policy) : alarm.policy;
  const reactivate = alarm.state === 'acknowledged' && (upgrade || policy.reactivateOnOnset);
  const present: Alarm = {
    ...alarm,
    priority,
    policy,
    conditionPresent: true,
    clearedAt: undefined,
    resolveAt: undefined,
  };
  if (!reactivate) {
    // An active alarm upgraded: its timers follow the new policy, never later than they were.
    const timers = upgrade && alarm.state === 'active' ? upgradedTimers(alarm, policy, now) : {};
    const next = { ...present, ...timers, updatedAt: now };
    const effects = upgrade ? [notice('notify', next, now, e.reason)] : [];
    return done(next, effects, [step(alarm, now, 'condition-onset', e.by, e.reason, alarm.state)]);
  }
  const next: Alarm = {
    ...present,
    state: 'active',
    acknowledgedAt: undefined,
    acknowledgedBy: undefined,
    updatedAt: now,
    ...unackedTimers(policy, now, alarm.escalationLevel),
  };
  return done(
    next,
    [notice('notify', next, now, e.reason)],
    [step(alarm, now, 'condition-onset', e.by, e.reason, 'active')],
  );
}

/** Fires every timer due at `now`: snooze expiry, escalation, reminder, auto-resolution. */
function tick(alarm: Alarm, now: number): AlarmResult {
  let a = alarm;
  const effects: AlarmEffect[] = [];
  const transitions: AlarmTransition[] = [];
  const record = (event: AlarmTransition['event'], reason: string) =>
    transitions.push(step(alarm, now, event, SYSTEM_ACTOR, reason, a.state));
  if (a.resolveAt !== undefined && now >= a.resolveAt && !a.conditionPresent) {
    return resolve(
      a,
      now,
      'auto-resolve',
      SYSTEM_ACTOR,
      `condition clear for ${a.policy.clearHoldMs / 1000} s`,
    );
  }
  if (a.snoozedUntil !== undefined && now >= a.snoozedUntil) {
    a = { ...a, snoozedUntil: undefined, ...unackedTimers(a.policy, now, a.escalationLevel) };
    effects.push(notice('remind', a, now, 'snooze expired'));
    record('snooze-expired', 'snooze expired');
  }
  if (a.escalateAt !== undefined && now >= a.escalateAt) {
    const level = a.escalationLevel + 1;
    const reason = `not acknowledged within ${a.policy.escalateAfterMs / 1000} s`;
    const again = level < a.policy.maxEscalationLevel ? now + a.policy.escalateAfterMs : undefined;
    a = { ...a, escalationLevel: level, escalateAt: again };
    effects.push(notice('escalate', a, now, reason));
    record('escalation-due', reason);
  }
  const escalated = a.escalationLevel > alarm.escalationLevel;
  if (escalated && a.remindAt !== undefined && now >= a.remindAt) {
    // The escalation announces the alarm again: a reminder due at the same moment would be a second page.
    a = { ...a, remindAt: now + a.policy.reminderIntervalMs };
  } else if (a.remindAt !== undefined && now >= a.remindAt) {
    a = { ...a, remindAt: now + a.policy.reminderIntervalMs };
    effects.push(notice('remind', a, now, 'still unacknowledged'));
    record('reminder-due', 'still unacknowledged');
  }
  if (transitions.length === 0) return done(alarm, [], []);
  return done({ ...a, updatedAt: now }, effects, transitions);
}

function notice(
  type: 'notify' | 'remind' | 'escalate',
  alarm: Alarm,
  now: number,
  reason: string,
): AlarmEffect {
  return {
    type,
    alarmId: alarm.id,
    priority: alarm.priority,
    level: alarm.escalationLevel,
    ...(alarm.assignee === undefined ? {} : { assignee: alarm.assignee }),
    dueAt: now,
    reason,
  };
}

function step(
  alarm: Alarm,
  now: number,
  event: AlarmTransition['event'],
  by: string,
  reason: string,
  to: AlarmState | null,
): AlarmTransition {
  const from = event === 'raise' ? null : alarm.state;
  return { alarmId: alarm.id, at: now, event, by, reason, from, to: to ?? alarm.state };
}

const refuse = (alarm: Alarm, reason: string): AlarmResult => ({ ok: false, alarm, reason });

function done(
  alarm: Alarm,
  effects: AlarmEffect[],
  transitions: AlarmTransition[],
): AlarmResult & { ok: true } {
  const due = nextDueAt(alarm);
  const schedule: AlarmEffect[] =
    due === undefined || transitions.length === 0
      ? []
      : [{ type: 'schedule', alarmId: alarm.id, dueAt: due }];
  return { ok: true, alarm, effects: [...effects, ...schedule], transitions };
}
