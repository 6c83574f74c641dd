/**
 * The rules stage: feeds every verified reading (in parallel with its commit) and every derived measurement to the patient's
 * PatientMonitor (core, pure) and hands the condition events it returns to the alarm service. It keeps one
 * monitor per patient, loaded on first use with the patient's alarm settings and the latest stored NEWS2
 * parameters, and, at start, the rule state of every alarm still open, so a condition that cleared while
 * the platform was down is cleared by the first normal value after it. A clock tick detects devices gone
 * silent (twice their expected interval, counted from when the platform listens again after a start) and
 * NEWS2 parameters going stale.
 */
import {
  type ConditionEvent,
  isVitalCode,
  NEWS2_SOURCES,
  type News2Score,
  PatientMonitor,
} from '@openiomt/core';
import type { AlarmService } from '../alarms/service.ts';
import type {
  DerivedMeasurementEvent,
  InProcessBus,
  ObservationEnteredEvent,
  StoredReadingEvent,
} from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import { LookupBatch } from '../store/lookup-batch.ts';
import type { Device, Store } from '../store/types.ts';

export interface RulesOptions {
  readonly tickMs?: number;
  readonly now?: () => number;
  /** A vital measured longer ago than this when it arrives is late: NEWS2 only, no limit alarms. */
  readonly lateAfterMs?: number;
  /** After `receiving`, how long devices may take to reconnect before their silence counts (default 0). */
  readonly reconnectGraceMs?: number;
  readonly log?: Logger;
  /** Where a device's expected reporting interval is read (ingest's cached registry); the store if not given. */
  readonly devices?: { device(id: string): Promise<Device | undefined> };
}

/** Patients whose monitors see the clock in one event-loop turn. */
const TICK_SLICE = 100;
const NEWS2_INDEX_CODES = [...new Set(Object.values(NEWS2_SOURCES).flat())];
/** The longest NEWS2 freshness window (12 h): older values cannot count. */
const NEWS2_LOOKBACK_MS = 12 * 3_600_000;

interface Watched {
  readonly monitor: Promise<PatientMonitor>;
  /** Work for this patient, in arrival order. */
  tail: Promise<void>;
  /** When the clock next matters to the monitor (its nextTickDue after the last step); ticks before are skipped. */
  tickDue: number;
}

export class ClinicalRules {
  private readonly patients = new Map<string, Watched>();
  private readonly deviceOwner = new Map<string, { patientId: string; intervalMs: number }>();
  /** The NEWS2 (total|band|complete) last published per patient. */
  private readonly news2Announced = new Map<string, string>();
  private readonly unsubscribe: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** A clock sweep over the patients is under way (tick); closed: no more sweeps. */
  private sweeping = false;
  private closed = false;
  private readonly now: () => number;

  private readonly monitorLoads = new LookupBatch<string, PatientMonitor>((ids) => this.loadMany(ids));

  constructor(
    private readonly store: Store,
    private readonly bus: InProcessBus,
    private readonly alarms: AlarmService,
    private readonly options: RulesOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Restores open conditions and watched devices, then listens. Start the alarm service first, and call
   * `receiving` once devices can reach the platform: the clock starts then.
   */
  async start(): Promise<void> {
    const now = this.now();
    for (const d of await this.store.assignments.monitored(new Date(now).toISOString())) {
      const intervalMs = d.expectedIntervalS * 1000;
      this.deviceOwner.set(d.deviceId, { patientId: d.patientId, intervalMs });
      const lastSeen = d.lastSeenAt ? Date.parse(d.lastSeenAt) : now;
      const offline = this.alarms
        .openAlarms(d.patientId)
        .some((a) => a.condition === `technical:device-offline:${d.deviceId}` && a.conditionPresent);
      void this.run(d.patientId, (m) => {
        m.watchDevice(d.deviceId, intervalMs, lastSeen, offline);
        return [];
      });
    }
    for (const a of this.alarms.openAlarms()) {
      if (!a.conditionPresent) continue;
      void this.run(a.patientId, (m) => {
        m.restore([{ condition: a.condition, priority: a.priority }]);
        return [];
      });
    }
    this.unsubscribe.push(
      this.bus.subscribe('reading.verified', (e) => this.onReading(e)),
      this.bus.subscribe('analysis.derived', (e) => this.onDerived(e)),
      this.bus.subscribe('observation.entered', (e) => this.onEntered(e)),
      this.bus.subscribe('device.revoked', (e) => this.onRevoked(e.deviceId)),
    );
  }

  /**
   * Devices can reach the platform from `at` (its listeners are open): the silence of each watched device
   * counts from then, not from its last data before the platform's own downtime, which would page every
   * device offline at each restart. The clock starts here too: before it, nothing on it could change but
   * that (a NEWS2 parameter going stale is scored at the first tick after).
   */
  receiving(at: number): void {
    if (this.timer || this.closed) return;
    for (const patientId of new Set([...this.deviceOwner.values()].map((o) => o.patientId)))
      void this.run(patientId, (m) => {
        m.listening(at, this.options.reconnectGraceMs ?? 0);
        return [];
      });
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 1000);
    this.timer.unref();
  }

