/**
 * Alarm probes for the restart benchmark: the first few devices of the ward belong to patients whose SpO2
 * below 92 % raises a high-priority alarm at once, and their readings alternate a breaching and a normal
 * SpO2 every second. So every one of their readings changes the patient's alarm, and the change reaches a
 * dashboard's WebSocket as one message. Latency runs from when the reading was due (the moment the patient's
 * SpO2 changed) to that message: across a restart it holds the outage, as a nurse would live it.
 *
 * Matching is that of the alarm benchmark (alarm-probes.ts): a patient's readings are handled in order, and
 * each carries an SpO2 value that tags it, read back from the transition's reason. Here the tags go in
 * tenths (80.0–91.9 % breaching, 96.0–99.9 % normal), so they repeat only every 80 readings: a reading
 * whose alarm never came cannot be mistaken for a later one.
 */
import { type Kind, probeAnswer } from './alarm-probes.ts';
import type { StreamMessage } from './alarm-stream-client.ts';
import { percentile } from './ramp.ts';

const TAG_PERIOD = 80;

/** p50, p99 and max of latencies in ms (sorts them), to a tenth of a ms. */
export function latencySummary(ms: number[]) {
  ms.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    readings: ms.length,
    p50Ms: round(percentile(ms, 0.5)),
    p99Ms: round(percentile(ms, 0.99)),
    maxMs: round(ms[ms.length - 1] ?? Number.NaN),
  };
}

export class RestartProbes {
  /** Arrival (performance.now()) of the alarm message that answered probe p's round r, at p·rounds + r. */
  readonly alarmAt: Float64Array;
  /** Stream messages about probe patients that answered no reading (other conditions, NEWS2). */
  otherMessages = 0;
  private readonly byPatient: Map<string, number>;
  /** Per probe, the first round not yet answered (or passed over because a later one was). */
  private readonly nextPending: number[];
  private skippedRounds = 0;

  constructor(
    readonly patientIds: readonly string[],
    private readonly rounds: number,
  ) {
    this.alarmAt = new Float64Array(patientIds.length * rounds).fill(Number.NaN);
    this.byPatient = new Map(patientIds.map((id, p) => [id, p]));
    this.nextPending = patientIds.map(() => 0);
  }

  get count(): number {
    return this.patientIds.length;
  }

  /** What a probe's reading of round r says: breach on even rounds, normal on odd, each value a tag. */
  static reading(round: number): { kind: Kind; value: number } {
    const half = Math.floor(round / 2);
    const tenths = (base: number, n: number) => (base * 10 + (half % n)) / 10;
    return round % 2 === 0
      ? { kind: 'breach', value: tenths(80, 120) }
      : { kind: 'normal', value: tenths(96, 40) };
  }

  /** The SpO2 of device d's reading in round r: set for the probes, left alone for the rest of the ward. */
  readonly spo2Of = (device: number, round: number): number | undefined =>
    device < this.count ? RestartProbes.reading(round).value : undefined;

  /** A message from the stream of the probe patients (`at` = arrival on this process's clock). */
  onStreamMessage(m: StreamMessage, at: number): void {
    const p = m.alarm ? this.byPatient.get(m.alarm.patientId) : undefined;
    const answer = probeAnswer(m);
    if (p === undefined || !answer) {
      this.otherMessages++;
      return;
    }
    // The tags repeat every 80 readings: look no further ahead than that.
    const from = this.nextPending[p]!;
    const horizon = Math.min(this.rounds, from + TAG_PERIOD);
    for (let r = from; r < horizon; r++) {
      const expected = RestartProbes.reading(r);
      if (expected.kind !== answer.kind || expected.value !== answer.value) continue;
      this.alarmAt[p * this.rounds + r] = at;
      this.skippedRounds += r - from;
      this.nextPending[p] = r + 1;
      return;
    }
    this.otherMessages++;
  }

  /**
   * Latency from due to alarm (ms) of the probe readings due in [from, to), with `dueAt(p, r)` from the
   * ward; `unanswered` counts those whose alarm never came.
   */
  latency(dueAt: (probe: number, round: number) => number, from: number, to: number) {
    const ms: number[] = [];
    let unanswered = 0;
    for (let p = 0; p < this.count; p++)
      for (let r = 0; r < this.rounds; r++) {
        const due = dueAt(p, r);
        if (due < from || due >= to) continue;
        const at = this.alarmAt[p * this.rounds + r]!;
        if (Number.isNaN(at)) unanswered++;
        else ms.push(at - due);
      }
    return { ...latencySummary(ms), readings: ms.length + unanswered, unanswered };
  }

  /** The first alarm message that arrived at or after `t`, as ms after it. */
  firstAlarmAfter(t: number): number {
    let first = Number.POSITIVE_INFINITY;
    for (const at of this.alarmAt) if (at >= t && at < first) first = at;
    return Number.isFinite(first) ? Math.round(first - t) : Number.NaN;
  }

  /** Readings passed over: a later reading of the same probe was answered first. */
  get skipped(): number {
    return this.skippedRounds;
  }
}
