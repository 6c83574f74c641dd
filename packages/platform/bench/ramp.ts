/**
 * One step of the ramp: pre-sign every message of the step, then offer them at a fixed rate spread evenly
 * over the active devices, and measure what came back. Latency is publish (socket write) to PUBACK, which
 * the platform sends only after the reading's database commit.
 */
import { loadavg } from 'node:os';
import { publishPacket, type SigningDevice, signReading, type VitalsProfile } from './messages.ts';
import type { AckSink, FleetConnection } from './mqtt-fleet.ts';
import { ProcessWatch } from './proc-stats.ts';

export interface StepPlan {
  readonly rate: number;
  readonly seconds: number;
  /** Devices taking part: one message per second each up to this many, then several per device. */
  readonly activeDevices: number;
}

export interface PreparedStep {
  readonly plan: StepPlan;
  readonly packets: Buffer[];
  readonly messageIds: Uint16Array;
  /** A few signed messages with their device, for the verification ceiling. */
  readonly samples: { device: number; jws: string }[];
  readonly signMs: number;
}

export interface PrepareOptions {
  /** The vitals in each message (default `varied`). */
  readonly profile?: VitalsProfile;
  /**
   * Stamp each message with the time it is planned to go (relative to now) instead of one time for the
   * whole step: with one message per device per second, each device's ECG is then a continuous signal
   * that waveform analysis works on, and each vital a series the rules can follow. Default false.
   */
  readonly scheduledTimes?: boolean;
  /** With scheduledTimes: moves a message's time stamp (device, its n-th message in the step, planned ms). */
  readonly adjustTime?: (device: number, round: number, plannedMs: number) => number;
}

/** Signs the step's messages; `nextSeq` (per device) carries sequence numbers from step to step. */
export function prepareStep(
  plan: StepPlan,
  devices: readonly SigningDevice[],
  nextSeq: Int32Array,
  options: PrepareOptions = {},
): PreparedStep {
  const t0 = performance.now();
  const total = plan.rate * plan.seconds;
  const packets: Buffer[] = new Array(total);
  const messageIds = new Uint16Array(total);
  const samples: { device: number; jws: string }[] = [];
  const now = Date.now();
  for (let k = 0; k < total; k++) {
    const d = k % plan.activeDevices;
    const device = devices[d]!;
    const seq = ++nextSeq[d]!;
    const planned = now + Math.floor((k * 1000) / plan.rate);
    const round = Math.floor(k / plan.activeDevices);
    const at = !options.scheduledTimes ? now : (options.adjustTime?.(d, round, planned) ?? planned);
    const jws = signReading(device, seq, at, options.profile);
    const messageId = ((seq - 1) % 65_535) + 1;
    messageIds[k] = messageId;
    packets[k] = publishPacket(device.id, messageId, jws);
    if (samples.length < 2_000) samples.push({ device: d, jws });
  }
  return { plan, packets, messageIds, samples, signMs: performance.now() - t0 };
}

export interface StepResult {
  readonly offeredRate: number;
  readonly seconds: number;
  readonly activeDevices: number;
  readonly messagesPerDevicePerSecond: number;
  readonly sent: number;
  /** Rate the load generator actually achieved over the send window. */
  readonly sentRate: number;
  /** PUBACKs with reason 0 per second, from the second second of the window to its end. */
  readonly ackRate: number;
  readonly acknowledged: number;
  readonly rejected: number;
  readonly missing: number;
  readonly lostConnections: number;
  readonly latencyMs: { p50: number; p95: number; p99: number; max: number };
  readonly platformCpuPercent: number;
  /** Platform CPU time per message answered in the window: what one message costs, however busy the machine. */
  readonly platformCpuMsPerMessage: number;
  readonly platformPeakRssMb: number;
  readonly databaseCpuPercent?: number;
  readonly databaseCpuMsPerMessage?: number;
  readonly loadGeneratorCpuPercent: number;
  readonly loadAverage1m: number;
  readonly passed: boolean;
  readonly failure?: string;
}

export interface StepContext {
  readonly connections: readonly FleetConnection[];
  readonly platformPid: number;
  /** PostgreSQL server processes serving the platform, looked up as they come and go (none for PGlite). */
  readonly databasePids?: () => readonly number[];
  readonly maxP99Ms: number;
  readonly drainTimeoutMs: number;
  setSink(sink: AckSink): void;
}

