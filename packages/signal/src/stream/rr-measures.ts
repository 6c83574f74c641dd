// Measures a stream takes from its beat history: the heart (pulse) rate of a window, HRV over the last few
// minutes, and the AF screen over the last minute, each on the valid RR intervals only (both beats clean and
// of the usual shape, nothing missing in between, plausible length).

import { MIN_RR_FOR_AF, rrIrregularity } from '../ecg/af.ts';
import { type AfBasis, NO_P_WAVES, pWavesBearOn, screenAf } from '../ecg/atrial.ts';
import { hrvSummary } from '../ecg/hrv.ts';
import type { BeatHistory, RrInterval } from './beat-history.ts';
import type { PWaveHistory } from './p-wave-history.ts';
import type { HrvWindow } from './waveform-stream.ts';

/** Fewest NN intervals for HRV. */
const MIN_HRV_NN = 30;
/**
 * Least clean RR time (s) for an AF call: two thirds of the 30-s strip that guidelines ask for, so that a
 * 30-s handheld recording can be screened (a suspicion, not a diagnosis).
 */
const MIN_AF_SPAN_S = 20;

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** 60 / mean valid RR (/min), when at least two valid intervals cover at least half of the stretch. */
export function meanRate(intervals: readonly RrInterval[], stretchSeconds: number): number | undefined {
  const valid = intervals.filter((r) => r.valid).map((r) => r.seconds);
  const total = sum(valid);
  if (valid.length < 2 || total < 0.5 * stretchSeconds) return undefined;
  return (60 * valid.length) / total;
}

/** Time-domain HRV of the intervals ending in [from, to) (absolute samples), when there are enough NN. */
export function hrvOver(beats: BeatHistory, from: number, to: number, rateHz: number): HrvWindow | undefined {
  const rr = beats.intervals(from, to, rateHz);
  if (rr.length === 0) return undefined;
  const summary = hrvSummary(
    rr.map((r) => r.seconds),
    { accept: rr.map((r) => r.valid) },
  );
  const first = rr[0]!;
  const last = rr[rr.length - 1]!;
  const spanMs = ((last.end - first.end) / rateHz + first.seconds) * 1000;
  const values = [summary.sdnn, summary.rmssd, summary.pnn50, spanMs];
  if (summary.nnCount < MIN_HRV_NN || !values.every(Number.isFinite)) return undefined;
  return {
    sdnnMs: summary.sdnn,
    rmssdMs: summary.rmssd,
    pnn50: summary.pnn50,
    beats: summary.nnCount,
    spanMs,
  };
}

export interface RhythmScreen {
  readonly rhythm: 'af-suspected' | 'not-af';
  readonly basis: AfBasis;
  /**
   * NaN when too few beats could be compared or when the RR intervals hardly vary, so that the P waves
   * cannot change the call and are not measured (the call then rests on RR irregularity alone).
   */
  readonly pWaveConsistency: number;
}

/**
 * AF screen (ecg/atrial.ts screenAf) of the beats ending in [from, to): RR irregularity of the valid
 * intervals, when there are at least MIN_RR_FOR_AF of them covering min(20 s, half the AF window), with the
 * P-wave consistency of the same beats when `pWaves` keeps them.
 */
export function rhythmOver(
  beats: BeatHistory,
  pWaves: PWaveHistory | undefined,
  from: number,
  to: number,
  rateHz: number,
  afWindowS: number,
): RhythmScreen | undefined {
  const intervals = beats.intervals(from, to, rateHz);
  const used = intervals.filter((r) => r.valid).map((r) => r.seconds);
  if (used.length < MIN_RR_FOR_AF || sum(used) < Math.min(MIN_AF_SPAN_S, 0.5 * afWindowS)) return undefined;
  const irregularity = rrIrregularity(used);
  // Most of the time, in sinus rhythm, the P waves cannot change the call and are not measured.
  const consistency = pWavesBearOn(irregularity) ? pWaves?.consistency(from, to) : undefined;
  const { af, basis } = screenAf(irregularity, consistency ?? NO_P_WAVES, {
    validShare: used.length / intervals.length,
  });
  return {
    rhythm: af ? 'af-suspected' : 'not-af',
    basis,
    pWaveConsistency: consistency?.correlation ?? Number.NaN,
  };
}
