// Entry points for `openiomt signal ...` (wired into the CLI by the platform package).
import { detectQrsMultiLead } from './ecg/qrs.ts';
import { assessQuality } from './ecg/quality.ts';
import { RECORD_PATH_HINT, readRecord, WfdbFileError } from './wfdb/loader.ts';
import { type ShortFile, toPhysical, type WfdbRecord, type WfdbSignal } from './wfdb/signal.ts';

// The errors a caller of qrsCommand may show as they are: each names the file or signal and what to give.
export { WfdbHeaderError } from './wfdb/header.ts';
export { WfdbFileError } from './wfdb/loader.ts';

/** Physical values of a signal with missing samples carried forward (the detector needs finite input). */
function finiteSignal(record: WfdbRecord, index: number): Float64Array {
  const x = toPhysical(record.signals[index]!);
  let last = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i]!)) last = x[i]!;
    else x[i] = last;
  }
  return x;
}

const VOLTAGE_UNITS = /^(mv|uv|µv|μv|nv|v)$/i;
/**
 * Signals that are not ECG even when their units are volts, or left out and so millivolts by the WFDB
 * default (MIMIC stores PLETH and RESP that way): pressures, pleth, respiration, gases, and the other
 * biopotentials of sleep records (EEG, EOG, EMG, in µV).
 */
const NOT_ECG =
  /^(abp|art|pap|cvp|icp|nbp|bp|pleth|ppg|pulse|spo2|sao2|resp|co2|etco2|o2|flow|airflow|thor|abdo|eeg|eog|emg|temp)|\b(pressure|resp|pleth|eeg|eog|emg)/i;
/**
 * Below this rate a signal is a trend (numerics: one value a minute), not a waveform a QRS complex
 * (80–120 ms) can be seen in. Real ECGs are sampled at 100 Hz and above (ambulatory: 128 Hz).
 */
export const MIN_ECG_HZ = 50;

/** Whether a signal looks like an ECG lead: voltage units, a waveform rate, and not named as something else. */
export function looksLikeEcg(signal: WfdbSignal): boolean {
  return (
    VOLTAGE_UNITS.test(signal.spec.units) &&
    signal.samplingFrequency >= MIN_ECG_HZ &&
    !NOT_ECG.test(signal.spec.description.trim())
  );
}

/** A rate for people: "360 Hz", or "1 per 60 s" for numerics. */
function rateText(hz: number): string {
  return hz >= 1 ? `${Number(hz.toPrecision(6))} Hz` : `1 per ${Number((1 / hz).toPrecision(4))} s`;
}

/** The record's signals as `0 MLII (mV, 360 Hz), 1 V1 (mV, 360 Hz)`, for messages. */
export function describeSignals(record: WfdbRecord): string {
  return record.signals
    .map(
      (s, i) =>
        `${i} ${s.spec.description.trim() || '(no name)'} (${s.spec.units}, ${rateText(s.samplingFrequency)})`,
    )
    .join(', ');
}

/** No signal of the record looks like an ECG, so the record is refused rather than analysed blindly. */
export class NoEcgSignalError extends Error {
  override name = 'NoEcgSignalError';
}

/** Picks the ECG signal to analyse: the first that looks like an ECG lead (see `looksLikeEcg`). */
export function ecgSignalIndex(record: WfdbRecord): number {
  if (record.signals.length === 0)
    throw new NoEcgSignalError(
      `record "${record.header.name}" has no signals to analyse: its header lists none`,
    );
  const i = record.signals.findIndex(looksLikeEcg);
  if (i < 0)
    throw new NoEcgSignalError(
      `no signal of record "${record.header.name}" looks like an ECG (units mV or µV, at least ${MIN_ECG_HZ} Hz, not named as pressure, pleth, respiration, EEG...): its signals are ${describeSignals(record)}`,
    );
  return i;
}

/** Indices of all ECG signals at the same rate as the chosen ECG signal (the leads to fuse). */
export function ecgLeadIndices(record: WfdbRecord): number[] {
  const first = ecgSignalIndex(record);
  const fs = record.signals[first]!.samplingFrequency;
  const leads = record.signals
    .map((s, i) => ({ s, i }))
    .filter(({ s, i }) => i !== first && s.samplingFrequency === fs && looksLikeEcg(s))
    .map(({ i }) => i);
  return [first, ...leads];
}

/** Scale of a voltage unit to millivolts (1 for mV and for anything unrecognised). */
function millivoltsPerUnit(units: string): number {
  const u = units.toLowerCase();
  return u === 'v' ? 1000 : u === 'uv' || u === 'µv' || u === 'μv' ? 0.001 : u === 'nv' ? 1e-6 : 1;
}

