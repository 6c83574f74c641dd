/** The benchmark's readable table and its JSON record. */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname } from 'node:path';
import type { ProfileSummary } from './profile-summary.ts';
import type { StepResult } from './ramp.ts';
import type { VerifyCeiling } from './verify-ceiling.ts';

export interface BackendReport {
  readonly backend: 'pglite' | 'postgres';
  readonly devices: number;
  readonly provisioning: { seconds: number; sourceAddresses: number; connectSeconds: number };
  readonly warmup: StepResult;
  readonly steps: StepResult[];
  /** Highest offered rate that passed below the lowest one that failed (ramp, then refinement steps). */
  readonly sustainedRate: number;
  readonly p99AtTwoThousandMs?: number;
  readonly zeroLoss: { acknowledged: number; stored: number; equal: boolean; unacknowledgedAtEnd: number };
  readonly verifyCeiling: VerifyCeiling;
  /** sustainedRate as a fraction of the single-core verification ceiling. */
  readonly ratioToVerifyCeiling: number;
  readonly goals: { sustained8000: boolean; p99Under100At2000: boolean | undefined };
  readonly profile?: ProfileSummary & { file: string };
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

const COLUMNS = [
  ['offered/s', 9],
  ['dev x/s', 9],
  ['sent/s', 7],
  ['acked/s', 7],
  ['acked', 8],
  ['lost', 5],
  ['p50 ms', 7],
  ['p95 ms', 7],
  ['p99 ms', 7],
  ['max ms', 7],
  ['plat CPU', 8],
  ['ms/msg', 6],
  ['RSS MB', 7],
  ['db CPU', 7],
  ['ms/msg', 6],
  ['gen CPU', 7],
  ['load', 5],
  ['', 0],
] as const;

export function stepTableHeader(): string {
  return COLUMNS.map(([name, width]) => name.padStart(width)).join(' ');
}

export function stepTableRow(r: StepResult, label?: string): string {
  const f = (n: number | undefined, digits = 0) =>
    n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
  const cells = [
    label ?? String(r.offeredRate),
    `${r.activeDevices}x${f(r.messagesPerDevicePerSecond, r.messagesPerDevicePerSecond % 1 ? 1 : 0)}`,
    f(r.sentRate),
    f(r.ackRate),
    String(r.acknowledged),
    String(r.missing + r.rejected),
    f(r.latencyMs.p50, 1),
    f(r.latencyMs.p95, 1),
    f(r.latencyMs.p99, 1),
    f(r.latencyMs.max, 0),
    `${f(r.platformCpuPercent)}%`,
    f(r.platformCpuMsPerMessage, 2),
    f(r.platformPeakRssMb),
    r.databaseCpuPercent === undefined ? '-' : `${f(r.databaseCpuPercent)}%`,
    f(r.databaseCpuMsPerMessage, 2),
    `${f(r.loadGeneratorCpuPercent)}%`,
    f(r.loadAverage1m, 1),
    r.passed ? 'ok' : `FAIL: ${r.failure}`,
  ];
  return cells.map((c, i) => c.padStart(COLUMNS[i]![1])).join(' ');
}

export function backendSummary(r: BackendReport): string {
  const c = r.verifyCeiling;
  const lines = [
    `${r.backend}: sustained ${r.sustainedRate} signed msg/s with zero loss ` +
      `(goal 8000: ${r.goals.sustained8000 ? 'met' : 'NOT met'}); ` +
      `p99 at 2000 msg/s ${r.p99AtTwoThousandMs === undefined ? 'not reached' : `${r.p99AtTwoThousandMs.toFixed(1)} ms`} ` +
      `(goal < 100 ms: ${r.goals.p99Under100At2000 === undefined ? '-' : r.goals.p99Under100At2000 ? 'met' : 'NOT met'})`,
    `  zero-loss check: ${r.zeroLoss.acknowledged} acknowledged, ${r.zeroLoss.stored} stored in the database ` +
      `(${r.zeroLoss.equal ? 'equal' : 'DIFFERENT'}; ${r.zeroLoss.unacknowledgedAtEnd} never acknowledged)`,
    `  single-core Ed25519 ceiling on these ${c.messageBytes}-byte messages: ${Math.round(c.verifyPerSecond)} verify/s, ` +
      `${Math.round(c.parseVerifyDecodePerSecond)}/s with JWS parse + payload decode, ` +
      `${Math.round(c.threadPoolVerifyPerSecond)}/s async on the thread pool; ` +
      `sustained rate = ${(r.ratioToVerifyCeiling * 100).toFixed(1)} % of the verify ceiling`,
    costLine(r),
    `  ${r.devices} devices provisioned in ${r.provisioning.seconds.toFixed(1)} s ` +
      `(${r.provisioning.sourceAddresses} source address(es)), connected in ${r.provisioning.connectSeconds.toFixed(1)} s`,
  ];
  return lines.join('\n');
}

/** CPU per message, averaged over the ramp steps: a figure less sensitive to other load than rates are. */
function costLine(r: BackendReport): string {
  const steps = r.steps.filter((s) => s.sent > 0);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const platform = mean(steps.map((s) => s.platformCpuMsPerMessage));
  const database = steps.every((s) => s.databaseCpuMsPerMessage !== undefined)
    ? mean(steps.map((s) => s.databaseCpuMsPerMessage as number))
    : undefined;
  return (
    `  CPU per message: platform ${platform.toFixed(2)} ms (one core could carry ~${Math.round(1000 / platform)} msg/s)` +
    (database === undefined
      ? ''
      : `, PostgreSQL ${database.toFixed(2)} ms (~${Math.round(1000 / database)} msg/s per core)`)
  );
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** A command-line option's value as a whole number of at least `min`, or an error naming the option. */
export function wholeNumber(name: string, value: unknown, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name}: a whole number >= ${min}, got ${String(value)}`);
  return n;
}
