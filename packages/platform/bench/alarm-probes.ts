/**
 * The alarm benchmark's probes: a few devices, each assigned to its own patient whose SpO2 low limit
 * raises at once, alternate a breaching and a normal SpO2 reading. Every toggle changes the patient's
 * alarm (raise or condition-onset, then condition-cleared), and each change arrives as one message on a
 * WebSocket subscribed to the probe patients. Latency is that message's arrival minus the probe's publish
 * (socket write), both on this process's clock.
 *
 * Matching: the platform handles one patient's work in arrival order, so a probe's stream messages come in
 * the order of its toggles. Each toggle carries a value that tags it (breaching values cycle through
 * 80..91 %, normal ones 96..100 %), read back from the transition's reason ("spo2 85 < 92 ..."), so a
 * toggle that produced no message is found out instead of shifting every later match.
 */
import http from 'node:http';
import type { StreamMessage } from './alarm-stream-client.ts';
import { publishPacket, signVital } from './messages.ts';
import type { AckSink, FleetConnection } from './mqtt-fleet.ts';
import { apiClient, type BenchDevice } from './provision.ts';
import { percentile } from './ramp.ts';

/** The probe patients' setting: SpO2 below 92 % is a high-priority alarm at once (no delay). */
export const PROBE_THRESHOLD = {
  vital: 'spo2',
  direction: 'low',
  limit: 92,
  hysteresis: 2,
  priority: 'high',
} as const;
export const PROBE_CONDITION = 'threshold:spo2:low';

const BREACH_VALUES = [80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91];
const NORMAL_VALUES = [96, 97, 98, 99, 100];
const ONSET_EVENTS = new Set(['raise', 'condition-onset']);
const TAG = /^spo2 (\d+(?:\.\d+)?) /;

/** Gives each probe patient PROBE_THRESHOLD, through the admin API. */
export async function setProbeThresholds(httpUrl: string, adminToken: string, patientIds: readonly string[]) {
  const agent = new http.Agent({ keepAlive: true });
  try {
    const api = apiClient(httpUrl, adminToken, agent);
    for (const id of patientIds)
      await api('PUT', `/api/v1/patients/${id}/alarm-settings`, { thresholds: [PROBE_THRESHOLD] });
  } finally {
    agent.destroy();
  }
}

export type Kind = 'breach' | 'normal';

/**
 * What a probe patient's stream message answers: the SpO2 alarm's onset (a breach) or its clearing (back to
 * normal), with the SpO2 value that caused it, read from the transition's reason. Undefined for anything else.
 */
export function probeAnswer(m: StreamMessage): { kind: Kind; value: number } | undefined {
  if (m.type !== 'alarm' || m.alarm?.condition !== PROBE_CONDITION) return undefined;
  const events = (m.transitions ?? []).map((t) => t.event);
  const kind: Kind | undefined = events.some((e) => ONSET_EVENTS.has(e))
    ? 'breach'
    : events.includes('condition-cleared')
      ? 'normal'
      : undefined;
  if (!kind) return undefined;
  const reason = m.transitions?.find((t) => ONSET_EVENTS.has(t.event) || t.event === 'condition-cleared');
  return { kind, value: Number(TAG.exec(reason?.reason ?? '')?.[1]) };
}

interface Toggle {
  readonly kind: Kind;
  readonly value: number;
  readonly sentAt: number;
  readonly stats: ProbeStats;
  /** PUBACK arrival (the reading durable) and alarm arrival, on this process's clock. */
  ackAt?: number;
  alarmAt?: number;
}

/** What the probes saw during one step. */
export class ProbeStats {
  sent = 0;
  readonly latencies: number[] = [];
  readonly ackLatencies: number[] = [];
  /** Toggles answered by their alarm, for the time from PUBACK to alarm. */
  readonly matched: Toggle[] = [];
  /** Toggles whose stream message came later than the loss bound (counted as lost, still in latencies). */
  late = 0;
  /** Toggles that will never be answered because a later toggle of the same probe was. */
  skipped = 0;
  refused = 0;
  readonly otherConditions = new Map<string, number>();
}

export interface ProbeStepResult {
  readonly probes: number;
  readonly toggles: number;
  /** Toggles answered by their stream message (within or after the loss bound). */
  readonly samples: number;
  /** Toggles without their stream message within the loss bound (never, late, or refused). */
  readonly lost: number;
  readonly refused: number;
  readonly latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Publish to PUBACK (the reading durable) of the probe readings, for comparison. */
  readonly ackLatencyMs: { p50: number; p99: number };
  /**
   * From the probe reading's PUBACK to its alarm on the stream (both arrivals here): the rules, the alarm's
   * own commit and the stream, without the wait to get the reading durable. Can be slightly negative.
   */
  readonly afterAckMs: { p50: number; p99: number };
  /** Other messages on the probe stream (the NEWS2 alarm a desaturation also raises, escalations). */
  readonly otherMessages: Record<string, number>;
}

interface Probe {
  readonly device: BenchDevice;
  readonly connection: FleetConnection;
  seq: number;
  next: Kind;
  cycle: number;
  /** Toggles waiting for their stream message, oldest first. */
  readonly pending: Toggle[];
  /** Toggles waiting for their PUBACK, oldest first. */
  readonly unacked: Toggle[];
}

export class AlarmProbes {
  private readonly probes: Probe[];
  private readonly byPatient = new Map<string, Probe>();
  private stats = new ProbeStats();
  /** Each probe's next toggle. */
  private readonly timers: (NodeJS.Timeout | undefined)[] = [];

