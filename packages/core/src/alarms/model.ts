/**
 * The alarm as data: the record the reducer (alarm.ts) keeps, the events it takes, and what it answers with:
 * audited transitions and the effects the platform carries out. Types only, besides SYSTEM_ACTOR.
 */
import type { AlarmPolicy } from './policy.ts';
import type { AlarmCategory, AlarmPriority } from './vocabulary.ts';

export type AlarmState = 'active' | 'acknowledged' | 'resolved';

/** `SYSTEM_ACTOR` attributes what the platform does on its own (timers, rules). */
export const SYSTEM_ACTOR = 'system';

export interface Alarm {
  readonly id: string;
  /** alarmKey(patientId, condition): unique among open alarms. */
  readonly key: string;
  readonly patientId: string;
  /** The rule condition, e.g. `threshold:heart-rate:high`, `news2`, `technical:lead-off`. */
  readonly condition: string;
  readonly category: AlarmCategory;
  readonly priority: AlarmPriority;
  readonly state: AlarmState;
  readonly policy: AlarmPolicy;
  readonly raisedAt: number;
  readonly updatedAt: number;
  /** Whether the underlying condition is present now (it may clear before anyone resolves). */
  readonly conditionPresent: boolean;
  readonly clearedAt?: number;
  readonly acknowledgedAt?: number;
  readonly acknowledgedBy?: string;
  readonly assignee?: string;
  readonly snoozedUntil?: number;
  readonly escalationLevel: number;
  readonly escalateAt?: number;
  readonly remindAt?: number;
  /** Auto-resolution due time after the condition cleared (time hysteresis). */
  readonly resolveAt?: number;
  readonly resolvedAt?: number;
  readonly resolvedBy?: string;
  readonly resolution?: string;
}

export type AlarmEvent =
  | { readonly type: 'acknowledge'; readonly by: string; readonly reason: string }
  | { readonly type: 'assign'; readonly by: string; readonly assignee: string; readonly reason: string }
  | { readonly type: 'snooze'; readonly by: string; readonly durationMs: number; readonly reason: string }
  | { readonly type: 'escalate'; readonly by: string; readonly reason: string }
  | {
      readonly type: 'resolve';
      readonly by: string;
      readonly reason: string;
      /** Resolves though the condition is present: for a condition that can no longer be measured. */
      readonly force?: boolean;
    }
  | { readonly type: 'condition-cleared'; readonly by: string; readonly reason: string }
  | {
      readonly type: 'condition-onset';
      readonly by: string;
      readonly reason: string;
      /**
       * A higher priority upgrades the alarm (for example NEWS2 moving from medium to high) and gives it the
       * new priority's policy; a lower one does not lower it (see priority-change.ts).
       */
      readonly priority?: AlarmPriority;
      /** The policy for an upgrade; default the standard policy of the new priority. */
      readonly policy?: AlarmPolicy;
    }
  | { readonly type: 'tick' };

export type AlarmEventType = AlarmEvent['type'] | 'raise';

/** One audited step: who did what, why, and what it changed. */
export interface AlarmTransition {
  readonly alarmId: string;
  readonly at: number;
  readonly event: AlarmEventType | 'escalation-due' | 'reminder-due' | 'snooze-expired' | 'auto-resolve';
  readonly by: string;
  readonly reason: string;
  readonly from: AlarmState | null;
  readonly to: AlarmState;
}

/** Who is told: the care team (or assignee) at an escalation level. */
export type AlarmEffect =
  | {
      readonly type: 'notify' | 'remind' | 'escalate';
      readonly alarmId: string;
      readonly priority: AlarmPriority;
      readonly level: number;
      readonly assignee?: string;
      readonly dueAt: number;
      readonly reason: string;
    }
  | {
      readonly type: 'cancel-reminders';
      readonly alarmId: string;
      readonly dueAt: number;
      readonly reason: string;
    }
  | { readonly type: 'schedule'; readonly alarmId: string; readonly dueAt: number };

export type AlarmResult =
  | {
      readonly ok: true;
      readonly alarm: Alarm;
      readonly effects: readonly AlarmEffect[];
      readonly transitions: readonly AlarmTransition[];
    }
  | { readonly ok: false; readonly alarm: Alarm; readonly reason: string };
