// ECG signal-quality index: splits a lead into short segments and flags those on which no HR or rhythm call
// should be made. Input in millivolts. Rules, each with a physical rationale rather than a fitted constant:
//   flat       peak-to-peak below 0.1 mV over the whole segment: no QRS (a QRS is ≥ ~0.5 mV), i.e. lead-off
//              or a disconnected amplifier;
//   saturated  ≥ 20 % of the samples stuck at the segment's extreme value (clipping at the ADC rail), or a
//              peak-to-peak above 10 mV, far beyond any surface-ECG amplitude (electrode motion, pop);
//   noisy      more than half of the signal power lies above ~40 Hz (EMG, mains, contact noise): a clean
//              ECG keeps most of its power, QRS included, below 40 Hz.
// A record is usable for rhythm analysis when enough of it is clean (default 80 %).

import { movingAverage } from './qrs.ts';

export type QualityIssue = 'flat' | 'saturated' | 'noisy';

export interface QualityOptions {
  /** Segment length in seconds (default 2 s: at least one beat at ≥ 30 bpm). */
  segmentSeconds?: number;
  /** Fraction of clean segments a record needs to be usable (default 0.8). */
  minUsableFraction?: number;
}

export interface QualitySegment {
  /** First and one-past-last sample of the segment. */
  start: number;
  end: number;
  /** Peak-to-peak amplitude (input units). */
  peakToPeak: number;
  /** Share of the segment's (mean-removed) power above ~40 Hz, 0–1. */
  highFrequencyShare: number;
  /** Share of samples sitting at the segment's minimum or maximum value. */
  railShare: number;
  /** The first problem found, or null for a clean segment. */
  issue: QualityIssue | null;
}

export interface SignalQuality {
  segments: QualitySegment[];
  /** Fraction of samples in clean segments. */
  usableFraction: number;
  /** Whether the record as a whole may be analysed. */
  usable: boolean;
}

const FLAT_MV = 0.1;
const MAX_MV = 10;
const RAIL_SHARE = 0.2;
const HF_SHARE = 0.5;
const HF_CUTOFF_HZ = 40;

/** Quality of one segment `x[start, end)`; `smooth` is a ~40 Hz lowpass of x. */
function segmentQuality(
  x: ArrayLike<number>,
  smooth: Float64Array,
  start: number,
  end: number,
): QualitySegment {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let mean = 0;
  for (let i = start; i < end; i++) {
    const v = x[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    mean += v;
  }
  const len = Math.max(1, end - start);
  mean /= len;
  let total = 0;
  let high = 0;
  let rail = 0;
  for (let i = start; i < end; i++) {
    const v = x[i]!;
    total += (v - mean) ** 2;
    high += (v - smooth[i]!) ** 2;
    if (v === lo || v === hi) rail++;
  }
  const peakToPeak = hi - lo;
  const highFrequencyShare = total > 0 ? Math.min(1, high / total) : 0;
  const railShare = peakToPeak > 0 ? rail / len : 1;
  let issue: QualityIssue | null = null;
  if (!(peakToPeak >= FLAT_MV)) issue = 'flat';
  else if (railShare >= RAIL_SHARE || peakToPeak > MAX_MV) issue = 'saturated';
  else if (highFrequencyShare > HF_SHARE) issue = 'noisy';
  return { start, end, peakToPeak, highFrequencyShare, railShare, issue };
}

/**
 * Lowpass near `HF_CUTOFF_HZ`: a centred moving average whose first zero falls at the cutoff (width fs/fc).
 * At low sampling rates (fs < 2·40 Hz) nothing lies above the cutoff, so the signal is returned as is.
 */
function lowpass40(x: ArrayLike<number>, fs: number): Float64Array {
  const h = Math.floor(fs / HF_CUTOFF_HZ / 2);
  if (h < 1) return Float64Array.from(x);
  return movingAverage(x, h);
}

/** Assesses an ECG lead (mV) sampled at `samplingFrequency` Hz; non-finite samples count as flat. */
export function assessQuality(
  signal: ArrayLike<number>,
  samplingFrequency: number,
  options: QualityOptions = {},
): SignalQuality {
  if (!(samplingFrequency > 0))
    throw new RangeError(`samplingFrequency must be positive, got ${samplingFrequency}`);
  const n = signal.length;
  const x = new Float64Array(n);
  const finite = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = signal[i]!;
    finite[i] = Number.isFinite(v) ? 1 : 0;
    x[i] = finite[i] ? v : 0;
  }
  const seg = Math.max(1, Math.round((options.segmentSeconds ?? 2) * samplingFrequency));
  const smooth = lowpass40(x, samplingFrequency);
  const segments: QualitySegment[] = [];
  let clean = 0;
  for (let start = 0; start < n; start += seg) {
    // A short tail joins the previous segment instead of being judged on a handful of samples.
    const end = n - (start + seg) < seg / 2 ? n : start + seg;
    const q = segmentQuality(x, smooth, start, end);
    let missing = 0;
    for (let i = start; i < end; i++) missing += 1 - finite[i]!;
    if (missing > 0 && q.issue === null) q.issue = 'flat';
    segments.push(q);
    if (q.issue === null) clean += end - start;
    if (end === n) break;
  }
  const usableFraction = n > 0 ? clean / n : 0;
  return { segments, usableFraction, usable: usableFraction >= (options.minUsableFraction ?? 0.8) };
}

