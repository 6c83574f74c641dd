/**
 * The alarm service: applies condition events (from rules), people's actions (from the API) and timer
 * ticks to alarms through core's pure reducer, and makes every result durable before anyone hears of it.
 * Work for one patient runs one item at a time in arrival order (a lane per patient), so two events never
 * race on one alarm in this process; the database's one-open-alarm index and version check catch any
 * other process. Open alarms are cached in memory (loaded at start), and their timers (escalation,
 * reminders, snooze expiry, auto-resolution) are due times in the stored alarm, so a restart continues them.
 */
import { randomUUID } from 'node:crypto';
import {
  type Alarm,
  type AlarmEffect,
  type AlarmEvent,
  type AlarmResult,
  alarmKey,
  type ConditionEvent,
  nextDueAt,
  raiseAlarm,
  reduceAlarm,
  SYSTEM_ACTOR,
} from '@openiomt/core';
import type { AlarmNotification, InProcessBus } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import type { AlarmChange } from '../store/alarms.ts';
import { type Queryable, type Store, StoreError } from '../store/types.ts';

export interface AlarmServiceOptions {
  /**
   * Runs inside the transaction that records notifications (the webhook outbox); answers how many
   * deliveries it enqueued.
   */
  readonly onNotificationsInTx?: (
    tx: Queryable,
    notifications: readonly AlarmNotification[],
    alarm: Alarm,
  ) => Promise<number>;
  /** After a commit that enqueued deliveries (wake the webhook deliverer). */
  readonly afterNotify?: () => void;
  /** How often due timers are checked, ms (default 1000). */
  readonly tickMs?: number;
  readonly now?: () => number;
  readonly log?: Logger;
}

/** The outcome of an action a person asked for. */
export type ActionResult =
  | { readonly ok: true; readonly alarm: Alarm }
  | { readonly ok: false; readonly status: 404 | 409; readonly reason: string };

export class AlarmService {
  private readonly byKey = new Map<string, { alarm: Alarm; version: number }>();
  private readonly lanes = new Map<string, Promise<unknown>>();
  private readonly ticking = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly bus: InProcessBus,
    private readonly options: AlarmServiceOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Loads the open alarms and starts the timer check. */
  async start(): Promise<void> {
    for (const s of await this.store.alarms.open()) this.byKey.set(s.alarm.key, s);
    this.timer = setInterval(() => this.runDueTimers(), this.options.tickMs ?? 1000);
    this.timer.unref();
    this.runDueTimers();
  }

  /** Open alarms (active or acknowledged), optionally of one patient. */
  openAlarms(patientId?: string): Alarm[] {
    const all = [...this.byKey.values()].map((s) => s.alarm);
    return patientId === undefined ? all : all.filter((a) => a.patientId === patientId);
  }

  /** A rule says a condition began or ended for a patient. */
  onCondition(patientId: string, e: ConditionEvent): Promise<void> {
    return this.inLane(patientId, async () => {
      const key = alarmKey(patientId, e.condition);
      const open = this.byKey.get(key);
      if (e.type === 'clear') {
        if (open) await this.apply(open, { type: 'condition-cleared', by: SYSTEM_ACTOR, reason: e.reason });
        return;
      }
      if (open) {
        const onset = { type: 'condition-onset', by: SYSTEM_ACTOR, reason: e.reason } as const;
        await this.apply(open, { ...onset, priority: e.priority });
        return;
      }
      await this.raise(patientId, e);
    });
  }

  /** A person acts on an alarm: acknowledge, assign, snooze, escalate, resolve. */
  act(alarmId: string, event: Exclude<AlarmEvent, { type: 'tick' }>): Promise<ActionResult> {
    return this.findOpen(alarmId).then(async (found) => {
      if (!found) {
        const stored = await this.store.alarms.get(alarmId);
        if (!stored) return { ok: false, status: 404, reason: `no alarm ${alarmId}` } as const;
        return { ok: false, status: 409, reason: 'the alarm is resolved' } as const;
      }
      return this.inLane(found.alarm.patientId, async (): Promise<ActionResult> => {
        const current = this.byKey.get(found.alarm.key);
        if (!current || current.alarm.id !== alarmId)
          return { ok: false, status: 409, reason: 'the alarm is resolved' };
        const r = await this.apply(current, event);
        return r.ok ? { ok: true, alarm: r.alarm } : { ok: false, status: 409, reason: r.reason };
      });
    });
  }

