/**
 * The ward simulator: N simulated patients, each with a bedside monitor that streams a real PhysioNet
 * recording to the platform over MQTT, provisioned through the administrator's HTTP API like real ones.
 *
 * Every second each device sends ONE signed message holding the past second of its recording: ECG at the
 * recording's true rate (360 Hz for MIT-BIH), plus PPG and respiration (250 Hz) when the recording has
 * them. Vitals come from per-minute numerics; by default one numerics row is replayed every 5 s
 * (`vitalsEveryS`), i.e. trends run 12 times faster than real time, so that they visibly move in a demo.
 * Patient i replays recording i mod (number of recordings); recordings loop when they end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bedWorkDir, SimulatedBed } from './bed.ts';
import { type AdminApi, type BedSpec, type ProvisionedBed, provisionBed } from './provision.ts';
import { loadRecordings, type PatientRecording, resolveDataDir } from './recordings.ts';

export interface WardProgress {
  readonly elapsedS: number;
  readonly sent: number;
  readonly acknowledged: number;
  readonly rejected: number;
}

export interface WardOptions {
  /** Platform HTTP base URL (admin API and device enrolment). */
  readonly httpUrl: string;
  /** Platform MQTT URL, mqtt://host:port or mqtts://host:port. */
  readonly mqttUrl: string;
  readonly adminToken: string;
  readonly patients: number;
  /** Seconds to stream; Infinity streams until `signal` aborts. */
  readonly durationS: number;
  /** Folder with the recordings (mitdb/, challenge-2015/, mimic2wdb-numerics/); see resolveDataDir. */
  readonly dataDir?: string;
  /** Seconds of simulation per numerics row (default 5; the source has one row per minute). */
  readonly vitalsEveryS?: number;
  readonly onProgress?: (p: WardProgress) => void;
  readonly signal?: AbortSignal;
  /** Prefix of the patient and device ids (default `sim-<random>`): `<prefix>-patient-<n>`, `<prefix>-monitor-<n>`. */
  readonly idPrefix?: string;
  /** Take over patients and devices that already exist with these ids (re-enrolling the devices). */
  readonly reuse?: boolean;
  /** How long to wait for outstanding acknowledgements when stopping (default 10 s). */
  readonly drainTimeoutMs?: number;
}

export interface WardDeviceResult {
  readonly deviceId: string;
  readonly patientId: string;
  readonly recording: string;
  readonly sent: number;
  readonly acknowledged: number;
  readonly rejected: number;
  readonly rejections: Readonly<Record<string, number>>;
}

export interface WardResult {
  readonly sent: number;
  readonly acknowledged: number;
  readonly rejected: number;
  /** Seconds of recording sent per device. */
  readonly elapsedS: number;
  readonly dataDir: string;
  readonly patientIds: string[];
  readonly deviceIds: string[];
  readonly devices: WardDeviceResult[];
}

export class WardError extends Error {
  override name = 'WardError';
}

const PROVISION_CONCURRENCY = 8;

function checkOptions(o: WardOptions): void {
  if (!Number.isInteger(o.patients) || o.patients < 1 || o.patients > 10_000)
    throw new WardError('patients must be an integer 1..10000');
  if (!(o.durationS > 0)) throw new WardError('durationS must be a positive number of seconds (or Infinity)');
  const every = o.vitalsEveryS ?? 5;
  if (!Number.isInteger(every) || every < 1) throw new WardError('vitalsEveryS must be a positive integer');
}

export function bedSpecs(
  prefix: string,
  recordings: readonly PatientRecording[],
  patients: number,
): BedSpec[] {
  return Array.from({ length: patients }, (_, i) => ({
    patientId: `${prefix}-patient-${i + 1}`,
    deviceId: `${prefix}-monitor-${i + 1}`,
    displayName: `Simulated patient ${i + 1} (${recordings[i % recordings.length]!.name})`,
  }));
}

async function provisionAll(api: AdminApi, specs: BedSpec[], reuse: boolean): Promise<ProvisionedBed[]> {
  const out: ProvisionedBed[] = [];
  for (let i = 0; i < specs.length; i += PROVISION_CONCURRENCY) {
    const batch = specs.slice(i, i + PROVISION_CONCURRENCY);
    out.push(...(await Promise.all(batch.map((s) => provisionBed(api, s, reuse)))));
  }
  return out;
}

/** Resolves at wall-clock `atMs`, or early when the signal aborts. */
function sleepUntil(atMs: number, signal: AbortSignal | undefined): Promise<void> {
  const wait = atMs - Date.now();
  if (wait <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, wait);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function totals(beds: SimulatedBed[]): Omit<WardProgress, 'elapsedS'> {
  let sent = 0;
  let acknowledged = 0;
  let rejected = 0;
  for (const b of beds) {
    const c = b.counts();
    sent += c.sent;
    acknowledged += c.acknowledged;
    rejected += c.rejected;
  }
  return { sent, acknowledged, rejected };
}

/** Runs the simulated ward until durationS seconds are sent or the signal aborts; see the file comment. */
export async function runWard(opts: WardOptions): Promise<WardResult> {
  checkOptions(opts);
  const vitalsEveryS = opts.vitalsEveryS ?? 5;
  const dataDir = resolveDataDir(opts.dataDir);
  const recordings = await loadRecordings(dataDir);
  const api: AdminApi = { url: opts.httpUrl, token: opts.adminToken };
  const prefix = opts.idPrefix ?? `sim-${randomBytes(3).toString('hex')}`;
  const specs = bedSpecs(prefix, recordings, opts.patients);
  const provisioned = await provisionAll(api, specs, opts.reuse ?? false);

  const workRoot = await mkdtemp(join(tmpdir(), 'openiomt-sim-'));
  const beds: SimulatedBed[] = [];
  let elapsedS = 0;
  try {
    const startMs = Date.now();
    for (const [i, bed] of provisioned.entries()) {
      const recording = recordings[i % recordings.length]!;
      const workDir = bedWorkDir(workRoot, bed.deviceId);
      beds.push(
        await SimulatedBed.open({ bed, recording, mqttUrl: opts.mqttUrl, workDir, vitalsEveryS, startMs }),
      );
    }
    // Second k is sent once it has fully elapsed; when the loop falls behind it catches up at once.
    while (elapsedS < opts.durationS && !opts.signal?.aborted) {
      await sleepUntil(startMs + (elapsedS + 1) * 1000, opts.signal);
      if (opts.signal?.aborted) break;
      const second = elapsedS;
      await Promise.all(beds.map((b) => b.sendSecond(second)));
      elapsedS += 1;
      opts.onProgress?.({ elapsedS, ...totals(beds) });
    }
  } finally {
    await Promise.all(beds.map((b) => b.finish(opts.drainTimeoutMs ?? 10_000)));
    await rm(workRoot, { recursive: true, force: true });
  }
  const sums = totals(beds);
  opts.onProgress?.({ elapsedS, ...sums });
  return {
    ...sums,
    elapsedS,
    dataDir,
    patientIds: provisioned.map((b) => b.patientId),
    deviceIds: provisioned.map((b) => b.deviceId),
    devices: beds.map((b, i) => ({
      deviceId: b.deviceId,
      patientId: provisioned[i]!.patientId,
      recording: recordings[i % recordings.length]!.name,
      ...b.counts(),
    })),
  };
}