/** Per-sample clean flags (1 = in a clean segment) for masking beats or RR intervals. */
export function cleanMask(quality: SignalQuality, length: number): Uint8Array {
  const mask = new Uint8Array(length);
  for (const s of quality.segments) if (s.issue === null) mask.fill(1, s.start, Math.min(length, s.end));
  return mask;
}

/**
 * Template-matching quality (tSQI, after Orphanidou et al., IEEE JBHI 19(3):832–838, 2015): the mean Pearson
 * correlation between each beat (±`halfWidth` s around its fiducial) and the average beat. A clean lead
 * repeats the same QRS shape (≥ 0.66 in that paper); noise taken for beats does not. NaN with < 3 beats.
 */
export function templateCorrelation(
  signal: ArrayLike<number>,
  beats: ArrayLike<number>,
  samplingFrequency: number,
  halfWidth = 0.1,
): number {
  const h = Math.max(1, Math.round(halfWidth * samplingFrequency));
  const w = 2 * h + 1;
  const inside: number[] = [];
  for (let b = 0; b < beats.length; b++) {
    const p = beats[b]!;
    if (p - h >= 0 && p + h < signal.length) inside.push(p);
  }
  if (inside.length < 3) return Number.NaN;
  const template = new Float64Array(w);
  for (const p of inside) for (let k = 0; k < w; k++) template[k] = template[k]! + signal[p - h + k]!;
  for (let k = 0; k < w; k++) template[k] = template[k]! / inside.length;
  let total = 0;
  for (const p of inside) total += correlation(signal, p - h, template);
  return total / inside.length;
}

/** Pearson correlation of x[from, from + t.length) with t (0 when either is constant). */
function correlation(x: ArrayLike<number>, from: number, t: Float64Array): number {
  const w = t.length;
  let mx = 0;
  let mt = 0;
  for (let k = 0; k < w; k++) {
    mx += x[from + k]!;
    mt += t[k]!;
  }
  mx /= w;
  mt /= w;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < w; k++) {
    const a = x[from + k]! - mx;
    const b = t[k]! - mt;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

export interface ConformityOptions {
  /** Half width of the beat window in seconds (default 0.1 s, the QRS and its surroundings). */
  halfWidth?: number;
  /** Templates are rebuilt for every block of this many seconds (default 30 s), following slow drift. */
  blockSeconds?: number;
  /** Minimum correlation with the template (default 0.66, the tSQI threshold of Orphanidou et al.). */
  minCorrelation?: number;
  /** Largest factor by which a beat's peak-to-peak amplitude may differ from the block median (default 2). */
  maxAmplitudeRatio?: number;
}

/**
 * Flags each beat that looks like the dominant beat of its block (1) or not (0): Pearson correlation with
 * the block's average beat at least `minCorrelation`, and a peak-to-peak amplitude within a factor
 * `maxAmplitudeRatio` of the block median. Noise spikes taken for beats fail both; so do ectopic beats of a
 * different shape, which an RR-based rhythm screen should also leave out.
 */
export function beatConformity(
  signal: ArrayLike<number>,
  beats: ArrayLike<number>,
  samplingFrequency: number,
  options: ConformityOptions = {},
): Uint8Array {
  const h = Math.max(1, Math.round((options.halfWidth ?? 0.1) * samplingFrequency));
  const block = Math.max(1, Math.round((options.blockSeconds ?? 30) * samplingFrequency));
  const minCorr = options.minCorrelation ?? 0.66;
  const maxRatio = options.maxAmplitudeRatio ?? 2;
  const out = new Uint8Array(beats.length);
  const w = 2 * h + 1;
  let b0 = 0;
  while (b0 < beats.length) {
    const blockEnd = beats[b0]! + block;
    let b1 = b0;
    while (b1 < beats.length && beats[b1]! < blockEnd) b1++;
    // A block with too few beats borrows the following ones so that its template is meaningful.
    while (b1 < beats.length && b1 - b0 < 8) b1++;
    const inside: number[] = [];
    for (let b = b0; b < b1; b++) if (beats[b]! - h >= 0 && beats[b]! + h < signal.length) inside.push(b);
    const template = new Float64Array(w);
    const amps: number[] = [];
    for (const b of inside) {
      const p = beats[b]!;
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < w; k++) {
        const v = signal[p - h + k]!;
        template[k] = template[k]! + v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      amps.push(hi - lo);
    }
    if (inside.length >= 3) {
      for (let k = 0; k < w; k++) template[k] = template[k]! / inside.length;
      const medAmp = amps.slice().sort((a, c) => a - c)[amps.length >> 1]!;
      inside.forEach((b, idx) => {
        const ratio = amps[idx]! / medAmp;
        const ok = ratio <= maxRatio && ratio >= 1 / maxRatio;
        out[b] = ok && correlation(signal, beats[b]! - h, template) >= minCorr ? 1 : 0;
      });
    }
    b0 = b1;
  }
  return out;
}