  /**
   * The patient's latest NEWS2, when any parameter has been seen since start: after the readings queued
   * for the patient (default), or as it stands now (`wait: false`, for overviews of many patients).
   */
  async news2(patientId: string, options: { wait?: boolean } = {}): Promise<News2Score | undefined> {
    const w = this.patients.get(patientId);
    if (!w) return undefined;
    if (options.wait !== false) await w.tail;
    return (await w.monitor).news2;
  }

  /** A clinician changed the patient's alarm settings: reload them. */
  async settingsChanged(patientId: string): Promise<void> {
    const w = this.patients.get(patientId);
    if (!w) return;
    const s = await this.store.alarmSettings.get(patientId);
    await this.run(patientId, (m) => {
      m.configure({ thresholds: s?.thresholds ?? [], spo2Scale2Prescribed: s?.spo2Scale2 ?? false });
      return [];
    });
  }

  /** Stops listening and waits for queued work. */
  async close(): Promise<void> {
    this.closed = true;
    for (const u of this.unsubscribe) u();
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.patients.values()].map((w) => w.tail));
  }

  /**
   * The clock, for the monitors waiting on it: a device due to go silent, a NEWS2 parameter going stale
   * (nextTickDue). A patient whose data keeps arriving waits on nothing, and is skipped: scoring NEWS2
   * every second for every patient cost as much as a second reading per patient. A slice of patients per
   * event-loop turn: a ward of 2,000 in one go held the event loop for tens of milliseconds each second,
   * and database answers and device messages waited behind it.
   */
  tick(): void {
    if (this.sweeping || this.closed) return;
    this.sweeping = true;
    const now = this.now();
    const ids: string[] = [];
    for (const [id, w] of this.patients) if (w.tickDue <= now) ids.push(id);
    const sweep = (from: number) => {
      if (this.closed) {
        this.sweeping = false;
        return;
      }
      const now = this.now();
      const end = Math.min(ids.length, from + TICK_SLICE);
      for (let i = from; i < end; i++) void this.run(ids[i] as string, (m) => m.tick(now));
      if (end < ids.length) setImmediate(() => sweep(end));
      else this.sweeping = false;
    };
    sweep(0);
  }

  private onReading(e: StoredReadingEvent): void {
    const receivedAt = Date.parse(e.receivedAt);
    const owner = this.deviceOwner.get(e.deviceId);
    if (owner && owner.patientId !== e.patientId) {
      // The device now belongs to someone else: the previous patient stops waiting for it.
      void this.run(owner.patientId, (m) =>
        m.unwatchDevice(e.deviceId, receivedAt, 'device reassigned to another patient'),
      );
    }
    void this.run(e.patientId, async (m) => {
      const intervalMs = owner?.intervalMs ?? (await this.intervalOf(e.deviceId));
      this.deviceOwner.set(e.deviceId, { patientId: e.patientId, intervalMs });
      const message = e.message;
      const now = this.now();
      const late = this.options.lateAfterMs ?? 5 * 60_000;
      const events: ConditionEvent[] = [...m.deviceSeen(e.deviceId, intervalMs, receivedAt)];
      const samples = message.vitals.map((v) => {
        const at = Date.parse(v.at ?? message.ts);
        return { code: v.code, value: v.value, at, late: now - at > late };
      });
      events.push(...m.vitals(samples, now));
      const status = message.status;
      if (status && (status.battery !== undefined || status.leadOff !== undefined)) {
        const at = Date.parse(message.ts);
        if (now - at <= late) events.push(...m.deviceStatus({ deviceId: e.deviceId, at, ...status }));
      }
      return events;
    });
  }

  /** A vital a person entered: scored and checked against limits as if a device had sent it. */
  private onEntered(e: ObservationEnteredEvent): void {
    void this.run(e.patientId, (m) => {
      const now = this.now();
      const late = this.options.lateAfterMs ?? 5 * 60_000;
      const samples = e.vitals.map((v) => {
        const at = Date.parse(v.at ?? '');
        return { code: v.code, value: v.value, at, late: now - at > late };
      });
      return m.vitals(samples, now);
    });
  }

  private onDerived(d: DerivedMeasurementEvent): void {
    if (!isVitalCode(d.code)) return;
    void this.run(d.patientId, (m) =>
      m.derived(
        {
          deviceId: d.deviceId,
          code: d.code,
          at: d.at,
          signalQuality: d.signalQuality,
          ...(d.value === undefined ? {} : { value: d.value }),
          ...(d.leadOff === undefined ? {} : { leadOff: d.leadOff }),
          ...(d.rhythm === undefined ? {} : { rhythm: d.rhythm }),
          ...(d.rhythmBasis === undefined ? {} : { rhythmBasis: d.rhythmBasis }),
        },
        this.now(),
      ),
    );
  }

  private onRevoked(deviceId: string): void {
    const owner = this.deviceOwner.get(deviceId);
    if (!owner) return;
    this.deviceOwner.delete(deviceId);
    void this.run(owner.patientId, (m) => m.unwatchDevice(deviceId, this.now(), 'device revoked'));
  }

  private async intervalOf(deviceId: string): Promise<number> {
    const { devices } = this.options;
    const d = devices ? await devices.device(deviceId) : await this.store.devices.get(deviceId);
    return (d?.expectedIntervalS ?? 60) * 1000;
  }

  /** Runs one step of the patient's monitor in order and hands its condition events to the alarms. */
  private run(
    patientId: string,
    step: (m: PatientMonitor) => readonly ConditionEvent[] | undefined | Promise<readonly ConditionEvent[]>,
  ): Promise<void> {
    const w = this.watch(patientId);
    w.tail = w.tail
      .then(async () => {
        const monitor = await w.monitor;
        const events = (await step(monitor)) ?? [];
        w.tickDue = monitor.nextTickDue();
        this.announceNews2(patientId, monitor.news2);
        for (const e of events) await this.alarms.onCondition(patientId, e);
      })
      .catch((err: unknown) => this.options.log?.error({ err }, 'rule evaluation failed'));
    return w.tail;
  }

  /** Tells the bus when the patient's NEWS2 total, band or completeness changed (live dashboards, trends). */
  private announceNews2(patientId: string, score: News2Score | undefined): void {
    if (!score) return;
    const key = `${score.total}|${score.band}|${score.complete}`;
    if (this.news2Announced.get(patientId) === key) return;
    this.news2Announced.set(patientId, key);
    this.bus.publish('news2.scored', { patientId, score, at: this.now() });
  }

  private watch(patientId: string): Watched {
    let w = this.patients.get(patientId);
    if (!w) {
      w = { monitor: this.load(patientId), tail: Promise.resolve(), tickDue: Number.NEGATIVE_INFINITY };
      this.patients.set(patientId, w);
    }
    return w;
  }

  private async load(patientId: string): Promise<PatientMonitor> {
    return (await this.monitorLoads.load(patientId)) as PatientMonitor;
  }

  /** Monitors for patients seen for the first time, made together (a ward's first readings come at once). */
  private async loadMany(patientIds: string[]): Promise<Map<string, PatientMonitor>> {
    const since = new Date(this.now() - NEWS2_LOOKBACK_MS).toISOString();
    const [settings, latest] = await Promise.all([
      this.store.alarmSettings.getMany(patientIds),
      this.store.vitals.latestMany(patientIds, NEWS2_INDEX_CODES, since),
    ]);
    const monitors = new Map<string, PatientMonitor>();
    for (const id of patientIds) {
      const s = settings.get(id);
      const m = new PatientMonitor({
        thresholds: s?.thresholds ?? [],
        spo2Scale2Prescribed: s?.spo2Scale2 ?? false,
      });
      // A past value only informs NEWS2; the next tick scores it.
      for (const v of latest.get(id) ?? []) if (isVitalCode(v.code)) m.remember(v.code, v.value, v.at);
      monitors.set(id, m);
    }
    return monitors;
  }
}
