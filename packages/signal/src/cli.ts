// Entry points for `openiomt signal ...` (wired into the CLI by the platform package).
import { detectQrsMultiLead } from './ecg/qrs.ts';
import { assessQuality } from './ecg/quality.ts';
import { readRecord } from './wfdb/loader.ts';
import { toPhysical, type WfdbRecord } from './wfdb/signal.ts';

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

/** Picks the ECG signal to analyse: the first whose units are voltage, else signal 0. */
export function ecgSignalIndex(record: WfdbRecord): number {
  const i = record.signals.findIndex((s) => /^(mv|uv|µv|v)$/i.test(s.spec.units));
  if (i < 0 && record.signals.length === 0) throw new Error(`record "${record.header.name}" has no signals`);
  return Math.max(0, i);
}

/** Indices of all voltage signals at the same rate as the chosen ECG signal (the leads to fuse). */
export function ecgLeadIndices(record: WfdbRecord): number[] {
  const first = ecgSignalIndex(record);
  const fs = record.signals[first]!.samplingFrequency;
  const leads = record.signals
    .map((s, i) => ({ s, i }))
    .filter(({ s, i }) => i !== first && s.samplingFrequency === fs && /^(mv|uv|µv|v)$/i.test(s.spec.units))
    .map(({ i }) => i);
  return [first, ...leads];
}

/** Scale of a voltage unit to millivolts (1 for mV and for anything unrecognised). */
function millivoltsPerUnit(units: string): number {
  const u = units.toLowerCase();
  return u === 'v' ? 1000 : u === 'uv' || u === 'µv' ? 0.001 : 1;
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

/** QRS detections of a decoded record, as sample indices of its first fused ECG signal. */
export function detectRecordQrs(record: WfdbRecord, options: { multiLead?: boolean } = {}): Int32Array {
  const indices = options.multiLead === false ? [ecgSignalIndex(record)] : fusableLeadIndices(record);
  const fs = record.signals[indices[0]!]!.samplingFrequency;
  return detectQrsMultiLead(
    indices.map((i) => finiteSignal(record, i)),
    fs,
  );
}

/** `openiomt signal qrs <record>`: QRS sample indices in the record's own numbering. */
export async function qrsCommand(recordPath: string): Promise<number[]> {
  const record = await readRecord(recordPath.replace(/\.(hea|dat)$/, ''));
  return Array.from(detectRecordQrs(record));
}
