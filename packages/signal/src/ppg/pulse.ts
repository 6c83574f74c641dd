// Pulse (beat) detection on a photoplethysmogram (PPG, "pleth") at any sampling rate, after the slope-sum
// idea of Zong et al. (Computers in Cardiology 30:259–262, 2003): the systolic upstroke is the steepest and
// longest rise of each pulse, so a smoothed positive slope has one large peak per beat, whatever the
// baseline, the units or the shape of the diastolic part. Stages (all zero-phase, windows in seconds):
//   1. lowpass: centred moving average (~80 ms, first zero near 12 Hz)       → removes noise and mains
//   2. slope: difference of the lowpass across ±20 ms
//   3. slope sum: centred moving average (~120 ms) of the positive slope only → one hump per upstroke
//   4. candidates: hump maxima, the larger of any two closer than the refractory period
//   5. decision: a candidate is a pulse when its hump exceeds a fraction of the running median of recent
//      pulse humps; a smaller hump soon after a pulse is the dicrotic wave; when a pulse is overdue
//      (1.6 × the recent interval) the best candidate in between is taken at a lower threshold (search-back)
//   6. fiducial: the point of steepest upstroke near the hump (the "maximum slope" point used for pulse
//      arrival times).
// Returns sample indices. Missing (non-finite) samples are held at the last finite value.

import { movingAverage } from '../ecg/qrs.ts';
import { templateCorrelation } from '../ecg/quality.ts';

export interface PulseOptions {
  /** Shortest time between two pulses in seconds (default 0.25 s, i.e. at most 240 /min). */
  refractory?: number;
}

/** Fraction of the reference hump a candidate must exceed to be a pulse. */
const ACCEPT_FRACTION = 0.4;
/** Lower fraction accepted on search-back, when a pulse is overdue. */
const SEARCH_BACK_FRACTION = 0.2;
/** A hump below this fraction of the reference within `DICROTIC_SHARE` of an interval is a dicrotic wave. */
const DICROTIC_FRACTION = 0.7;
const DICROTIC_SHARE = 0.6;
/** Overdue factor that triggers search-back. */
const OVERDUE = 1.6;
/**
 * Half-life (s) of the reference hump once a pulse is overdue, so that detection recovers when the pulse
 * amplitude drops for good (a probe re-seated, vasoconstriction) instead of waiting for a pulse as large.
 */
const SILENCE_HALF_LIFE_S = 4;

function secondsToSamples(s: number, fs: number): number {
  return Math.max(1, Math.round(s * fs));
}

/** Copy of the signal with non-finite samples replaced by the previous finite one (the first finite one at the start). */
export function holdMissing(signal: ArrayLike<number>): Float64Array {
  const n = signal.length;
  const out = new Float64Array(n);
  let first = 0;
  while (first < n && !Number.isFinite(signal[first]!)) first++;
  let last = first < n ? signal[first]! : 0;
  for (let i = 0; i < n; i++) {
    const v = signal[i]!;
    if (Number.isFinite(v)) last = v;
    out[i] = last;
  }
  return out;
}

export interface PulseFeatures {
  /** Zero-phase lowpass of the input. */
  lowpass: Float64Array;
  /** Slope of the lowpass (difference across ±20 ms). */
  slope: Float64Array;
  /** Slope-sum hump: moving average of the positive slope. */
  hump: Float64Array;
}

/** Computes the detection features of a PPG. */
export function pulseFeatures(signal: ArrayLike<number>, fs: number): PulseFeatures {
  const n = signal.length;
  const lowpass = movingAverage(signal, secondsToSamples(0.04, fs));
  const k = secondsToSamples(0.02, fs);
  const slope = new Float64Array(n);
  const rise = new Float64Array(n);
  for (let i = k; i < n - k; i++) {
    const d = lowpass[i + k]! - lowpass[i - k]!;
    slope[i] = d;
    rise[i] = Math.max(d, 0);
  }
  const hump = movingAverage(rise, secondsToSamples(0.06, fs));
  return { lowpass, slope, hump };
}

/** Hump maxima, keeping the larger of any two within `gap` samples. */
function humpCandidates(hump: Float64Array, gap: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < hump.length - 1; i++) {
    const v = hump[i]!;
    if (!(v > hump[i - 1]! && v >= hump[i + 1]!)) continue;
    const prev = out[out.length - 1];
    if (prev !== undefined && i - prev < gap) {
      if (v > hump[prev]!) out[out.length - 1] = i;
      continue;
    }
    out.push(i);
  }
  return out;
}

