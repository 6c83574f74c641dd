import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { raiseAlarm, reduceAlarm } from './alarm.ts';
import type { Alarm, AlarmEvent, AlarmResult } from './model.ts';
import { DEFAULT_ALARM_POLICY } from './policy.ts';
import { ALARM_PRIORITIES, type AlarmPriority, comparePriority } from './vocabulary.ts';

const T0 = 1_700_000_000_000;
const S = 1000;
const HIGH = DEFAULT_ALARM_POLICY.high;
const MEDIUM = DEFAULT_ALARM_POLICY.medium;

const raise = (priority: AlarmPriority = 'medium') =>
  raiseAlarm(
    {
      id: 'n1',
      patientId: 'p1',
      condition: 'news2',
      category: 'physiological',
      priority,
      by: 'system',
      reason: `NEWS2, ${priority} clinical risk`,
    },
    T0,
  ).alarm;
const ok = (r: AlarmResult) => {
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r;
};
const onset = (priority?: AlarmPriority): AlarmEvent => ({
  type: 'condition-onset',
  by: 'system',
  reason: `NEWS2 ${priority ?? 'again'}`,
  ...(priority ? { priority } : {}),
});
const cleared: AlarmEvent = { type: 'condition-cleared', by: 'system', reason: 'NEWS2 0, low clinical risk' };
const tick: AlarmEvent = { type: 'tick' };

describe('an alarm whose priority rises', () => {
  it('takes the new priority’s policy, so a NEWS2 alarm risen to high is never resolved automatically', () => {
    // The audit's case: medium at T0, high a minute later, NEWS2 back to 0 afterwards.
    const medium = raise('medium');
    const r = ok(reduceAlarm(medium, onset('high'), T0 + 60 * S));
    expect(r.alarm).toMatchObject({ priority: 'high', state: 'active', conditionPresent: true });
    expect(r.alarm.policy).toEqual(HIGH);
    expect(r.effects[0]).toMatchObject({ type: 'notify', priority: 'high' });
    const clear = ok(reduceAlarm(r.alarm, cleared, T0 + 120 * S));
    expect(clear.alarm.resolveAt).toBeUndefined();
    expect(clear.effects[0]).toMatchObject({
      type: 'notify',
      reason: expect.stringMatching(/manual resolution/),
    });
    const later = ok(reduceAlarm(clear.alarm, tick, T0 + 3600 * S));
    expect(later.alarm.state).toBe('active');
    expect(later.transitions.map((t) => t.event)).not.toContain('auto-resolve');
  });

  it('arms its timers for the new policy, never later than they already were', () => {
    const medium = raise('medium'); // reminder at T0 + 180 s, escalation at T0 + 300 s
    const soon = ok(reduceAlarm(medium, onset('high'), T0 + 60 * S)).alarm;
    expect(soon.remindAt).toBe(T0 + 60 * S + HIGH.reminderIntervalMs); // 120 s < 180 s
    expect(soon.escalateAt).toBe(T0 + 60 * S + HIGH.escalateAfterMs); // 180 s < 300 s
    // Late in the medium alarm's wait, its own timers are sooner than the high policy's from now: kept.
    const late = ok(reduceAlarm(medium, onset('high'), T0 + 170 * S)).alarm;
    expect(late.remindAt).toBe(T0 + MEDIUM.reminderIntervalMs);
    expect(late.escalateAt).toBe(T0 + 170 * S + HIGH.escalateAfterMs);
  });

  it('can escalate to the new policy’s higher levels', () => {
    let a = raise('low'); // one level
    a = ok(reduceAlarm(a, tick, T0 + DEFAULT_ALARM_POLICY.low.escalateAfterMs)).alarm;
    expect(a.escalationLevel).toBe(1);
    expect(a.escalateAt).toBeUndefined();
    const high = ok(reduceAlarm(a, onset('high'), a.updatedAt + S)).alarm;
    expect(high.escalateAt).toBe(a.updatedAt + S + HIGH.escalateAfterMs);
  });

  it('ends a snooze granted for the lesser alarm, and an acknowledgement', () => {
    const snoozed = ok(
      reduceAlarm(raise('medium'), { type: 'snooze', by: 'n', durationMs: 600 * S, reason: 'wash' }, T0),
    ).alarm;
    const up = ok(reduceAlarm(snoozed, onset('high'), T0 + 10 * S)).alarm;
    expect(up.snoozedUntil).toBeUndefined();
    expect(up.remindAt).toBe(T0 + 10 * S + HIGH.reminderIntervalMs);
    expect(up.escalateAt).toBe(T0 + 10 * S + HIGH.escalateAfterMs);
    const acked = ok(
      reduceAlarm(raise('medium'), { type: 'acknowledge', by: 'n', reason: 'seen' }, T0),
    ).alarm;
    const again = ok(reduceAlarm(acked, onset('high'), T0 + 10 * S)).alarm;
    expect(again).toMatchObject({ state: 'active', priority: 'high', policy: HIGH });
    expect(again.escalateAt).toBe(T0 + 10 * S + HIGH.escalateAfterMs);
  });
});

