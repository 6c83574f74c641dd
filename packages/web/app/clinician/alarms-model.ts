/**
 * Alarms as the clinician screens see them (docs/alarms.md; core/src/alarms/alarm.ts): the stream folded
 * into the set of open alarms, their order in the inbox, counts per patient, which changes deserve an
 * announcement, and a condition in words. Pure: times are arguments.
 */
import type { AlarmCounts } from './live-types.ts';
import { vitalLabel } from './vitals.ts';

export type AlarmPriority = 'high' | 'medium' | 'low';
export type AlarmState = 'active' | 'acknowledged' | 'resolved';

export interface Alarm {
  readonly id: string;
  readonly patientId: string;
  readonly condition: string;
  readonly category: 'physiological' | 'technical';
  readonly priority: AlarmPriority;
  readonly state: AlarmState;
  readonly policy?: { readonly maxSnoozeMs?: number; readonly autoResolve?: boolean };
  /** Epoch ms. */
  readonly raisedAt: number;
  readonly updatedAt: number;
  readonly conditionPresent: boolean;
  readonly clearedAt?: number;
  readonly acknowledgedAt?: number;
  readonly acknowledgedBy?: string;
  readonly assignee?: string;
  readonly snoozedUntil?: number;
  readonly escalationLevel: number;
  readonly resolvedAt?: number;
  readonly resolvedBy?: string;
  readonly resolution?: string;
}

export interface AlarmTransition {
  readonly alarmId: string;
  readonly at: number;
  readonly event: string;
  readonly by: string;
  readonly reason: string;
  readonly from: AlarmState | null;
  readonly to: AlarmState;
}

/** `/api/v1/alarms/stream` messages. */
export type AlarmStreamMessage =
  | {
      readonly type: 'snapshot';
      readonly alarms: readonly Alarm[];
      /** Present when re-sent because the patients I may see changed (added to or removed from my care). */
      readonly reason?: 'patients-changed';
    }
  | {
      readonly type: 'alarm';
      readonly alarm: Alarm;
      readonly transitions: readonly AlarmTransition[];
      readonly notifications: readonly unknown[];
    };

const RANK: Record<AlarmPriority, number> = { high: 3, medium: 2, low: 1 };

export const isOpen = (a: Alarm) => a.state !== 'resolved';

/** What a change means for the people watching: a new alarm, one back to active, a higher priority. */
export type AlarmNews = 'raised' | 'reactivated' | 'upgraded';

export interface FoldResult {
  readonly open: ReadonlyMap<string, Alarm>;
  /** Alarms worth announcing, with why. */
  readonly news: readonly { alarm: Alarm; news: AlarmNews }[];
}

/**
 * The open alarms after a stream message. A snapshot replaces everything and announces nothing (the
 * page has just connected; what is open is on screen). A change older than the version held (updatedAt)
 * is ignored, so a late duplicate cannot bring back a resolved alarm's previous state.
 */
export function foldAlarmMessage(open: ReadonlyMap<string, Alarm>, m: AlarmStreamMessage): FoldResult {
  if (m.type === 'snapshot') {
    const next = new Map<string, Alarm>();
    for (const a of m.alarms) if (isOpen(a)) next.set(a.id, a);
    return { open: next, news: [] };
  }
  const a = m.alarm;
  const before = open.get(a.id);
  if (before && before.updatedAt > a.updatedAt) return { open, news: [] };
  const next = new Map(open);
  if (!isOpen(a)) {
    next.delete(a.id);
    return { open: next, news: [] };
  }
  next.set(a.id, a);
  const news: AlarmNews | undefined = !before
    ? 'raised'
    : before.state !== 'active' && a.state === 'active'
      ? 'reactivated'
      : RANK[a.priority] > RANK[before.priority]
        ? 'upgraded'
        : undefined;
  return { open: next, news: news && a.state === 'active' ? [{ alarm: a, news }] : [] };
}

/**
 * Inbox order: highest priority first; within it what still needs someone (active, not snoozed) before
 * what is acknowledged or snoozed; then the newest.
 */
export function byInboxOrder(now: number) {
  return (a: Alarm, b: Alarm): number =>
    RANK[b.priority] - RANK[a.priority] ||
    Number(needsResponse(b, now)) - Number(needsResponse(a, now)) ||
    b.raisedAt - a.raisedAt ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Active and not snoozed: someone must respond (and a sound may play). */
export function needsResponse(a: Alarm, now: number): boolean {
  return a.state === 'active' && !(a.snoozedUntil !== undefined && a.snoozedUntil > now);
}

export function countByPatient(open: Iterable<Alarm>): Map<string, AlarmCounts> {
  const out = new Map<string, { high: number; medium: number; low: number; total: number }>();
  for (const a of open) {
    if (!isOpen(a)) continue;
    let c = out.get(a.patientId);
    if (!c) {
      c = { high: 0, medium: 0, low: 0, total: 0 };
      out.set(a.patientId, c);
    }
    c[a.priority]++;
    c.total++;
  }
  return out;
}

/** The highest priority among alarms that need a response now, if any (what the audible signal plays). */
export function loudestPriority(open: Iterable<Alarm>, now: number): AlarmPriority | undefined {
  let best: AlarmPriority | undefined;
  for (const a of open)
    if (needsResponse(a, now) && (best === undefined || RANK[a.priority] > RANK[best])) best = a.priority;
  return best;
}

const TECHNICAL: Readonly<Record<string, string>> = {
  'lead-off': 'ECG lead off',
  'device-offline': 'Device offline',
  'low-battery': 'Low battery',
  'poor-signal': 'Poor signal quality',
};

/**
 * A condition in words: `threshold:spo2:low` → "Oxygen saturation low", `technical:lead-off:d1` → "ECG lead
 * off (d1)", `news2` → "NEWS2 score", `rhythm:af` → "AF suspected".
 */
export function conditionText(condition: string): string {
  const [kind, what, detail] = condition.split(':');
  if (kind === 'threshold' && what && detail) return `${vitalLabel(what)} ${detail}`;
  if (kind === 'technical' && what) {
    const name = TECHNICAL[what] ?? what.replace(/-/g, ' ');
    const rest = condition.slice(`technical:${what}:`.length);
    return rest && rest !== condition ? `${name} (${rest})` : name;
  }
  if (kind === 'news2') return 'NEWS2 score raised';
  if (kind === 'rhythm' && what === 'af') return 'AF suspected';
  if (kind === 'trend' && what)
    return `${vitalLabel(what)} ${detail === 'fall' ? 'falling' : detail === 'rise' || !detail ? 'rising' : detail}`;
  return condition;
}

/** Snooze choices in minutes, up to the alarm's policy maximum (2 min for high by default). */
export function snoozeChoices(a: Alarm): number[] {
  const fallback = { high: 2, medium: 10, low: 30 }[a.priority];
  const maxMin = a.policy?.maxSnoozeMs ? Math.floor(a.policy.maxSnoozeMs / 60_000) : fallback;
  const choices = [1, 2, 5, 10, 15, 30, 60].filter((m) => m <= maxMin);
  return choices.length > 0 ? choices : [1];
}
