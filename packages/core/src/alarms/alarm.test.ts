import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextDueAt, raiseAlarm, reduceAlarm } from './alarm.ts';
import type { Alarm, AlarmEvent, AlarmResult } from './model.ts';
import { type AlarmPolicy, DEFAULT_ALARM_POLICY } from './policy.ts';
import { alarmKey } from './vocabulary.ts';

const T0 = 1_700_000_000_000;
const S = 1000;
const policy: AlarmPolicy = {
  escalateAfterMs: 120 * S,
  maxEscalationLevel: 2,
  reminderIntervalMs: 60 * S,
  autoResolve: true,
  clearHoldMs: 30 * S,
  reactivateOnOnset: true,
  maxSnoozeMs: 300 * S,
};
const raise = (p: AlarmPolicy = policy) =>
  raiseAlarm(
    {
      id: 'a1',
      patientId: 'p1',
      condition: 'threshold:heart-rate:high',
      category: 'physiological',
      priority: 'medium',
      by: 'rules',
      reason: 'HR 135 > 120 for 10 s',
      policy: p,
    },
    T0,
  ).alarm;
const ok = (r: AlarmResult) => {
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r;
};
const news2Raise = {
  id: 'n1',
  patientId: 'p1',
  condition: 'news2',
  category: 'physiological',
  priority: 'medium',
  by: 'system',
  reason: 'NEWS2 5, medium clinical risk',
} as const;
const ack: AlarmEvent = { type: 'acknowledge', by: 'nurse-1', reason: 'at bedside' };
const cleared: AlarmEvent = { type: 'condition-cleared', by: 'rules', reason: 'HR 100 back in range' };
const onset: AlarmEvent = { type: 'condition-onset', by: 'rules', reason: 'HR 140 again' };

describe('raiseAlarm', () => {
  it('creates an active alarm that notifies level 0 and schedules its timers', () => {
    const r = raiseAlarm(
      {
        id: 'a1',
        patientId: 'p|1',
        condition: 'news2',
        category: 'physiological',
        priority: 'high',
        by: 'rules',
        reason: 'NEWS2 7',
      },
      T0,
    );
    expect(r.alarm).toMatchObject({
      state: 'active',
      key: 'p%7C1|news2',
      escalationLevel: 0,
      conditionPresent: true,
    });
    expect(r.alarm.policy).toBe(DEFAULT_ALARM_POLICY.high);
    expect(r.effects.map((e) => e.type)).toEqual(['notify', 'schedule']);
    expect(r.effects[1]).toMatchObject({ dueAt: T0 + DEFAULT_ALARM_POLICY.high.reminderIntervalMs });
    expect(r.transitions).toEqual([
      { alarmId: 'a1', at: T0, event: 'raise', by: 'rules', reason: 'NEWS2 7', from: null, to: 'active' },
    ]);
  });
  it('keys by patient and condition', () => {
    expect(alarmKey('p1', 'news2')).toBe('p1|news2');
    expect(alarmKey('a|b', 'c')).not.toBe(alarmKey('a', 'b|c'));
  });
});

