// Scoring the live AF screen: a recording is streamed through WaveformStream in chunks, as a device would
// send it, and every AF call the stream makes is compared with the reference rhythm over the stretch that
// call looked at (the last AF window). The stream's call is the full screen (RR irregularity and P waves);
// its basis also tells what RR irregularity alone would have said, so one pass scores both.

import type { AfBasis } from '../ecg/atrial.ts';
import { WaveformStream } from '../stream/waveform-stream.ts';
import type { RhythmChange } from './afdb.ts';

export interface LiveAfCall {
  /** End of the stretch the call looked at (s from the start of the recording). */
  readonly endS: number;
  /** Reference rhythm over that stretch: AF throughout, no AF at all, or both (not scored). */
  readonly label: 'af' | 'not-af' | 'mixed';
  /** The stream's call, and the call of RR irregularity alone. */
  readonly af: boolean;
  readonly rrOnly: boolean;
  readonly basis: AfBasis;
}

/** Calls that RR irregularity made AF-like (the P waves may then have vetoed them). */
const RR_SAYS_AF: ReadonlySet<AfBasis> = new Set(['irregular-rr', 'irregular-rr-with-p-waves']);

/** Reference label of samples [from, to): 'af' when AFIB throughout, 'not-af' when never AFIB. */
export function referenceLabel(
  changes: readonly RhythmChange[],
  from: number,
  to: number,
): 'af' | 'not-af' | 'mixed' | undefined {
  let current: string | undefined;
  const seen = new Set<string>();
  for (const c of changes) {
    if (c.sample <= from) current = c.rhythm;
    else if (c.sample < to) seen.add(c.rhythm);
    else break;
  }
  if (current === undefined) return undefined;
  seen.add(current);
  const af = seen.has('AFIB');
  if (!af) return 'not-af';
  return seen.size === 1 ? 'af' : 'mixed';
}

/** Streams `x` (mV at `fs` Hz) in chunks of `chunkS` seconds and labels each AF call the stream makes. */
export function liveAfCalls(
  x: Float64Array,
  fs: number,
  changes: readonly RhythmChange[],
  options: { chunkS?: number; afWindowS?: number } = {},
): LiveAfCall[] {
  const afWindowS = options.afWindowS ?? 60;
  const stream = new WaveformStream('ecg', { afWindowS });
  const chunk = Math.max(1, Math.round((options.chunkS ?? 1) * fs));
  const out: LiveAfCall[] = [];
  for (let i = 0; i < x.length; i += chunk) {
    const samples = x.subarray(i, Math.min(x.length, i + chunk));
    for (const r of stream.push({ startMs: (i / fs) * 1000, rateHz: fs, samples })) {
      if (r.rhythm === undefined || r.rhythmBasis === undefined) continue;
      const to = Math.round((r.endMs / 1000) * fs);
      const label = referenceLabel(changes, to - Math.round(afWindowS * fs), to);
      if (label === undefined) continue;
      out.push({
        endS: r.endMs / 1000,
        label,
        af: r.rhythm === 'af-suspected',
        rrOnly: RR_SAYS_AF.has(r.rhythmBasis),
        basis: r.rhythmBasis,
      });
    }
  }
  return out;
}

export interface LiveAfScore {
  /** Calls over AF throughout / over no AF at all (each covers the AF window ending at it). */
  readonly afCalls: number;
  readonly notAfCalls: number;
  readonly sensitivity: number;
  readonly specificity: number;
  /** Times the call turned to AF during rhythm without AF: each would raise an AF alarm. */
  readonly falseOnsets: number;
}

/** Scores calls (in time order per recording) by `pick`: the full screen or RR irregularity alone. */
export function scoreLiveAf(
  recordings: readonly (readonly LiveAfCall[])[],
  pick: (c: LiveAfCall) => boolean,
): LiveAfScore {
  let tp = 0;
  let fn = 0;
  let tn = 0;
  let fp = 0;
  let falseOnsets = 0;
  for (const calls of recordings) {
    let before = false;
    for (const c of calls) {
      const af = pick(c);
      if (c.label === 'af') af ? tp++ : fn++;
      else if (c.label === 'not-af') {
        af ? fp++ : tn++;
        if (af && !before) falseOnsets++;
      }
      before = af;
    }
  }
  return {
    afCalls: tp + fn,
    notAfCalls: tn + fp,
    sensitivity: tp / (tp + fn),
    specificity: tn / (tn + fp),
    falseOnsets,
  };
}
