// QRS detector for any sampling rate. All windows are given in seconds and scaled by fs.
// Stages (all zero-phase, so the envelope peak sits on the QRS without a delay to undo):
//   1. lowpass: centred moving average (~28 ms)         → removes mains/EMG
//   2. slope: difference across ±10 ms of the lowpass   → band-pass that favours the steep QRS
//   3. energy envelope: centred moving average (~100 ms) of slope²
//   4. candidates: envelope maxima, one per refractory period
//   5. decision: adaptive signal/noise levels (Pan–Tompkins style), T-wave rejection by slope,
//      RR-based search-back at a lower threshold (constants chosen on mitdb as a whole, none per record)
//   6. fiducial: the largest deviation from the local baseline near the candidate (the R peak).
// Linear time, typed arrays, no allocation per sample.

export interface QrsOptions {
  /** Minimum time between two beats in seconds (physiological refractory period). */
  refractory?: number;
}

export interface QrsFeatures {
  /** Zero-phase lowpass of the input. */
  lowpass: Float64Array;
  /** Slope (derivative of the lowpass). */
  slope: Float64Array;
  /** Energy envelope used for detection. */
  envelope: Float64Array;
}

/** Centred moving average of width 2h+1 (shrinking at the edges), via a running sum. */
export function movingAverage(
  x: ArrayLike<number>,
  h: number,
  out: Float64Array = new Float64Array(x.length),
): Float64Array {
  const n = x.length;
  if (n === 0) return out;
  let sum = 0;
  let lo = 0;
  let hi = -1;
  for (let i = 0; i < n; i++) {
    const wantHi = Math.min(n - 1, i + h);
    while (hi < wantHi) sum += x[++hi]!;
    const wantLo = Math.max(0, i - h);
    while (lo < wantLo) sum -= x[lo++]!;
    out[i] = sum / (hi - lo + 1);
  }
  return out;
}

function secondsToSamples(s: number, fs: number): number {
  return Math.max(1, Math.round(s * fs));
}

/** Computes the detection features of one lead. */
export function qrsFeatures(signal: ArrayLike<number>, fs: number): QrsFeatures {
  const n = signal.length;
  const lowpass = movingAverage(signal, secondsToSamples(0.014, fs));
  const k = secondsToSamples(0.01, fs);
  const slope = new Float64Array(n);
  const energy = new Float64Array(n);
  for (let i = k; i < n - k; i++) {
    const d = lowpass[i + k]! - lowpass[i - k]!;
    slope[i] = d;
    energy[i] = d * d;
  }
  const envelope = movingAverage(energy, secondsToSamples(0.05, fs));
  // RMS slope: amplitude-proportional, so a large ectopic beat does not dwarf the thresholds.
  for (let i = 0; i < n; i++) envelope[i] = Math.sqrt(envelope[i]!);
  return { lowpass, slope, envelope };
}

/** Envelope maxima, keeping the largest of any that fall within `gap` samples of each other. */
export function envelopeCandidates(envelope: Float64Array, gap: number): Int32Array {
  const n = envelope.length;
  const out = new Int32Array(Math.ceil(n / Math.max(1, gap)) + 1);
  let count = 0;
  for (let i = 1; i < n - 1; i++) {
    const v = envelope[i]!;
    if (!(v > envelope[i - 1]! && v >= envelope[i + 1]!)) continue;
    if (count > 0 && i - out[count - 1]! < gap) {
      if (v > envelope[out[count - 1]!]!) out[count - 1] = i;
      continue;
    }
    out[count++] = i;
  }
  return out.subarray(0, count);
}

function maxAbsIn(x: Float64Array, from: number, to: number): number {
  let m = 0;
  const a = Math.max(0, from);
  const b = Math.min(x.length - 1, to);
  for (let i = a; i <= b; i++) {
    const v = Math.abs(x[i]!);
    if (v > m) m = v;
  }
  return m;
}