  constructor(
    devices: readonly BenchDevice[],
    connections: readonly FleetConnection[],
    private readonly intervalMs: number,
    private readonly lossMs: number,
  ) {
    this.probes = devices.map((device, i) => ({
      device,
      connection: connections[i]!,
      seq: 0,
      next: 'breach',
      cycle: i,
      pending: [],
      unacked: [],
    }));
    for (const p of this.probes) this.byPatient.set(p.device.patientId, p);
  }

  get patientIds(): string[] {
    return this.probes.map((p) => p.device.patientId);
  }

  /** PUBACKs of the probe connections (index = probe). */
  readonly sink: AckSink = {
    acked: (device, _messageId, code, at) => {
      const probe = this.probes[device];
      const t = probe?.unacked.shift();
      if (!probe || !t) return;
      if (code === 0) {
        t.ackAt = at;
        t.stats.ackLatencies.push(at - t.sentAt);
        return;
      }
      // A refused reading changes no alarm: it is lost now, not after the drain.
      t.stats.refused++;
      const i = probe.pending.indexOf(t);
      if (i >= 0) probe.pending.splice(i, 1);
    },
    lost: () => {},
  };

  /** Starts a new tally and toggles every probe each interval for `seconds`, phases spread evenly. */
  run(seconds: number): ProbeStats {
    this.stop();
    const stats = new ProbeStats();
    this.stats = stats;
    const until = performance.now() + seconds * 1000;
    this.probes.forEach((p, i) => {
      const toggle = () => {
        this.timers[i] = undefined;
        if (performance.now() >= until) return;
        this.toggle(p);
        this.timers[i] = setTimeout(toggle, this.intervalMs);
      };
      this.timers[i] = setTimeout(toggle, (i * this.intervalMs) / this.probes.length);
    });
    return stats;
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.fill(undefined);
  }

  /** A message from the probe stream (`at` = arrival on this process's clock). */
  onStreamMessage(m: StreamMessage, at: number): void {
    if (m.type !== 'alarm' || !m.alarm) return;
    const probe = this.byPatient.get(m.alarm.patientId);
    if (!probe) return;
    const answer = probeAnswer(m);
    const i = answer
      ? probe.pending.findIndex((t) => t.kind === answer.kind && t.value === answer.value)
      : -1;
    if (i < 0) {
      const events = (m.transitions ?? []).map((t) => t.event);
      const key = `${m.alarm.condition} ${events.join('+') || 'update'}`;
      this.stats.otherConditions.set(key, (this.stats.otherConditions.get(key) ?? 0) + 1);
      return;
    }
    // Toggles before this one can no longer be answered: the patient's work is done in order.
    const done = probe.pending.splice(0, i + 1);
    const matched = done.pop()!;
    for (const skipped of done) skipped.stats.skipped++;
    const latency = at - matched.sentAt;
    matched.alarmAt = at;
    matched.stats.latencies.push(latency);
    matched.stats.matched.push(matched);
    if (latency > this.lossMs) matched.stats.late++;
  }

  /**
   * Stops the probes and waits until every toggle is answered, for up to `drainMs`: answers later than the
   * loss bound still count as lost, but their latency is measured, and the next step starts without
   * the platform still working off this one's alarms.
   */
  async settle(drainMs: number): Promise<void> {
    this.stop();
    const deadline = performance.now() + Math.max(drainMs, this.lossMs);
    while (this.probes.some((p) => p.pending.length > 0) && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
  }

  /** The tally of the last `run`, after `settle`. */
  result(stats: ProbeStats): ProbeStepResult {
    let unanswered = 0;
    for (const p of this.probes) {
      for (const t of p.pending.splice(0)) if (t.stats === stats) unanswered++;
    }
    const latencies = [...stats.latencies].sort((a, b) => a - b);
    const acks = [...stats.ackLatencies].sort((a, b) => a - b);
    const afterAck = stats.matched
      .flatMap((t) => (t.ackAt === undefined || t.alarmAt === undefined ? [] : [t.alarmAt - t.ackAt]))
      .sort((a, b) => a - b);
    return {
      probes: this.probes.length,
      toggles: stats.sent,
      samples: latencies.length,
      lost: unanswered + stats.skipped + stats.late + stats.refused,
      refused: stats.refused,
      latencyMs: {
        p50: percentile(latencies, 0.5),
        p95: percentile(latencies, 0.95),
        p99: percentile(latencies, 0.99),
        max: latencies.at(-1) ?? Number.NaN,
      },
      ackLatencyMs: { p50: percentile(acks, 0.5), p99: percentile(acks, 0.99) },
      afterAckMs: { p50: percentile(afterAck, 0.5), p99: percentile(afterAck, 0.99) },
      otherMessages: Object.fromEntries(stats.otherConditions),
    };
  }

  private toggle(p: Probe): void {
    const kind = p.next;
    const values = kind === 'breach' ? BREACH_VALUES : NORMAL_VALUES;
    const value = values[p.cycle % values.length]!;
    if (kind === 'normal') p.cycle++;
    p.next = kind === 'breach' ? 'normal' : 'breach';
    const seq = ++p.seq;
    const packet = publishPacket(
      p.device.id,
      ((seq - 1) % 65_535) + 1,
      signVital(p.device, seq, Date.now(), 'spo2', value),
    );
    const t: Toggle = { kind, value, sentAt: performance.now(), stats: this.stats };
    p.pending.push(t);
    p.unacked.push(t);
    this.stats.sent++;
    p.connection.send(packet);
  }
}
