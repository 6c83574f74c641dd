// Respiration rate (breaths/min) from a respiration signal (thoracic impedance, or any trace that rises and
// falls once per breath) at any sampling rate. Breaths are counted with the "Count-adv" method of Schäfer &
// Kratky (Ann Biomed Eng 36(3):476–485, 2008), one of the most accurate in their comparison of estimators:
//   1. block medians of ~0.1 s (down to ~10 Hz): removes short spikes (electrode pops, pacing artefacts,
//      ADC wrap-around) that a mean would smear into the band;
//   2. band-pass ~0.1–1 Hz (6–60 /min): a twice-applied ~0.4 s moving average (lowpass, removes the
//      cardiac oscillation) minus a 10 s moving average (baseline);
//   3. all local extrema, alternating maxima and minima; the vertical distances between neighbours; the pair
//      with the smallest distance is removed while that distance is below 0.3 × their upper quartile;
//   4. each remaining maximum is a breath; rate = 60 / mean interval between breaths.
// It refuses (no rate, with a reason) on input that is too short, mostly missing, flat, broken by steps too
// large for breathing, dominated by power above the breathing band, or whose breath intervals are erratic.

import { movingAverage } from '../ecg/qrs.ts';

export type RespirationRefusal = 'too-short' | 'missing' | 'flat' | 'noisy' | 'too-few-breaths' | 'irregular';

export interface RespirationOptions {
  /** Shortest input analysed, in seconds (default 15 s: at least two breaths at 8 /min). */
  minSeconds?: number;
}

export interface RespirationRate {
  /** Breaths per minute; absent when the input was refused. */
  rate?: number;
  /** Why no rate was given. */
  reason?: RespirationRefusal;
  /** Breaths found (sample indices of the input at the inspiration maxima). */
  breaths: Int32Array;
  /** 0–1: share of the signal's power in the breathing band × regularity of the breath intervals. */
  quality: number;
  /** Share (0–1) of the baseline-free power lying in the breathing band (below ~1 Hz). */
  inBandShare: number;
  /** Coefficient of variation of the breath intervals (NaN with fewer than two intervals). */
  intervalVariation: number;
}

/** Target rate of the block-median decimation (Hz). */
const DECIMATED_HZ = 10;
/** Count-adv: pairs of extrema closer than this fraction of the upper quartile of distances are noise. */
const COUNT_ADV_FRACTION = 0.3;
/** Refuse when less than this share of the power lies in the breathing band. */
const MIN_IN_BAND_SHARE = 0.5;
/** Refuse when the breath intervals vary more than this (coefficient of variation). */
const MAX_INTERVAL_VARIATION = 0.5;
/** Refuse when more than this share of the samples is missing. */
const MAX_MISSING_SHARE = 0.5;
/** Fewest breaths (maxima) for a rate. */
const MIN_BREATHS = 3;
/**
 * A step between two ~0.1-s block medians larger than this fraction of the signal's 5–95 % range cannot be
 * breathing (even at 60 /min a sine moves at most ~0.3 of its range in 0.1 s): it is an artefact such as a
 * cable jerk or ADC wrap-around. Refuse when the seconds around such steps exceed `MAX_ARTEFACT_SHARE`.
 */
const ARTEFACT_STEP = 0.5;
const ARTEFACT_GUARD_S = 1;
const MAX_ARTEFACT_SHARE = 0.2;

function median(values: Float64Array): number {
  values.sort();
  const m = values.length >> 1;
  return values.length % 2 ? values[m]! : (values[m - 1]! + values[m]!) / 2;
}

/** Median of each block of `block` samples, ignoring non-finite ones (NaN for an all-missing block). */
function blockMedians(signal: ArrayLike<number>, block: number): Float64Array {
  const count = Math.floor(signal.length / block);
  const out = new Float64Array(count);
  const buf = new Float64Array(block);
  for (let b = 0; b < count; b++) {
    let k = 0;
    for (let i = b * block; i < (b + 1) * block; i++) {
      const v = signal[i]!;
      if (Number.isFinite(v)) buf[k++] = v;
    }
    out[b] = k > 0 ? median(buf.subarray(0, k)) : Number.NaN;
  }
  return out;
}

/** Replaces NaN by the previous finite value (the first finite one at the start). */
function holdNaN(x: Float64Array): void {
  let first = 0;
  while (first < x.length && Number.isNaN(x[first]!)) first++;
  let last = first < x.length ? x[first]! : 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]!)) x[i] = last;
    else last = x[i]!;
  }
}

/** True when the finite samples take fewer than four distinct values (a disconnected, idle input). */
function isFlat(signal: ArrayLike<number>): boolean {
  const seen = new Set<number>();
  for (let i = 0; i < signal.length; i++) {
    const v = signal[i]!;
    if (!Number.isFinite(v)) continue;
    seen.add(v);
    if (seen.size >= 4) return false;
  }
  return true;
}

/** Alternating extrema of y (indices; maxima and minima alternate, starting with either). */
function alternatingExtrema(y: Float64Array): { index: number[]; isMax: boolean[] } {
  const index: number[] = [];
  const isMax: boolean[] = [];
  for (let i = 1; i < y.length - 1; i++) {
    const up = y[i]! > y[i - 1]! && y[i]! >= y[i + 1]!;
    const down = y[i]! < y[i - 1]! && y[i]! <= y[i + 1]!;
    if (!up && !down) continue;
    const k = index.length - 1;
    if (k >= 0 && isMax[k] === up) {
      // Same kind twice in a row (a plateau): keep the more extreme.
      if (up ? y[i]! > y[index[k]!]! : y[i]! < y[index[k]!]!) index[k] = i;
      continue;
    }
    index.push(i);
    isMax.push(up);
  }
  return { index, isMax };
}