/** Offers the prepared messages at the planned rate and waits for every acknowledgement (or the timeout). */
export async function runStep(step: PreparedStep, ctx: StepContext): Promise<StepResult> {
  const { plan, packets, messageIds } = step;
  const total = packets.length;
  const sendTimes = new Float64Array(total);
  const ackTimes = new Float64Array(total);
  const codes = new Uint8Array(total).fill(255);
  const fifos = Array.from({ length: plan.activeDevices }, () => ({ items: [] as number[], head: 0 }));
  let sent = 0;
  let acks = 0;
  let lostConnections = 0;
  let mismatches = 0;
  let allAcked: (() => void) | undefined;
  ctx.setSink({
    acked(device, messageId, code, at) {
      const q = fifos[device];
      const k = q?.items[q.head++];
      if (k === undefined) return;
      if (messageIds[k] !== messageId) mismatches++;
      ackTimes[k] = at;
      codes[k] = code;
      if (++acks === total) allAcked?.();
    },
    lost() {
      lostConnections++;
    },
  });

  const load = Number((loadavg()[0] ?? 0).toFixed(2));
  const platform = new ProcessWatch(() => [ctx.platformPid]);
  const database = ctx.databasePids ? new ProcessWatch(ctx.databasePids) : undefined;
  const ownCpu = process.cpuUsage();
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * plan.rate) / 1000) + 1);
      while (sent < due) {
        const d = sent % plan.activeDevices;
        fifos[d]!.items.push(sent);
        sendTimes[sent] = performance.now();
        ctx.connections[d]!.send(packets[sent]!);
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const windowEnd = Math.max(performance.now(), start + plan.seconds * 1000);
  await new Promise((r) => setTimeout(r, Math.max(0, windowEnd - performance.now())));
  const platformUse = platform.stop();
  const databaseUse = database?.stop();
  const own = process.cpuUsage(ownCpu);
  const wallMs = performance.now() - start;
  if (acks < total) {
    await new Promise<void>((resolve) => {
      allAcked = resolve;
      setTimeout(resolve, ctx.drainTimeoutMs).unref();
    });
  }

  let acknowledged = 0;
  let rejected = 0;
  let ackedInWindow = 0;
  let answeredInWindow = 0;
  const latencies: number[] = [];
  for (let k = 0; k < total; k++) {
    if (codes[k] === 255) continue;
    if (codes[k] === 0) acknowledged++;
    else rejected++;
    latencies.push(ackTimes[k]! - sendTimes[k]!);
    if (ackTimes[k]! <= windowEnd) answeredInWindow++;
    if (codes[k] === 0 && ackTimes[k]! >= start + 1000 && ackTimes[k]! <= windowEnd) ackedInWindow++;
  }
  latencies.sort((a, b) => a - b);
  const sentRate = (total / (windowEnd - start)) * 1000;
  const ackRate = (ackedInWindow / (windowEnd - start - 1000)) * 1000;
  const latencyMs = {
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    p99: percentile(latencies, 0.99),
    max: latencies.at(-1) ?? Number.NaN,
  };
  const missing = total - acknowledged - rejected;
  const failure = judge(
    { plan, sentRate, ackRate, missing, rejected, lostConnections, mismatches, p99: latencyMs.p99 },
    ctx,
  );
  return {
    offeredRate: plan.rate,
    seconds: plan.seconds,
    activeDevices: plan.activeDevices,
    messagesPerDevicePerSecond: plan.rate / plan.activeDevices,
    sent,
    sentRate,
    ackRate,
    acknowledged,
    rejected,
    missing,
    lostConnections,
    latencyMs,
    platformCpuPercent: platformUse.cpuPercent,
    platformCpuMsPerMessage: platformUse.cpuMs / Math.max(1, answeredInWindow),
    platformPeakRssMb: platformUse.peakRssBytes / 2 ** 20,
    ...(databaseUse
      ? {
          databaseCpuPercent: databaseUse.cpuPercent,
          databaseCpuMsPerMessage: databaseUse.cpuMs / Math.max(1, answeredInWindow),
        }
      : {}),
    loadGeneratorCpuPercent: ((own.user + own.system) / 1000 / wallMs) * 100,
    loadAverage1m: load,
    passed: failure === undefined,
    ...(failure ? { failure } : {}),
  };
}

/** Why a step does not count as sustained with zero loss, or undefined if it does. */
function judge(
  r: {
    plan: StepPlan;
    sentRate: number;
    ackRate: number;
    missing: number;
    rejected: number;
    lostConnections: number;
    mismatches: number;
    p99: number;
  },
  ctx: StepContext,
): string | undefined {
  if (r.lostConnections > 0) return `${r.lostConnections} connections dropped`;
  if (r.missing > 0) return `${r.missing} messages not acknowledged within ${ctx.drainTimeoutMs / 1000} s`;
  if (r.rejected > 0) return `${r.rejected} messages refused`;
  if (r.mismatches > 0) return `${r.mismatches} PUBACKs out of order`;
  if (r.sentRate < r.plan.rate * 0.98) return `load generator reached only ${Math.round(r.sentRate)} msg/s`;
  if (r.ackRate < r.plan.rate * 0.98) return `acknowledgements fell behind (${Math.round(r.ackRate)} msg/s)`;
  if (!(r.p99 <= ctx.maxP99Ms)) return `p99 ${Math.round(r.p99)} ms over the ${ctx.maxP99Ms} ms bound`;
  return undefined;
}

/** The q-quantile (0..1) of ascending values, nearest rank; NaN when there are none. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/**
 * Climbs the offered rates until a step fails, then runs `refine` steps halving the gap between the last
 * rate that held and the first that did not (to a multiple of 25). `beforeRefining` may stop the narrowing
 * (returning false), e.g. while a backlog from the failed step would blur the next one. Returns the highest
 * rate sustained.
 */
export async function climb(
  rates: readonly number[],
  refine: number,
  step: (rate: number) => Promise<{ readonly passed: boolean }>,
  beforeRefining: () => Promise<boolean> = async () => true,
): Promise<number> {
  let passedRate = 0;
  let failedRate: number | undefined;
  for (const rate of rates) {
    if ((await step(rate)).passed) passedRate = rate;
    else {
      failedRate = rate;
      break;
    }
  }
  for (let i = 0; i < refine && failedRate !== undefined; i++) {
    const rate = Math.round((passedRate + failedRate) / 2 / 25) * 25;
    if (rate <= passedRate || rate >= failedRate) break;
    if (!(await beforeRefining())) break;
    if ((await step(rate)).passed) passedRate = rate;
    else failedRate = rate;
  }
  return passedRate;
}
