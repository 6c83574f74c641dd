/**
 * "Patient recordings" for the ward simulator: real PhysioNet signals put together as one simulated
 * patient: an ECG lead (MIT-BIH MLII at its true 360 Hz), optionally a PPG and a respiration waveform
 * (Challenge 2015, 250 Hz) and a per-minute vital-sign series (MIMIC-II numerics). The parts come from
 * different people; the simulator makes realistic traffic, not a coherent case.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VITALS, type VitalCode, type WaveformCode } from '@openiomt/core';
import { INVALID_SAMPLE, readRecord, type WfdbRecord, type WfdbSignal } from './wfdb.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '../../../..');
/** Excerpts shipped with the platform (see fixtures/recordings/README.md). */
export const FIXTURE_RECORDINGS_DIR = resolve(HERE, '../../fixtures/recordings');

/** The full reference data: OPENIOMT_SHARED_DATA, else ../shared/data beside the repository, if present. */
export function sharedDataDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OPENIOMT_SHARED_DATA) return resolve(env.OPENIOMT_SHARED_DATA);
  const beside = resolve(REPO_ROOT, '../shared/data');
  return existsSync(beside) ? beside : undefined;
}

/** Where recordings are read from: the folder given, else the shared data, else the shipped fixtures. */
export function resolveDataDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined) return resolve(explicit);
  return sharedDataDir(env) ?? FIXTURE_RECORDINGS_DIR;
}

/** A waveform as stored: digital samples; physical value = origin + factor * sample. */
export interface RecordedWaveform {
  readonly code: WaveformCode;
  /** Samples per second. */
  readonly rate: number;
  readonly factor: number;
  readonly origin: number;
  readonly samples: Int32Array;
  /** The digital code for a missing sample in this signal's format (sent as null). */
  readonly invalid: number | undefined;
  /** Record and signal it came from, e.g. mitdb/101:MLII. */
  readonly source: string;
}

export interface VitalReading {
  readonly code: VitalCode;
  readonly value: number;
}

export interface PatientRecording {
  readonly name: string;
  readonly ecg: RecordedWaveform;
  readonly ppg?: RecordedWaveform;
  readonly respiration?: RecordedWaveform;
  /** One row per numerics sample (per minute in the source), rows without any valid value left out. */
  readonly vitals: readonly (readonly VitalReading[])[];
  readonly vitalsSource?: string;
}

interface Recipe {
  readonly name: string;
  readonly ecg: string;
  readonly pleth?: string;
  readonly resp?: string;
  readonly numerics?: { readonly record: string; readonly startRow: number };
}

const LONG_NUMERICS = 'mimic2wdb-numerics/s00001-2896-10-10-00-31n';
const SHORT_NUMERICS = 'mimic2wdb-numerics/s25047-2704-05-04-10-44n';
const PPG_RESP = 'challenge-2015/v102s';

/** The first three exist in the fixtures too; the rest only with the full data. */
const RECIPES: readonly Recipe[] = [
  {
    name: 'mitdb-101',
    ecg: 'mitdb/101',
    pleth: PPG_RESP,
    resp: PPG_RESP,
    numerics: { record: LONG_NUMERICS, startRow: 0 },
  },
  { name: 'mitdb-106', ecg: 'mitdb/106', numerics: { record: SHORT_NUMERICS, startRow: 0 } },
  {
    name: 'mitdb-119',
    ecg: 'mitdb/119',
    pleth: PPG_RESP,
    resp: PPG_RESP,
    numerics: { record: LONG_NUMERICS, startRow: 900 },
  },
  { name: 'mitdb-201', ecg: 'mitdb/201', numerics: { record: LONG_NUMERICS, startRow: 300 } },
  {
    name: 'mitdb-203',
    ecg: 'mitdb/203',
    pleth: PPG_RESP,
    resp: PPG_RESP,
    numerics: { record: SHORT_NUMERICS, startRow: 36 },
  },
  { name: 'mitdb-208', ecg: 'mitdb/208', numerics: { record: LONG_NUMERICS, startRow: 1500 } },
];

/** Numerics signal names (MIMIC-II) to catalogue codes; ABP wins over NBP when both are valid. */
const NUMERICS_CODES: readonly (readonly [VitalCode, readonly string[]])[] = [
  ['heart-rate', ['HR']],
  ['pulse-rate', ['PULSE']],
  ['spo2', ['SpO2']],
  ['respiratory-rate', ['RESP']],
  ['bp-systolic', ['ABPSys', 'NBPSys']],
  ['bp-diastolic', ['ABPDias', 'NBPDias']],
  ['bp-mean', ['ABPMean', 'NBPMean']],
];

/**
 * Monitors write 0 into these numerics when the sensor is off or a lead disconnected; replayed as readings
 * they would look like asystole or apnoea, so a 0 counts as a missing value.
 */
const ZERO_IS_MISSING = new Set<VitalCode>([
  'heart-rate',
  'pulse-rate',
  'spo2',
  'respiratory-rate',
  'bp-systolic',
  'bp-diastolic',
  'bp-mean',
]);

export class RecordingError extends Error {
  override name = 'RecordingError';
}

const exists = (dataDir: string, record: string) => existsSync(join(dataDir, `${record}.hea`));

