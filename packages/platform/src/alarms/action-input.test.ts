import { DEFAULT_ALARM_POLICY } from '@openiomt/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../http/problem.ts';
import { ALARM_ACTIONS, type AlarmAction, actionEvent } from './action-input.ts';

const medium = { priority: 'medium', policy: DEFAULT_ALARM_POLICY.medium } as const;
const high = { priority: 'high', policy: DEFAULT_ALARM_POLICY.high } as const;

/** The problem an action body is refused with, if it is. */
function refusal(action: AlarmAction, body: unknown, alarm: typeof medium | typeof high = medium) {
  try {
    actionEvent(action, body, 'nurse.kim', alarm);
  } catch (e) {
    if (e instanceof HttpProblem) return e.problem;
    throw e;
  }
  return undefined;
}

describe('alarm action bodies', () => {
  it('refuse a field the action does not take, by name, instead of dropping it', () => {
    expect(refusal('acknowledge', { reasn: 'typo' })).toMatchObject({
      status: 400,
      field: '/reasn',
      detail: 'acknowledge takes no field "reasn"; its body may have reason',
    });
    expect(refusal('snooze', { durationS: 60, minutes: 1 })?.field).toBe('/minutes');
    expect(refusal('assign', { assignee: 'u1', durationS: 60 })?.field).toBe('/durationS');
    expect(refusal('resolve', { 'a/b': 1 })?.field).toBe('/a~1b');
    for (const action of ALARM_ACTIONS.filter((a) => a !== 'resolve'))
      expect(refusal(action, { force: true })?.field).toBe('/force');
  });

  it('resolve with force only with a reason, for a condition that can no longer be measured', () => {
    expect(refusal('resolve', { force: true })?.field).toBe('/reason');
    expect(refusal('resolve', { force: 'yes', reason: 'r' })?.field).toBe('/force');
    expect(actionEvent('resolve', { force: true, reason: 'monitor removed' }, 'dr.ng', medium)).toEqual({
      type: 'resolve',
      by: 'dr.ng',
      reason: 'monitor removed',
      force: true,
    });
  });

  it('keep the reason given, or say who acted', () => {
    expect(actionEvent('acknowledge', { reason: 'at the bedside' }, 'nurse.kim', medium)).toEqual({
      type: 'acknowledge',
      by: 'nurse.kim',
      reason: 'at the bedside',
    });
    expect(actionEvent('escalate', undefined, 'nurse.kim', medium)).toMatchObject({
      reason: 'escalated by nurse.kim',
    });
  });

  it('take a snooze in seconds, up to the maximum for the alarm’s priority, and say so when refused', () => {
    expect(actionEvent('snooze', { durationS: 600 }, 'n', medium)).toMatchObject({ durationMs: 600_000 });
    expect(refusal('snooze', { durationS: 3600 })).toMatchObject({
      status: 400,
      field: '/durationS',
      detail: 'durationS 3600 is too long: a snooze lasts at most 600 s for a medium alarm',
    });
    expect(refusal('snooze', { durationS: 121 }, high)?.detail).toMatch(/at most 120 s for a high alarm/);
    expect(refusal('snooze', { durationS: 'abc' })?.detail).toBe(
      'durationS must be a whole number of seconds from 1 to 600 (at most 600 s for a medium alarm), got "abc"',
    );
    for (const bad of [0, -5, 1.5, '60', true])
      expect(refusal('snooze', { durationS: bad })?.field).toBe('/durationS');
    expect(refusal('snooze', {})?.detail).toBe(
      'durationS is required: how long to snooze, in seconds (at most 600 s for a medium alarm)',
    );
  });

  it('never fail other than with a 400 naming a field (any body)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ALARM_ACTIONS),
        fc.oneof(
          fc.jsonValue(),
          fc.dictionary(fc.constantFrom('reason', 'assignee', 'durationS', 'x'), fc.jsonValue()),
        ),
        (action, body) => {
          const p = refusal(action, body);
          if (p === undefined) return;
          expect(p.status).toBe(400);
          expect(typeof p.field).toBe('string');
        },
      ),
      { numRuns: 500 },
    );
  });
});