describe('an alarm whose priority falls', () => {
  it('keeps the highest priority it reached and its policy until it is resolved', () => {
    const high = ok(reduceAlarm(raise('medium'), onset('high'), T0 + S)).alarm;
    const down = reduceAlarm(high, onset('medium'), T0 + 2 * S);
    expect(down).toMatchObject({
      ok: false,
      reason: 'the alarm keeps its high priority while open (medium is lower)',
    });
    // Cleared, then back at a lower band: present again, still high, still not auto-resolvable.
    const clear = ok(reduceAlarm(high, cleared, T0 + 3 * S)).alarm;
    const back = ok(reduceAlarm(clear, onset('low'), T0 + 4 * S)).alarm;
    expect(back).toMatchObject({ priority: 'high', policy: HIGH, conditionPresent: true });
  });
});

describe('property: the policy always matches the priority', () => {
  const event: fc.Arbitrary<AlarmEvent> = fc.oneof(
    { arbitrary: fc.constantFrom(...ALARM_PRIORITIES).map((p) => onset(p)), weight: 4 },
    fc.constant(onset()),
    fc.constant(cleared),
    fc.constant(tick),
    fc.constant<AlarmEvent>({ type: 'acknowledge', by: 'nurse', reason: 'seen' }),
    fc.constant<AlarmEvent>({ type: 'escalate', by: 'nurse', reason: 'help' }),
    fc
      .integer({ min: 1, max: 1800 })
      .map((s): AlarmEvent => ({ type: 'snooze', by: 'nurse', durationMs: s * S, reason: 'r' })),
    fc.constant<AlarmEvent>({ type: 'resolve', by: 'dr', reason: 'reviewed' }),
  );

  it('after any sequence of onsets, clears, actions and ticks', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ALARM_PRIORITIES),
        fc.array(fc.tuple(event, fc.integer({ min: 0, max: 400 })), { maxLength: 40 }),
        (first, steps) => {
          let a: Alarm = raise(first);
          let now = T0;
          for (const [e, dt] of steps) {
            now += dt * S;
            const before = a;
            const r = reduceAlarm(a, e, now);
            if (!r.ok) continue;
            a = r.alarm;
            expect(a.policy).toEqual(DEFAULT_ALARM_POLICY[a.priority]);
            // Latched: the priority never falls while the alarm is open.
            expect(comparePriority(a.priority, before.priority)).toBeGreaterThanOrEqual(0);
            if (a.priority === 'high')
              expect(r.transitions.map((t) => t.event)).not.toContain('auto-resolve');
            if (a.state === 'active' && a.snoozedUntil === undefined) {
              // Nothing waits longer than the alarm's own policy allows from now.
              expect(a.remindAt).toBeLessThanOrEqual(now + a.policy.reminderIntervalMs);
              if (a.escalationLevel < a.policy.maxEscalationLevel)
                expect(a.escalateAt).toBeLessThanOrEqual(now + a.policy.escalateAfterMs);
            }
            const upgraded = comparePriority(a.priority, before.priority) > 0;
            if (upgraded) {
              expect(a.state).toBe('active');
              expect(a.snoozedUntil).toBeUndefined();
              // An upgrade never puts off a reminder or an escalation that was already due sooner.
              if (before.state === 'active' && before.snoozedUntil === undefined) {
                expect(a.remindAt).toBeLessThanOrEqual(before.remindAt ?? Number.POSITIVE_INFINITY);
                if (before.escalateAt !== undefined)
                  expect(a.escalateAt).toBeLessThanOrEqual(before.escalateAt);
              }
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
