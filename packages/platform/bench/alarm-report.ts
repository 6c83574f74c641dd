/** The alarm benchmark's readable table and its per-backend record. */
import type { ProbeStepResult } from './alarm-probes.ts';
import type { ProfileSummary } from './profile-summary.ts';
import type { StepResult } from './ramp.ts';

export interface AlarmStepResult {
  readonly offeredRate: number;
  /** The background fleet: rates, acknowledgements, publish-to-durable latency, platform CPU and RSS. */
  readonly background: StepResult;
  /** The platform's main thread and its busiest other thread (PGlite's, on PGlite), % of one core. */
  readonly threads: { mainPercent: number; busiestOtherPercent: number };
  /** The probes: publish-to-alarm-on-the-stream latency and lost alarms. */
  readonly alarm: ProbeStepResult;
  /** Alarm changes of background patients seen on an unfiltered stream (should be none: steady vitals). */
  readonly backgroundAlarms: Record<string, number>;
  /** Waveform analysis during the step: readings analysed, skipped (its queue full), windows stored. */
  readonly analysis: { analysed: number; skipped: number; windows: number };
  readonly passed: boolean;
  readonly failure?: string;
}

export interface AlarmBackendReport {
  readonly backend: 'pglite' | 'postgres';
  /** Background devices at the end: one per message/s of the highest step. */
  readonly devices: number;
  readonly probes: number;
  readonly probeIntervalMs: number;
  readonly provisioning: { seconds: number; connectSeconds: number };
  readonly warmup: AlarmStepResult;
  readonly steps: AlarmStepResult[];
  /** Highest offered rate that passed below the lowest one that failed (ramp, then refinement steps). */
  readonly sustainedRate: number;
  readonly atTwoThousand?: { p50: number; p95: number; p99: number; passed: boolean };
  readonly goals: { p99Under250At2000: boolean | undefined };
  /** Readings acknowledged (background and probes) against readings stored in the database. */
  readonly zeroLoss: { acknowledged: number; stored: number; equal: boolean };
  readonly profile?: ProfileSummary & { file: string };
}

const COLUMNS = [
  ['offered/s', 9],
  ['sent/s', 7],
  ['acked/s', 7],
  ['bg lost', 7],
  ['alarm p50', 9],
  ['p95', 6],
  ['p99', 6],
  ['max', 5],
  ['samples', 7],
  ['lost alarms', 11],
  ['ack p99', 7],
  ['+alarm p99', 10],
  ['bg alarms', 9],
  ['an skip', 7],
  ['plat CPU', 8],
  ['main/thr', 8],
  ['RSS MB', 6],
  ['db CPU', 6],
  ['gen CPU', 7],
  ['load', 4],
  ['', 0],
] as const;

/**
 * Latencies in ms; `ack p99` is the probes' publish-to-PUBACK (reading durable), `+alarm p99` the time from
 * that PUBACK to the alarm on the stream.
 */
export function alarmTableHeader(): string {
  return COLUMNS.map(([name, width]) => name.padStart(width)).join(' ');
}

export function alarmTableRow(r: AlarmStepResult, label?: string): string {
  const f = (n: number | undefined, digits = 0) =>
    n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
  const b = r.background;
  const a = r.alarm;
  const noise = Object.values(r.backgroundAlarms).reduce((x, y) => x + y, 0);
  const cells = [
    label ?? String(r.offeredRate),
    f(b.sentRate),
    f(b.ackRate),
    String(b.missing + b.rejected),
    f(a.latencyMs.p50, 1),
    f(a.latencyMs.p95, 1),
    f(a.latencyMs.p99, 1),
    f(a.latencyMs.max),
    String(a.samples),
    String(a.lost),
    f(a.ackLatencyMs.p99, 1),
    f(a.afterAckMs.p99, 1),
    String(noise),
    String(r.analysis.skipped),
    `${f(b.platformCpuPercent)}%`,
    `${f(r.threads.mainPercent)}/${f(r.threads.busiestOtherPercent)}`,
    f(b.platformPeakRssMb),
    b.databaseCpuPercent === undefined ? '-' : `${f(b.databaseCpuPercent)}%`,
    `${f(b.loadGeneratorCpuPercent)}%`,
    f(b.loadAverage1m, 1),
    label ? '' : r.passed ? 'ok' : `FAIL: ${r.failure}`,
  ];
  return cells.map((c, i) => c.padStart(COLUMNS[i]![1])).join(' ');
}

export function alarmSummary(r: AlarmBackendReport): string {
  const at = r.atTwoThousand;
  const goal = r.goals.p99Under250At2000;
  return [
    `${r.backend}: alarm latency at 2000 msg/s of background: ` +
      (at
        ? `p50 ${at.p50.toFixed(1)} / p95 ${at.p95.toFixed(1)} / p99 ${at.p99.toFixed(1)} ms` +
          `${at.passed ? '' : ' (step not sustained)'}`
        : 'not reached') +
      ` (goal p99 < 250 ms: ${goal === undefined ? '-' : goal ? 'met' : 'NOT met'}); ` +
      `highest background rate sustained with every alarm delivered: ${r.sustainedRate} msg/s`,
    `  ${r.probes} probe patients toggling every ${r.probeIntervalMs} ms; ${r.devices} background devices ` +
      `provisioned in ${r.provisioning.seconds.toFixed(1)} s, connected in ${r.provisioning.connectSeconds.toFixed(1)} s`,
    `  zero-loss check: ${r.zeroLoss.acknowledged} readings acknowledged, ${r.zeroLoss.stored} stored ` +
      `(${r.zeroLoss.equal ? 'equal' : 'DIFFERENT'})`,
  ].join('\n');
}