  /** Waits for queued work and stops the timers. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    while (this.lanes.size > 0) await Promise.allSettled([...this.lanes.values()]);
  }

  /** Fires the timers that are due; each alarm's tick runs in its patient's lane. */
  runDueTimers(): void {
    if (this.closed) return;
    const now = this.now();
    for (const s of this.byKey.values()) {
      const due = nextDueAt(s.alarm);
      const id = s.alarm.id;
      if (due === undefined || due > now || this.ticking.has(id)) continue;
      this.ticking.add(id);
      void this.inLane(s.alarm.patientId, async () => {
        const current = this.byKey.get(s.alarm.key);
        if (current?.alarm.id === id) await this.apply(current, { type: 'tick' });
      }).finally(() => this.ticking.delete(id));
    }
  }

  private async findOpen(alarmId: string) {
    for (const s of this.byKey.values()) if (s.alarm.id === alarmId) return s;
    return undefined;
  }

  private async raise(patientId: string, e: ConditionEvent): Promise<void> {
    const r = raiseAlarm(
      {
        id: randomUUID(),
        patientId,
        condition: e.condition,
        category: e.category,
        priority: e.priority,
        by: SYSTEM_ACTOR,
        reason: e.reason,
      },
      this.clock(),
    );
    try {
      await this.commit(r, null);
    } catch (err) {
      if (!(err instanceof StoreError && err.code === 'conflict')) throw err;
      // Another process raised it first: the database kept one; join it as an onset.
      const existing = await this.store.alarms.openByKey(r.alarm.key);
      if (!existing) throw err;
      this.byKey.set(existing.alarm.key, existing);
      const onset = { type: 'condition-onset', by: SYSTEM_ACTOR, reason: e.reason } as const;
      await this.apply(existing, { ...onset, priority: e.priority });
    }
  }

  /** Reduces and records; on a version conflict reloads the alarm once and tries again. */
  private async apply(s: { alarm: Alarm; version: number }, event: AlarmEvent): Promise<AlarmResult> {
    const r = reduceAlarm(s.alarm, event, Math.max(this.clock(), s.alarm.updatedAt));
    if (!r.ok || r.transitions.length === 0) return r;
    try {
      await this.commit(r, s.version);
      return r;
    } catch (err) {
      if (!(err instanceof StoreError && err.code === 'conflict')) throw err;
      const fresh = await this.store.alarms.get(s.alarm.id);
      if (!fresh) throw err;
      this.remember(fresh.alarm, fresh.version);
      if (fresh.alarm.state === 'resolved') return { ok: false, alarm: fresh.alarm, reason: 'resolved' };
      const again = reduceAlarm(fresh.alarm, event, Math.max(this.clock(), fresh.alarm.updatedAt));
      if (again.ok && again.transitions.length > 0) await this.commit(again, fresh.version);
      return again;
    }
  }

  private async commit(r: AlarmResult & { ok: true }, expectedVersion: number | null): Promise<void> {
    const notifications = r.effects.flatMap((e) => toNotification(e, r.alarm));
    const change: AlarmChange = {
      alarm: r.alarm,
      expectedVersion,
      transitions: r.transitions,
      notifications,
    };
    const hook = this.options.onNotificationsInTx;
    let enqueued = 0;
    const version = await this.store.alarms.record(
      change,
      hook && notifications.length > 0
        ? async (tx) => {
            enqueued = await hook(tx, notifications, r.alarm);
          }
        : undefined,
    );
    this.remember(r.alarm, version);
    this.bus.publish('alarm.changed', { alarm: r.alarm, transitions: r.transitions, notifications });
    // With no webhook to tell, the deliverer is not woken (its outbox queries would find nothing).
    if (enqueued > 0) this.options.afterNotify?.();
  }

  private remember(alarm: Alarm, version: number): void {
    if (alarm.state === 'resolved') {
      if (this.byKey.get(alarm.key)?.alarm.id === alarm.id) this.byKey.delete(alarm.key);
    } else {
      this.byKey.set(alarm.key, { alarm, version });
    }
  }

  private clock(): number {
    return this.now();
  }

  private inLane<T>(patientId: string, work: () => Promise<T>): Promise<T> {
    const prev = this.lanes.get(patientId) ?? Promise.resolve();
    const run = prev.then(work, work);
    const tail = run.then(
      () => undefined,
      (err: unknown) => {
        this.options.log?.error({ err }, 'alarm work failed');
      },
    );
    this.lanes.set(patientId, tail);
    void tail.then(() => {
      if (this.lanes.get(patientId) === tail) this.lanes.delete(patientId);
    });
    return run;
  }
}

function toNotification(e: AlarmEffect, alarm: Alarm): AlarmNotification[] {
  if (e.type !== 'notify' && e.type !== 'remind' && e.type !== 'escalate') return [];
  return [
    {
      id: randomUUID(),
      alarmId: e.alarmId,
      patientId: alarm.patientId,
      at: e.dueAt,
      kind: e.type,
      priority: e.priority,
      level: e.level,
      ...(e.assignee === undefined ? {} : { assignee: e.assignee }),
      reason: e.reason,
    },
  ];
}