describe('transitions', () => {
  it('acknowledge: active -> acknowledged, attributed, stops reminders and escalation', () => {
    const r = ok(reduceAlarm(raise(), ack, T0 + 5 * S));
    expect(r.alarm).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'nurse-1',
      acknowledgedAt: T0 + 5 * S,
    });
    expect(r.alarm.escalateAt).toBeUndefined();
    expect(r.alarm.remindAt).toBeUndefined();
    expect(r.effects.map((e) => e.type)).toEqual(['cancel-reminders']);
    expect(r.transitions[0]).toMatchObject({
      from: 'active',
      to: 'acknowledged',
      by: 'nurse-1',
      reason: 'at bedside',
    });
  });
  it('assign notifies the assignee and keeps the state', () => {
    const r = ok(
      reduceAlarm(raise(), { type: 'assign', by: 'charge-1', assignee: 'nurse-2', reason: 'her bay' }, T0),
    );
    expect(r.alarm).toMatchObject({ state: 'active', assignee: 'nurse-2' });
    expect(r.effects[0]).toMatchObject({ type: 'notify', assignee: 'nurse-2' });
  });
  it('manual resolve: terminal, attributed, with its reason', () => {
    const clear = ok(reduceAlarm(raise({ ...policy, autoResolve: false }), cleared, T0 + S)).alarm;
    const r = ok(
      reduceAlarm(clear, { type: 'resolve', by: 'dr-1', reason: 'artefact: patient moving' }, T0 + 2 * S),
    );
    expect(r.alarm).toMatchObject({
      state: 'resolved',
      resolvedBy: 'dr-1',
      resolution: 'artefact: patient moving',
    });
    expect(nextDueAt(r.alarm)).toBeUndefined();
  });
  it('manual escalate raises the level up to the policy maximum', () => {
    let a = raise();
    a = ok(reduceAlarm(a, { type: 'escalate', by: 'nurse-1', reason: 'need help' }, T0)).alarm;
    a = ok(reduceAlarm(a, { type: 'escalate', by: 'nurse-1', reason: 'need more help' }, T0)).alarm;
    expect(a.escalationLevel).toBe(2);
    const r = reduceAlarm(a, { type: 'escalate', by: 'nurse-1', reason: 'again' }, T0);
    expect(r.ok).toBe(false);
  });
  it('condition clears: auto-resolves after the hold time (hysteresis), not before', () => {
    const a = ok(reduceAlarm(raise(), cleared, T0 + 10 * S)).alarm;
    expect(a).toMatchObject({ state: 'active', conditionPresent: false, resolveAt: T0 + 40 * S });
    expect(ok(reduceAlarm(a, { type: 'tick' }, T0 + 39 * S)).alarm.state).toBe('active');
    const r = ok(reduceAlarm(a, { type: 'tick' }, T0 + 40 * S));
    expect(r.alarm.state).toBe('resolved');
    expect(r.transitions[0]).toMatchObject({ event: 'auto-resolve', by: 'system' });
  });
  it('a new onset within the hold time cancels the auto-resolution', () => {
    let a = ok(reduceAlarm(raise(), cleared, T0 + 10 * S)).alarm;
    a = ok(reduceAlarm(a, onset, T0 + 20 * S)).alarm;
    expect(a.resolveAt).toBeUndefined();
    expect(ok(reduceAlarm(a, { type: 'tick' }, T0 + 45 * S)).alarm.state).toBe('active');
  });
  it('with auto-resolution off, a cleared condition notifies and waits for a person', () => {
    const a0 = raise({ ...policy, autoResolve: false });
    const r = ok(reduceAlarm(a0, cleared, T0 + 10 * S));
    expect(r.alarm.resolveAt).toBeUndefined();
    expect(r.effects[0]).toMatchObject({
      type: 'notify',
      reason: 'HR 100 back in range; manual resolution required',
    });
    expect(ok(reduceAlarm(r.alarm, { type: 'tick' }, T0 + 3600 * S)).alarm.state).toBe('active');
  });
  it('a clear hold of 0 resolves at once', () => {
    const r = ok(reduceAlarm(raise({ ...policy, clearHoldMs: 0 }), cleared, T0 + S));
    expect(r.alarm.state).toBe('resolved');
  });
  it('a new onset re-activates an acknowledged alarm when policy says so', () => {
    let a = ok(reduceAlarm(raise(), ack, T0 + S)).alarm;
    a = ok(reduceAlarm(a, cleared, T0 + 2 * S)).alarm;
    const r = ok(reduceAlarm(a, onset, T0 + 3 * S));
    expect(r.alarm).toMatchObject({ state: 'active', conditionPresent: true, acknowledgedBy: undefined });
    expect(r.alarm.remindAt).toBe(T0 + 63 * S);
    const b = ok(reduceAlarm(raise({ ...policy, reactivateOnOnset: false }), ack, T0 + S)).alarm;
    const c = ok(reduceAlarm(ok(reduceAlarm(b, cleared, T0 + 2 * S)).alarm, onset, T0 + 3 * S)).alarm;
    expect(c.state).toBe('acknowledged');
  });
  it('a higher priority onset upgrades the alarm and re-activates it even when acknowledged', () => {
    const a = ok(reduceAlarm(raise({ ...policy, reactivateOnOnset: false }), ack, T0 + S)).alarm;
    const r = ok(reduceAlarm(a, { ...onset, priority: 'high' }, T0 + 2 * S));
    expect(r.alarm).toMatchObject({ state: 'active', priority: 'high' });
    expect(r.effects[0]).toMatchObject({ type: 'notify', priority: 'high' });
  });
});

