/**
 * The bodies of the alarm actions, read strictly. A field the action does not take is refused by name: a
 * typo such as `reasn` would otherwise vanish and the default reason would stand in the audit trail. A
 * snooze's length is checked here, in the seconds the caller wrote, against this alarm's priority, so the
 * refusal is a 400 naming `/durationS` that says the maximum, not a conflict in milliseconds.
 */
import type { Alarm, AlarmEvent } from '@openiomt/core';
import { bodyObject, optionalString, requiredString } from '../http/body.ts';
import { badRequest } from '../http/problem.ts';

export const ALARM_ACTIONS = ['acknowledge', 'assign', 'snooze', 'escalate', 'resolve'] as const;
export type AlarmAction = (typeof ALARM_ACTIONS)[number];

const PAST: Record<AlarmAction, string> = {
  acknowledge: 'acknowledged',
  assign: 'assigned',
  snooze: 'snoozed',
  escalate: 'escalated',
  resolve: 'resolved',
};

/** The fields each action's body may have. */
const FIELDS: Record<AlarmAction, readonly string[]> = {
  acknowledge: ['reason'],
  assign: ['assignee', 'reason'],
  snooze: ['durationS', 'reason'],
  escalate: ['reason'],
  resolve: ['reason', 'force'],
};

/** The event a person's action on `alarm` makes; `body` absent is an empty object. */
export function actionEvent(
  action: AlarmAction,
  body: unknown,
  by: string,
  alarm: Pick<Alarm, 'priority' | 'policy'>,
): Exclude<AlarmEvent, { type: 'tick' }> {
  const b = bodyObject(body ?? {});
  const allowed = FIELDS[action];
  const extra = Object.keys(b).find((k) => !allowed.includes(k));
  if (extra !== undefined)
    throw badRequest(
      `${action} takes no field ${JSON.stringify(extra.slice(0, 64))}; its body may have ${allowed.join(', ')}`,
      `/${pointerToken(extra)}`,
    );
  const reason = optionalString(b, 'reason', 500) ?? `${PAST[action]} by ${by}`;
  switch (action) {
    case 'assign':
      return { type: 'assign', by, reason, assignee: requiredString(b, 'assignee') };
    case 'snooze':
      return { type: 'snooze', by, reason, durationMs: snoozeSeconds(b.durationS, alarm) * 1000 };
    case 'resolve': {
      if (b.force !== undefined && typeof b.force !== 'boolean')
        throw badRequest('force must be true or false', '/force');
      if (b.force === true && optionalString(b, 'reason', 500) === undefined)
        throw badRequest(
          'resolving with force needs a reason: say why the condition can no longer be measured',
          '/reason',
        );
      return { type: 'resolve', by, reason, ...(b.force === true ? { force: true } : {}) };
    }
    default:
      return { type: action, by, reason };
  }
}

/** The longest snooze for an alarm, in whole seconds, with the words that say why. */
export function snoozeLimit(alarm: Pick<Alarm, 'priority' | 'policy'>): { maxS: number; words: string } {
  const maxS = Math.floor(alarm.policy.maxSnoozeMs / 1000);
  return { maxS, words: `at most ${maxS} s for a ${alarm.priority} alarm` };
}

function snoozeSeconds(v: unknown, alarm: Pick<Alarm, 'priority' | 'policy'>): number {
  const { maxS, words } = snoozeLimit(alarm);
  if (v === undefined || v === null)
    throw badRequest(`durationS is required: how long to snooze, in seconds (${words})`, '/durationS');
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw badRequest(
      `durationS must be a whole number of seconds from 1 to ${maxS} (${words}), got ${JSON.stringify(v)?.slice(0, 40)}`,
      '/durationS',
    );
  if (v > maxS) throw badRequest(`durationS ${v} is too long: a snooze lasts ${words}`, '/durationS');
  return v;
}

/** A key as one JSON pointer token (RFC 6901). */
const pointerToken = (k: string): string => k.replaceAll('~', '~0').replaceAll('/', '~1');