/**
 * The ECG leads worth fusing: those whose signal-quality index finds at least half of the record clean
 * (not flat, clipped or noisy), so that a disconnected or noisy lead cannot add false beats. Falls back to
 * all ECG leads when none qualifies.
 */
export function fusableLeadIndices(record: WfdbRecord): number[] {
  const all = ecgLeadIndices(record);
  const good = all.filter((i) => {
    const signal = record.signals[i]!;
    const mv = millivoltsPerUnit(signal.spec.units);
    const x = finiteSignal(record, i);
    return assessQuality(mv === 1 ? x : x.map((v) => v * mv), signal.samplingFrequency).usableFraction >= 0.5;
  });
  return good.length > 0 ? good : all;
}

/**
 * QRS detections of a decoded record, as sample indices of its first fused ECG signal. `signal` analyses
 * that one signal instead (no lead fusion), whatever it looks like.
 */
export function detectRecordQrs(
  record: WfdbRecord,
  options: { multiLead?: boolean; signal?: number } = {},
): Int32Array {
  const indices =
    options.signal !== undefined
      ? [options.signal]
      : options.multiLead === false
        ? [ecgSignalIndex(record)]
        : fusableLeadIndices(record);
  const fs = record.signals[indices[0]!]!.samplingFrequency;
  return detectQrsMultiLead(
    indices.map((i) => finiteSignal(record, i)),
    fs,
  );
}

/** The signal `--signal` names: a number counted from 0, or a signal's name (its description, any case). */
export function signalIndexOf(record: WfdbRecord, choice: string): number {
  const wanted = choice.trim();
  const count = record.signals.length;
  if (/^\d+$/.test(wanted)) {
    const i = Number(wanted);
    if (i < count) return i;
  } else {
    const i = record.signals.findIndex(
      (s) => s.spec.description.trim().toLowerCase() === wanted.toLowerCase(),
    );
    if (i >= 0) return i;
  }
  if (count === 0)
    throw new NoEcgSignalError(
      `record "${record.header.name}" has no signals to analyse: its header lists none`,
    );
  throw new NoEcgSignalError(
    `record "${record.header.name}" has no signal "${choice}": give --signal a number from 0 to ${count - 1} or a name; its signals are ${describeSignals(record)}`,
  );
}

/** What a cut-short signal file means for the analysis, for a warning. */
export function shortFileWarning(record: WfdbRecord, s: ShortFile): string {
  const fs = record.header.samplingFrequency;
  const seconds = (frames: number) => `${Number((frames / fs).toFixed(1))} s`;
  return `signal file ${s.fileName} holds ${s.frames} of the ${s.declaredFrames} samples per signal the header declares (${seconds(s.frames)} of ${seconds(s.declaredFrames)}): the file is cut short, and only what it holds is analysed`;
}

export interface QrsCommandResult {
  /** Sample indices of the beats, at the rate of the analysed signal (of every fused lead: they share it). */
  beats: number[];
  /** What the caller should be told on stderr: a cut-short file, a chosen signal that is not ECG. */
  warnings: string[];
}

/**
 * `openiomt signal qrs <record> [--signal <n|name>]`: QRS sample indices in the record's own numbering.
 * Without `signal`, the record's ECG leads are found and fused, and a record with none is refused, listing
 * its signals. A data file shorter than its header says is analysed as far as it goes, with a warning.
 */
export async function qrsCommand(
  recordPath: string,
  options: { signal?: string } = {},
): Promise<QrsCommandResult> {
  if (recordPath.trim() === '') throw new WfdbFileError('no-record', `no record given: ${RECORD_PATH_HINT}`);
  const record = await readRecord(recordPath.replace(/\.(hea|dat)$/, ''));
  const warnings = record.shortFiles.map((s) => shortFileWarning(record, s));
  if (options.signal === undefined) {
    let beats: Int32Array;
    try {
      beats = detectRecordQrs(record);
    } catch (e) {
      if (e instanceof NoEcgSignalError && record.signals.length > 0)
        throw new NoEcgSignalError(`${e.message}. To analyse one anyway, choose it with --signal <n|name>`);
      throw e;
    }
    return { beats: Array.from(beats), warnings };
  }
  const signal = signalIndexOf(record, options.signal);
  const chosen = record.signals[signal]!;
  if (!looksLikeEcg(chosen))
    warnings.push(
      `signal ${signal} (${chosen.spec.description.trim() || 'no name'}, ${chosen.spec.units}, ${rateText(chosen.samplingFrequency)}) does not look like an ECG; detecting beats in it as asked`,
    );
  return { beats: Array.from(detectRecordQrs(record, { signal })), warnings };
}