/** Loads every recipe whose files are in dataDir. Throws when there is none. */
export async function loadRecordings(dataDir: string): Promise<PatientRecording[]> {
  const cache = new Map<string, Promise<WfdbRecord>>();
  const read = (record: string) => {
    const cached = cache.get(record);
    if (cached) return cached;
    const r = readRecord(join(dataDir, record));
    cache.set(record, r);
    return r;
  };
  const out: PatientRecording[] = [];
  for (const recipe of RECIPES) {
    if (!exists(dataDir, recipe.ecg)) continue;
    out.push(await loadRecipe(recipe, dataDir, read));
  }
  if (out.length === 0)
    throw new RecordingError(
      `no recordings in ${dataDir}: expected mitdb/<record>.hea (e.g. ${RECIPES[0]!.ecg}.hea); point --data at the shared data folder or the fixtures`,
    );
  return out;
}

async function loadRecipe(
  recipe: Recipe,
  dataDir: string,
  read: (record: string) => Promise<WfdbRecord>,
): Promise<PatientRecording> {
  const ecg = waveform(await read(recipe.ecg), recipe.ecg, ['MLII'], 'ecg-mlii', true)!;
  const optional = async (record: string | undefined, names: string[], code: WaveformCode) =>
    record && exists(dataDir, record) ? waveform(await read(record), record, names, code, false) : undefined;
  const ppg = await optional(recipe.pleth, ['PLETH'], 'ppg');
  const respiration = await optional(recipe.resp, ['RESP'], 'respiration');
  const numerics = recipe.numerics && exists(dataDir, recipe.numerics.record) ? recipe.numerics : undefined;
  const vitals = numerics ? rotate(vitalRows(await read(numerics.record)), numerics.startRow) : [];
  return {
    name: recipe.name,
    ecg,
    ...(ppg ? { ppg } : {}),
    ...(respiration ? { respiration } : {}),
    vitals,
    ...(numerics ? { vitalsSource: numerics.record } : {}),
  };
}

function findSignal(record: WfdbRecord, names: readonly string[]): WfdbSignal | undefined {
  for (const name of names) {
    const s = record.signals.find((x) => x.spec.description === name);
    if (s) return s;
  }
  return undefined;
}

function waveform(
  record: WfdbRecord,
  path: string,
  names: string[],
  code: WaveformCode,
  required: boolean,
): RecordedWaveform | undefined {
  const signal = findSignal(record, names) ?? (required ? record.signals[0] : undefined);
  if (!signal) return undefined;
  if (signal.digital.length === 0)
    throw new RecordingError(`${path}: signal ${signal.spec.description} is empty`);
  const { gain, baseline } = signal.spec;
  return {
    code,
    rate: signal.samplingFrequency,
    // WFDB: physical = (digital - baseline) / gain, i.e. origin + factor * digital.
    factor: 1 / gain,
    origin: baseline === 0 ? 0 : -baseline / gain, // never -0
    samples: signal.digital,
    invalid: INVALID_SAMPLE[signal.spec.format],
    source: `${path}:${signal.spec.description}`,
  };
}

/** The vitals of each numerics row, in catalogue codes and units, missing and implausible values left out. */
export function vitalRows(record: WfdbRecord): VitalReading[][] {
  const columns = NUMERICS_CODES.map(([code, names]) => ({
    code,
    signals: names.map((n) => findSignal(record, [n])).filter((s): s is WfdbSignal => s !== undefined),
  }));
  const frames = record.signals[0]?.digital.length ?? 0;
  const rows: VitalReading[][] = [];
  for (let f = 0; f < frames; f++) {
    const row: VitalReading[] = [];
    for (const { code, signals } of columns) {
      for (const s of signals) {
        const value = physicalVital(code, s, f);
        if (value !== undefined) {
          row.push({ code, value });
          break;
        }
      }
    }
    if (row.length > 0) rows.push(row);
  }
  return rows;
}

function physicalVital(code: VitalCode, s: WfdbSignal, frame: number): number | undefined {
  const d = s.digital[frame]!;
  if (d === INVALID_SAMPLE[s.spec.format]) return undefined;
  const value = Math.round(((d - s.spec.baseline) / s.spec.gain) * 10) / 10;
  const def = VITALS[code];
  if (value === 0 && ZERO_IS_MISSING.has(code)) return undefined;
  if ((def.min !== undefined && value < def.min) || (def.max !== undefined && value > def.max))
    return undefined;
  return value;
}

const rotate = <T>(rows: T[], start: number): T[] => {
  if (rows.length === 0) return rows;
  const k = start % rows.length;
  return [...rows.slice(k), ...rows.slice(0, k)];
};

/** Samples of second `second` (from 0) at `rate`: [floor(second·rate), floor((second+1)·rate)). */
export function secondSpan(rate: number, second: number): { from: number; count: number } {
  const from = Math.floor(second * rate);
  return { from, count: Math.floor((second + 1) * rate) - from };
}

/** `count` raw samples from position `from`, looping over the end; missing samples become null. */
export function loopedSamples(w: RecordedWaveform, from: number, count: number): (number | null)[] {
  const n = w.samples.length;
  const out = new Array<number | null>(count);
  for (let i = 0; i < count; i++) {
    const v = w.samples[(from + i) % n]!;
    out[i] = v === w.invalid ? null : v;
  }
  return out;
}