function medianOf(values: readonly number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Initial reference hump: the upper quartile of the candidates of the first 8 s (pulses outnumber the rest). */
function initialReference(hump: Float64Array, candidates: readonly number[], fs: number): number {
  const end = 8 * fs;
  const early = candidates.filter((c) => c < end).map((c) => hump[c]!);
  if (early.length === 0) return 0;
  early.sort((a, b) => a - b);
  return early[Math.floor(0.75 * (early.length - 1))]!;
}

/**
 * Initial pulse interval: the median spacing of the strong candidates of the first 8 s (above the dicrotic
 * level, so one per pulse); one second when there are too few.
 */
function initialInterval(
  hump: Float64Array,
  candidates: readonly number[],
  fs: number,
  reference: number,
): number {
  const strong = candidates.filter((c) => c < 8 * fs && hump[c]! > DICROTIC_FRACTION * reference);
  if (strong.length < 3) return fs;
  return medianOf(strong.slice(1).map((c, k) => c - strong[k]!));
}

/** Adaptive-threshold decision over the hump candidates; returns accepted candidate indices. */
function decidePulses(
  hump: Float64Array,
  candidates: readonly number[],
  fs: number,
  refractory: number,
): number[] {
  const accepted: number[] = [];
  const recentHumps: number[] = [];
  const recentIntervals: number[] = [];
  let reference = initialReference(hump, candidates, fs);
  if (!(reference > 0)) return accepted;
  const firstInterval = initialInterval(hump, candidates, fs, reference);
  let pending = -1; // best rejected candidate since the last pulse, for search-back

  /** Accepts a pulse; after a long silence (`level` below the reference) the old humps are forgotten. */
  const accept = (p: number, level = reference): void => {
    const last = accepted[accepted.length - 1];
    if (last !== undefined) {
      recentIntervals.push(p - last);
      if (recentIntervals.length > 8) recentIntervals.shift();
    }
    accepted.push(p);
    if (level < reference) recentHumps.length = 0;
    // A motion artefact may make one hump huge; clamp it so it cannot raise the threshold for long.
    recentHumps.push(Math.min(hump[p]!, 2 * level));
    if (recentHumps.length > 5) recentHumps.shift();
    reference = medianOf(recentHumps);
    pending = -1;
  };

  for (const p of candidates) {
    const last = accepted[accepted.length - 1];
    const interval = recentIntervals.length > 0 ? medianOf(recentIntervals) : firstInterval;
    if (
      last !== undefined &&
      pending >= 0 &&
      p - last > OVERDUE * interval &&
      hump[pending]! > SEARCH_BACK_FRACTION * reference
    ) {
      accept(pending);
    }
    const prev = accepted[accepted.length - 1];
    if (prev !== undefined && p - prev < refractory) continue;
    const silence = prev === undefined ? 0 : Math.max(0, p - prev - OVERDUE * interval);
    const level = reference * 0.5 ** (silence / (SILENCE_HALF_LIFE_S * fs));
    const v = hump[p]!;
    const dicrotic =
      prev !== undefined && p - prev < DICROTIC_SHARE * interval && v < DICROTIC_FRACTION * reference;
    if (v > ACCEPT_FRACTION * level && !dicrotic) accept(p, level);
    else if (!dicrotic && (pending < 0 || v > hump[pending]!)) pending = p;
  }
  return accepted;
}

/** Moves each detection to the steepest point of the upstroke within ±`half` samples. */
function steepestPoint(slope: Float64Array, beats: readonly number[], half: number): Int32Array {
  const out = new Int32Array(beats.length);
  let count = 0;
  for (const p of beats) {
    let best = p;
    for (let i = Math.max(0, p - half); i <= Math.min(slope.length - 1, p + half); i++) {
      if (slope[i]! > slope[best]!) best = i;
    }
    // Two humps refined onto the same upstroke count once.
    if (count === 0 || best > out[count - 1]!) out[count++] = best;
  }
  return out.slice(0, count);
}

/** Detects pulses in a PPG sampled at `samplingFrequency` Hz; returns sample indices of the steepest upstroke. */
export function detectPulses(
  signal: ArrayLike<number>,
  samplingFrequency: number,
  options: PulseOptions = {},
): Int32Array {
  if (!(samplingFrequency > 0))
    throw new RangeError(`samplingFrequency must be positive, got ${samplingFrequency}`);
  if (signal.length < 3) return new Int32Array(0);
  const refractory = secondsToSamples(options.refractory ?? 0.25, samplingFrequency);
  const { slope, hump } = pulseFeatures(holdMissing(signal), samplingFrequency);
  const candidates = humpCandidates(hump, refractory);
  const beats = decidePulses(hump, candidates, samplingFrequency, refractory);
  return steepestPoint(slope, beats, secondsToSamples(0.08, samplingFrequency));
}

/** Physiological range of intervals between pulses used for a rate (s): 240 down to 20 /min. */
const MIN_INTERVAL = 0.25;
const MAX_INTERVAL = 3;

/**
 * Pulse rate (/min) from pulse sample indices: 60 / the mean of the intervals (in the physiological range)
 * that lie within 20 % of their median; NaN with fewer than two such intervals. Taking the median as the
 * anchor keeps a missed or extra pulse from moving the rate; averaging around it keeps sub-sample precision
 * at low sampling rates.
 */
export function pulseRate(beats: ArrayLike<number>, samplingFrequency: number): number {
  const intervals: number[] = [];
  for (let i = 1; i < beats.length; i++) {
    const rr = (beats[i]! - beats[i - 1]!) / samplingFrequency;
    if (rr >= MIN_INTERVAL && rr <= MAX_INTERVAL) intervals.push(rr);
  }
  if (intervals.length < 2) return Number.NaN;
  const med = medianOf(intervals);
  const near = intervals.filter((rr) => Math.abs(rr - med) <= 0.2 * med);
  return (60 * near.length) / near.reduce((a, b) => a + b, 0);
}

/**
 * Pulse-shape quality: mean correlation of each pulse (−0.15 s … +0.25 s around its upstroke, centred window
 * of ±0.2 s shifted by 50 ms) with the average pulse, as the template-matching SQI of Orphanidou et al.
 * (IEEE JBHI 19(3):832–838, 2015) does for the ECG. Clean PPG ≳ 0.9; NaN with fewer than 3 pulses.
 */
export function pulseTemplateCorrelation(
  signal: ArrayLike<number>,
  beats: ArrayLike<number>,
  samplingFrequency: number,
): number {
  const shift = Math.round(0.05 * samplingFrequency);
  const centres = Array.from(beats, (b) => b + shift);
  return templateCorrelation(signal, centres, samplingFrequency, 0.2);
}