describe('manual resolution', () => {
  it('is refused while a physiological condition is present, saying what to do instead', () => {
    const a = raise();
    const r = reduceAlarm(a, { type: 'resolve', by: 'dr-1', reason: 'reviewed' }, T0 + S);
    expect(r).toEqual({
      ok: false,
      alarm: a,
      reason:
        "cannot resolve while the condition is still present: acknowledge or snooze the alarm; it resolves itself once the condition has cleared; if the limit is wrong for this patient, change the patient's alarm settings; if it can no longer be measured (the device was removed), resolve with force and a reason",
    });
    const high = raiseAlarm({ ...news2Raise, priority: 'high' }, T0).alarm;
    const refused = reduceAlarm(high, { type: 'resolve', by: 'dr-1', reason: 'reviewed' }, T0 + S);
    expect(!refused.ok && refused.reason).toBe(
      'cannot resolve while the condition is still present: acknowledge or snooze the alarm; it can be resolved once the condition has cleared; if it can no longer be measured (the device was removed), resolve with force and a reason',
    );
    // Acknowledged makes no difference: the condition is what counts.
    const acked = ok(reduceAlarm(a, ack, T0 + S)).alarm;
    expect(reduceAlarm(acked, { type: 'resolve', by: 'dr-1', reason: 'r' }, T0 + 2 * S).ok).toBe(false);
  });
  it('is allowed with force, for a condition that can no longer be measured', () => {
    const r = ok(
      reduceAlarm(raise(), { type: 'resolve', by: 'dr-1', reason: 'monitor removed', force: true }, T0 + S),
    );
    expect([r.alarm.state, r.alarm.resolvedBy, r.alarm.resolution]).toEqual([
      'resolved',
      'dr-1',
      'monitor removed',
    ]);
  });
  it('is allowed once the condition has cleared, and for technical alarms at any time', () => {
    const clear = ok(reduceAlarm(raise(), cleared, T0 + S)).alarm;
    expect(ok(reduceAlarm(clear, { type: 'resolve', by: 'dr-1', reason: 'r' }, T0 + 2 * S)).alarm.state).toBe(
      'resolved',
    );
    const offline = raiseAlarm(
      { ...news2Raise, condition: 'technical:device-offline:d1', category: 'technical', priority: 'medium' },
      T0,
    ).alarm;
    const r = ok(reduceAlarm(offline, { type: 'resolve', by: 'tech-1', reason: 'device sent away' }, T0 + S));
    expect(r.alarm).toMatchObject({ state: 'resolved', conditionPresent: true });
  });
});

describe('invalid transitions are refused with a reason', () => {
  const resolved = () => ok(reduceAlarm(raise({ ...policy, clearHoldMs: 0 }), cleared, T0)).alarm;
  it.each<[string, () => Alarm, AlarmEvent, RegExp]>([
    [
      'acknowledge twice',
      () => ok(reduceAlarm(raise(), ack, T0)).alarm,
      ack,
      /cannot acknowledge an acknowledged/,
    ],
    ['anything on a resolved alarm', resolved, ack, /resolved/],
    ['tick on a resolved alarm', resolved, { type: 'tick' }, /resolved/],
    [
      'snooze an acknowledged alarm',
      () => ok(reduceAlarm(raise(), ack, T0)).alarm,
      { type: 'snooze', by: 'n', durationMs: 1000, reason: 'r' },
      /only an active/,
    ],
    [
      'snooze longer than policy',
      raise,
      { type: 'snooze', by: 'n', durationMs: 301 * S, reason: 'r' },
      /^a snooze lasts at most 300 s for a medium alarm, got 301 s$/,
    ],
    ['snooze NaN', raise, { type: 'snooze', by: 'n', durationMs: Number.NaN, reason: 'r' }, /at most 300 s/],
    ['no actor', raise, { ...ack, by: ' ' }, /by is empty/],
    ['no reason', raise, { type: 'resolve', by: 'dr', reason: '' }, /reason is empty/],
    ['assign to nobody', raise, { type: 'assign', by: 'c', assignee: '', reason: 'r' }, /assignee is empty/],
    ['onset while present', raise, onset, /already present/],
    ['clear twice', () => ok(reduceAlarm(raise(), cleared, T0)).alarm, cleared, /already clear/],
  ])('%s', (_name, make, event, reason) => {
    const a = make();
    const r = reduceAlarm(a, event, T0 + S);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
    expect(r.alarm).toBe(a);
  });
  it('refuses time going backwards', () => {
    const r = reduceAlarm(raise(), ack, T0 - 1);
    expect(r.ok).toBe(false);
  });
});