/** Adaptive-threshold decision over envelope candidates; returns accepted candidate indices. */
export function decideBeats(
  features: QrsFeatures,
  candidates: Int32Array,
  fs: number,
  refractory: number,
): Int32Array {
  const { envelope, slope } = features;
  const beats = new Int32Array(candidates.length);
  let count = 0;
  const learn = Math.min(envelope.length, secondsToSamples(2, fs));
  let maxEnv = 0;
  let meanEnv = 0;
  for (let i = 0; i < learn; i++) {
    const v = envelope[i]!;
    meanEnv += v;
    if (v > maxEnv) maxEnv = v;
  }
  meanEnv /= Math.max(1, learn);
  let spk = 0.5 * maxEnv;
  let npk = 0.5 * meanEnv;
  const slopeHalf = secondsToSamples(0.06, fs);
  const tWaveWindow = secondsToSamples(0.36, fs);
  const rr = new Float64Array(8).fill(secondsToSamples(0.8, fs));
  let rrSum = rr.reduce((a, b) => a + b, 0);
  let rrIdx = 0;
  let last = -refractory - 1;
  let lastSlope = 0;
  let pending = -1; // best sub-threshold candidate since the last beat (search-back)

  const accept = (p: number, weight: number): void => {
    if (count > 0) {
      const interval = p - last;
      rrSum += interval - rr[rrIdx]!;
      rr[rrIdx] = interval;
      rrIdx = (rrIdx + 1) & 7;
    }
    beats[count++] = p;
    spk = weight * envelope[p]! + (1 - weight) * spk;
    last = p;
    lastSlope = maxAbsIn(slope, p - slopeHalf, p + slopeHalf);
    pending = -1;
  };
  const isTWave = (p: number): boolean =>
    count > 0 && p - last < tWaveWindow && maxAbsIn(slope, p - slopeHalf, p + slopeHalf) < 0.7 * lastSlope;

  for (let c = 0; c < candidates.length; c++) {
    const p = candidates[c]!;
    const th1 = npk + 0.35 * (spk - npk);
    // Search-back: a beat is overdue, so take the best candidate seen since the last beat.
    if (pending >= 0 && p - last > 1.66 * (rrSum / 8) && envelope[pending]! > 0.5 * th1) {
      accept(pending, 0.25);
    }
    if (p - last < refractory) continue;
    const v = envelope[p]!;
    if (v > th1 && !isTWave(p)) {
      accept(p, 0.125);
    } else {
      npk = 0.125 * v + 0.875 * npk;
      if (!isTWave(p) && (pending < 0 || v > envelope[pending]!)) pending = p;
    }
  }
  return beats.slice(0, count);
}

/** Moves each detection to the largest deviation from the local baseline within ±`half` samples. */
export function refineFiducials(lowpass: Float64Array, beats: Int32Array, fs: number): Int32Array {
  const half = secondsToSamples(0.08, fs);
  const base = secondsToSamples(0.1, fs);
  const out = new Int32Array(beats.length);
  for (let b = 0; b < beats.length; b++) {
    const p = beats[b]!;
    const from = Math.max(0, p - half);
    const to = Math.min(lowpass.length - 1, p + half);
    // Baseline: mean of the two window edges, a cheap estimate that ignores the QRS itself.
    const ref0 = lowpass[Math.max(0, p - base)]!;
    const ref1 = lowpass[Math.min(lowpass.length - 1, p + base)]!;
    const baseline = 0.5 * (ref0 + ref1);
    let best = p;
    let bestV = -1;
    for (let i = from; i <= to; i++) {
      const v = Math.abs(lowpass[i]! - baseline);
      if (v > bestV) {
        bestV = v;
        best = i;
      }
    }
    out[b] = best;
  }
  return out;
}

function mean(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / Math.max(1, x.length);
}

/**
 * Fuses the features of several leads sampled together: each lead's envelope and |slope| are divided by
 * that lead's mean envelope (so leads weigh equally whatever their gain) and summed.
 */
export function fuseFeatures(perLead: QrsFeatures[]): QrsFeatures {
  const first = perLead[0]!;
  if (perLead.length === 1) return first;
  const n = first.envelope.length;
  const envelope = new Float64Array(n);
  const slope = new Float64Array(n);
  for (const f of perLead) {
    const scale = 1 / (mean(f.envelope) || 1);
    const e = f.envelope;
    const d = f.slope;
    for (let i = 0; i < n; i++) {
      envelope[i] = envelope[i]! + e[i]! * scale;
      slope[i] = slope[i]! + Math.abs(d[i]!) * scale;
    }
  }
  return { lowpass: first.lowpass, slope, envelope };
}

/**
 * Detects QRS complexes in one or more simultaneously sampled leads (same length and rate); the
 * fiducial is placed on the first lead. Returns sample indices.
 */
export function detectQrsMultiLead(
  leads: readonly ArrayLike<number>[],
  samplingFrequency: number,
  options: QrsOptions = {},
): Int32Array {
  if (!(samplingFrequency > 0))
    throw new RangeError(`samplingFrequency must be positive, got ${samplingFrequency}`);
  const n = leads[0]?.length ?? 0;
  if (n < 3) return new Int32Array(0);
  if (leads.some((l) => l.length !== n)) throw new RangeError('leads must all have the same length');
  const refractory = secondsToSamples(options.refractory ?? 0.2, samplingFrequency);
  const features = fuseFeatures(leads.map((l) => qrsFeatures(l, samplingFrequency)));
  const candidates = envelopeCandidates(features.envelope, refractory);
  const beats = decideBeats(features, candidates, samplingFrequency, refractory);
  return refineFiducials(features.lowpass, beats, samplingFrequency);
}

/** Detects QRS complexes in one ECG lead sampled at `samplingFrequency` Hz; returns sample indices. */
export function detectQrs(
  signal: ArrayLike<number>,
  samplingFrequency: number,
  options: QrsOptions = {},
): Int32Array {
  return detectQrsMultiLead([signal], samplingFrequency, options);
}