/** Count-adv pruning: removes the closest pair of neighbouring extrema while it is below the threshold. */
function pruneExtrema(y: Float64Array, index: number[], isMax: boolean[]): void {
  if (index.length < 3) return;
  const distances = index.slice(1).map((p, k) => Math.abs(y[p]! - y[index[k]!]!));
  distances.sort((a, b) => a - b);
  const threshold = COUNT_ADV_FRACTION * distances[Math.floor(0.75 * (distances.length - 1))]!;
  for (;;) {
    let best = -1;
    let bestD = threshold;
    for (let k = 0; k + 1 < index.length; k++) {
      const d = Math.abs(y[index[k + 1]!]! - y[index[k]!]!);
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    }
    if (best < 0) return;
    index.splice(best, 2);
    isMax.splice(best, 2);
  }
}

/** Band-passed copy (~0.1–1 Hz) and the baseline-free copy it is compared with, at rate `fs`. */
function bandPass(x: Float64Array, fs: number): { band: Float64Array; highPassed: Float64Array } {
  const h = Math.max(1, Math.round(0.2 * fs));
  const lowpass = movingAverage(movingAverage(x, h), h);
  const baseline = movingAverage(x, Math.max(1, Math.round(5 * fs)));
  const band = new Float64Array(x.length);
  const highPassed = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    band[i] = lowpass[i]! - baseline[i]!;
    highPassed[i] = x[i]! - baseline[i]!;
  }
  return { band, highPassed };
}

/** Share of the samples within `ARTEFACT_GUARD_S` of an implausibly large step (x at rate fs). */
function artefactShare(x: Float64Array, fs: number): number {
  const n = x.length;
  if (n < 2) return 0;
  const sorted = Float64Array.from(x).sort();
  const range = sorted[Math.floor(0.95 * (n - 1))]! - sorted[Math.floor(0.05 * (n - 1))]!;
  const guard = Math.round(ARTEFACT_GUARD_S * fs);
  let covered = 0;
  let coveredTo = -1; // last sample already counted
  for (let i = 1; i < n; i++) {
    if (!(Math.abs(x[i]! - x[i - 1]!) > ARTEFACT_STEP * range)) continue;
    const lo = Math.max(coveredTo + 1, i - guard);
    const hi = Math.min(n - 1, i + guard);
    if (hi >= lo) covered += hi - lo + 1;
    coveredTo = Math.max(coveredTo, hi);
  }
  return covered / n;
}

function power(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return s / Math.max(1, x.length);
}

/** Estimates the respiration rate of `signal` sampled at `samplingFrequency` Hz; never throws on bad samples. */
export function respirationRate(
  signal: ArrayLike<number>,
  samplingFrequency: number,
  options: RespirationOptions = {},
): RespirationRate {
  const refuse = (reason: RespirationRefusal, extra: Partial<RespirationRate> = {}): RespirationRate => ({
    reason,
    breaths: new Int32Array(0),
    quality: 0,
    inBandShare: 0,
    intervalVariation: Number.NaN,
    ...extra,
  });
  const fs = samplingFrequency;
  if (!(fs > 0) || !Number.isFinite(fs)) return refuse('too-short');
  const n = signal.length;
  if (n / fs < (options.minSeconds ?? 15)) return refuse('too-short');
  let missing = 0;
  for (let i = 0; i < n; i++) if (!Number.isFinite(signal[i]!)) missing++;
  if (missing > MAX_MISSING_SHARE * n) return refuse('missing');
  if (isFlat(signal)) return refuse('flat');

  const block = Math.max(1, Math.floor(fs / DECIMATED_HZ));
  const fsd = fs / block;
  const x = blockMedians(signal, block);
  holdNaN(x);
  if (artefactShare(x, fsd) > MAX_ARTEFACT_SHARE) return refuse('noisy');
  const { band, highPassed } = bandPass(x, fsd);
  const total = power(highPassed);
  // Power above the band = what the lowpass took away (measured this way, the lowpass's own slight
  // attenuation of fast breathing does not count against the signal).
  for (let i = 0; i < highPassed.length; i++) highPassed[i] = highPassed[i]! - band[i]!;
  const inBandShare = total > 0 ? Math.max(0, 1 - power(highPassed) / total) : 0;
  if (!(total > 0)) return refuse('flat');
  if (inBandShare < MIN_IN_BAND_SHARE) return refuse('noisy', { inBandShare });

  const { index, isMax } = alternatingExtrema(band);
  pruneExtrema(band, index, isMax);
  const peaks = index.filter((_, k) => isMax[k]);
  const breaths = Int32Array.from(peaks, (p) => Math.min(n - 1, p * block + (block >> 1)));
  if (peaks.length < MIN_BREATHS) return refuse('too-few-breaths', { breaths, inBandShare });
  const intervals = peaks.slice(1).map((p, k) => (p - peaks[k]!) / fsd);
  const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
  const sd = Math.sqrt(intervals.reduce((a, b) => a + (b - mean) ** 2, 0) / intervals.length);
  const intervalVariation = sd / mean;
  const quality = inBandShare * Math.max(0, 1 - intervalVariation);
  if (intervalVariation > MAX_INTERVAL_VARIATION)
    return refuse('irregular', { breaths, inBandShare, intervalVariation, quality });
  return { rate: 60 / mean, breaths, quality, inBandShare, intervalVariation };
}