describe('timers with explicit now', () => {
  it('reminds every interval while unacknowledged and escalates when not acknowledged in time', () => {
    let a = raise();
    const t = (s: number) => ok(reduceAlarm(a, { type: 'tick' }, T0 + s * S));
    expect(t(59).effects).toEqual([]);
    let r = t(60);
    expect(r.effects.map((e) => e.type)).toEqual(['remind', 'schedule']);
    a = r.alarm;
    r = t(120);
    // The reminder due at the same moment is folded into the escalation: one page, not two.
    expect(r.effects.map((e) => e.type)).toEqual(['escalate', 'schedule']);
    expect(r.alarm.remindAt).toBe(T0 + 180 * S);
    expect(r.alarm.escalationLevel).toBe(1);
    a = r.alarm;
    a = t(240).alarm;
    expect(a.escalationLevel).toBe(2);
    expect(a.escalateAt).toBeUndefined(); // at the maximum
    expect(t(1000).alarm.escalationLevel).toBe(2);
  });
  it('snooze silences reminders and escalation until expiry, then re-announces', () => {
    let a = ok(
      reduceAlarm(
        raise(),
        { type: 'snooze', by: 'n1', durationMs: 200 * S, reason: 'turning patient' },
        T0 + 10 * S,
      ),
    ).alarm;
    expect(nextDueAt(a)).toBe(T0 + 210 * S);
    expect(ok(reduceAlarm(a, { type: 'tick' }, T0 + 150 * S)).effects).toEqual([]);
    const r = ok(reduceAlarm(a, { type: 'tick' }, T0 + 210 * S));
    expect(r.effects[0]).toMatchObject({ type: 'remind', reason: 'snooze expired' });
    a = r.alarm;
    expect(a.snoozedUntil).toBeUndefined();
    expect(a.escalateAt).toBe(T0 + 330 * S);
    expect(a.remindAt).toBe(T0 + 270 * S);
  });
  it('acknowledged alarms neither remind nor escalate', () => {
    const a = ok(reduceAlarm(raise(), ack, T0 + S)).alarm;
    expect(nextDueAt(a)).toBeUndefined();
    expect(ok(reduceAlarm(a, { type: 'tick' }, T0 + 3600 * S)).effects).toEqual([]);
  });
});

describe('model test: random event sequences keep the invariants', () => {
  const actor = fc.constantFrom('nurse-1', 'dr-2', 'rules');
  const event: fc.Arbitrary<AlarmEvent> = fc.oneof(
    fc.constant<AlarmEvent>({ type: 'tick' }),
    actor.map((by): AlarmEvent => ({ type: 'acknowledge', by, reason: 'seen' })),
    actor.map((by): AlarmEvent => ({ type: 'assign', by, assignee: by, reason: 'mine' })),
    fc
      .integer({ min: -10, max: 400 })
      .map((s): AlarmEvent => ({ type: 'snooze', by: 'n', durationMs: s * S, reason: 'r' })),
    fc.constant<AlarmEvent>({ type: 'escalate', by: 'n', reason: 'help' }),
    fc.constant<AlarmEvent>({ type: 'resolve', by: 'dr', reason: 'fixed' }),
    fc.constant(cleared),
    fc.constantFrom<AlarmEvent>(onset, { ...onset, priority: 'high' }, { ...onset, priority: 'low' }),
  );
  it('holds for any sequence', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(event, fc.integer({ min: 0, max: 200 })), { maxLength: 40 }),
        fc.boolean(),
        fc.boolean(),
        (steps, autoResolve, reactivateOnOnset) => {
          let a = raise({ ...policy, autoResolve, reactivateOnOnset });
          let now = T0;
          for (const [e, dt] of steps) {
            now += dt * S;
            const before = a;
            const r = reduceAlarm(a, e, now);
            if (before.state === 'resolved') expect(r.ok).toBe(false);
            if (!r.ok) {
              expect(r.reason.length).toBeGreaterThan(0);
              expect(r.alarm).toBe(before);
              continue;
            }
            a = r.alarm;
            for (const t of r.transitions) {
              expect(t.by.length).toBeGreaterThan(0);
              expect(t.reason.length).toBeGreaterThan(0);
              expect(t.at).toBe(now);
            }
            if (before.state === 'acknowledged' && a.state === 'active')
              expect(e.type).toBe('condition-onset');
            if (a.state === 'acknowledged') expect(a.acknowledgedBy).toBeDefined();
            if (a.state !== 'active') {
              expect(a.remindAt).toBeUndefined();
              expect(a.escalateAt).toBeUndefined();
            }
            if (a.state === 'resolved') expect(nextDueAt(a)).toBeUndefined();
            expect(a.escalationLevel).toBeGreaterThanOrEqual(before.escalationLevel);
            expect(a.escalationLevel).toBeLessThanOrEqual(a.policy.maxEscalationLevel);
            expect(a.updatedAt).toBeGreaterThanOrEqual(before.updatedAt);
            if (!autoResolve && a.state === 'resolved') expect(r.transitions.at(-1)!.by).not.toBe('system');
            // A tick fires everything that is due: nothing is left overdue after it.
            const due = nextDueAt(a);
            if (e.type === 'tick' && due !== undefined) expect(due).toBeGreaterThan(now);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
