// QRS detector for any sampling rate. All windows are given in seconds and scaled by fs.
// Stages (all zero-phase, so the envelope peak sits on the QRS without a delay to undo):
//   1. lowpass: centred moving average (~28 ms)         → removes mains/EMG
//   2. slope: difference across ±10 ms of the lowpass   → band-pass that favours the steep QRS
//   3. energy envelope: centred moving average (~100 ms) of slope²
//   4. candidates: envelope maxima, one per refractory period
//   5. decision: adaptive signal/noise levels (Pan–Tompkins style), T-wave rejection by slope,
//      RR-based search-back at a lower threshold (constants chosen on mitdb as a whole, none per record)
//      and, looking ahead, rejection of a tall P wave or transient just before a much steeper QRS
//   6. fiducial: the dominant extremum of a band-passed copy of the first lead near the detection.
// Several leads are fused after a per-lead automatic gain control (see fuseFeatures).
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
  if (n <= 2 * h + 1) return movingAverageShort(x, h, out);
  // Three loops (growing head, fixed-width interior, shrinking tail) keep the hot interior branch-free.
  let sum = 0;
  for (let j = 0; j < h; j++) sum += x[j]!;
  for (let i = 0; i <= h; i++) {
    sum += x[i + h]!;
    out[i] = sum / (i + h + 1);
  }
  const inv = 1 / (2 * h + 1);
  for (let i = h + 1; i < n - h; i++) {
    sum += x[i + h]! - x[i - h - 1]!;
    out[i] = sum * inv;
  }
  for (let i = n - h; i < n; i++) {
    sum -= x[i - h - 1]!;
    out[i] = sum / (n - i + h);
  }
  return out;
}

/** The same for a signal no longer than the window (every output sees a clipped window). */
function movingAverageShort(x: ArrayLike<number>, h: number, out: Float64Array): Float64Array {
  const n = x.length;
  let sum = 0;
  let lo = 0;
  let hi = -1;
  for (let i = 0; i < n; i++) {
    while (hi < Math.min(n - 1, i + h)) sum += x[++hi]!;
    while (lo < i - h) sum -= x[lo++]!;
    out[i] = sum / (hi - lo + 1);
  }
  return out;
}

/** Root of the centred moving average of x² (width 2h+1, shrinking at the edges), in one pass. */
function rmsEnvelope(x: Float64Array, h: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  if (n <= 2 * h + 1) {
    const sq = Float64Array.from(x, (v) => v * v);
    movingAverageShort(sq, h, out);
    for (let i = 0; i < n; i++) out[i] = Math.sqrt(Math.max(0, out[i]!));
    return out;
  }
  // max(0, ·): the running sum can leave -1e-17 where the signal is exactly flat, and √ of that is NaN.
  let sum = 0;
  for (let j = 0; j < h; j++) sum += x[j]! * x[j]!;
  for (let i = 0; i <= h; i++) {
    const a = x[i + h]!;
    sum += a * a;
    out[i] = Math.sqrt(Math.max(0, sum / (i + h + 1)));
  }
  const inv = 1 / (2 * h + 1);
  for (let i = h + 1; i < n - h; i++) {
    const a = x[i + h]!;
    const b = x[i - h - 1]!;
    sum += a * a - b * b;
    out[i] = Math.sqrt(Math.max(0, sum * inv));
  }
  for (let i = n - h; i < n; i++) {
    const b = x[i - h - 1]!;
    sum -= b * b;
    out[i] = Math.sqrt(Math.max(0, sum / (n - i + h)));
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
  for (let i = k; i < n - k; i++) slope[i] = lowpass[i + k]! - lowpass[i - k]!;
  // RMS slope: amplitude-proportional, so a large ectopic beat does not dwarf the thresholds.
  const envelope = rmsEnvelope(slope, secondsToSamples(0.05, fs));
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

/**
 * Drops a beat that is closely followed (within ~0.3 s, shorter than any sustained ventricular rhythm) by a
 * beat with both a much larger envelope and a much steeper slope: the earlier one is a tall P wave or a
 * noise transient before the QRS (the forward mirror of the T-wave test in `decideBeats`).
 */
export function dropPrecursors(features: QrsFeatures, beats: Int32Array, fs: number): Int32Array {
  const { envelope, slope } = features;
  const window = secondsToSamples(0.3, fs);
  const slopeHalf = secondsToSamples(0.06, fs);
  const ratio = 0.5;
  const keep = new Int32Array(beats.length);
  let count = 0;
  for (let b = 0; b < beats.length; b++) {
    const p = beats[b]!;
    const next = beats[b + 1];
    if (
      next !== undefined &&
      next - p < window &&
      envelope[p]! < ratio * envelope[next]! &&
      maxAbsIn(slope, p - slopeHalf, p + slopeHalf) <
        ratio * maxAbsIn(slope, next - slopeHalf, next + slopeHalf)
    )
      continue;
    keep[count++] = p;
  }
  return keep.slice(0, count);
}

/**
 * Places each fiducial on the dominant extremum of a band-passed copy of the lead, within ±120 ms of the
 * detection. The band-pass is a difference of two centred moving averages (~8 ms minus ~80 ms wide, roughly
 * 8–50 Hz): it keeps the sharp R (or paced) deflection at full height and shrinks broad S and T waves, which
 * is where mitdb places its beat labels. Computed only around each beat, via a local running sum.
 */
export function refineFiducials(signal: ArrayLike<number>, beats: Int32Array, fs: number): Int32Array {
  const n = signal.length;
  const half = secondsToSamples(0.12, fs);
  const hShort = Math.max(0, Math.round(0.008 * fs));
  const hLong = secondsToSamples(0.06, fs);
  const margin = half + hLong + 1;
  const prefix = new Float64Array(2 * margin + 2);
  const out = new Int32Array(beats.length);
  for (let b = 0; b < beats.length; b++) {
    const p = beats[b]!;
    const base = Math.max(0, p - margin);
    const top = Math.min(n - 1, p + margin);
    prefix[0] = 0;
    for (let i = base; i <= top; i++) prefix[i - base + 1] = prefix[i - base]! + signal[i]!;
    const avg = (c: number, h: number): number => {
      const lo = Math.max(base, c - h);
      const hi = Math.min(top, c + h);
      return (prefix[hi - base + 1]! - prefix[lo - base]!) / (hi - lo + 1);
    };
    let best = p;
    let bestV = -1;
    const to = Math.min(n - 1, p + half);
    for (let i = Math.max(0, p - half); i <= to; i++) {
      const v = Math.abs(avg(i, hShort) - avg(i, hLong));
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
 * Fuses the features of several leads sampled together. Each lead's envelope and |slope| are divided by
 * that lead's local mean envelope (a centred moving average over 4 s, floored at half the lead's overall
 * mean): an automatic gain control that lets leads weigh equally whatever their gain and turns a lead down
 * wherever it is buried in noise. The normalised envelopes are then combined by a power mean of order ½
 * ((Σ √eᵢ)², up to a constant), which rewards agreement: a burst on one lead alone counts for less than the
 * same total spread over both leads, so the second lead acts as corroboration.
 */
export function fuseFeatures(perLead: QrsFeatures[], fs: number): QrsFeatures {
  const first = perLead[0]!;
  if (perLead.length === 1) return first;
  const n = first.envelope.length;
  const envelope = new Float64Array(n);
  const slope = new Float64Array(n);
  const level = new Float64Array(n);
  const h = secondsToSamples(2, fs);
  for (const f of perLead) {
    movingAverage(f.envelope, h, level);
    // Floor: a lead that goes flat (lead-off) must not have its residual noise amplified without bound.
    const floor = 0.5 * mean(f.envelope) + 1e-12;
    const e = f.envelope;
    const d = f.slope;
    for (let i = 0; i < n; i++) {
      const scale = 1 / Math.max(level[i]!, floor);
      envelope[i] = envelope[i]! + Math.sqrt(e[i]! * scale);
      slope[i] = slope[i]! + Math.abs(d[i]!) * scale;
    }
  }
  for (let i = 0; i < n; i++) envelope[i] = envelope[i]! * envelope[i]!;
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
  const features = fuseFeatures(
    leads.map((l) => qrsFeatures(l, samplingFrequency)),
    samplingFrequency,
  );
  const candidates = envelopeCandidates(features.envelope, refractory);
  const beats = dropPrecursors(
    features,
    decideBeats(features, candidates, samplingFrequency, refractory),
    samplingFrequency,
  );
  return onePerRefractory(
    refineFiducials(leads[0]!, beats, samplingFrequency),
    beats,
    features.envelope,
    refractory,
  );
}

/**
 * Refinement may move two detections onto one complex (or next to each other, closer than the refractory
 * period allows): of two fiducials that close, the one detected on the stronger envelope stays.
 */
function onePerRefractory(
  refined: Int32Array,
  detected: Int32Array,
  envelope: Float64Array,
  refractory: number,
): Int32Array {
  let count = 0;
  const strength = (i: number) => envelope[detected[i]!]!;
  const kept = new Int32Array(refined.length); // indices of the detections kept
  for (let i = 0; i < refined.length; i++) {
    const last = count > 0 ? kept[count - 1]! : -1;
    if (last >= 0 && refined[i]! - refined[last]! < refractory) {
      if (strength(i) > strength(last)) kept[count - 1] = i;
      continue;
    }
    kept[count++] = i;
  }
  if (count === refined.length) return refined;
  const out = new Int32Array(count);
  for (let k = 0; k < count; k++) out[k] = refined[kept[k]!]!;
  return out;
}

/** Detects QRS complexes in one ECG lead sampled at `samplingFrequency` Hz; returns sample indices. */
export function detectQrs(
  signal: ArrayLike<number>,
  samplingFrequency: number,
  options: QrsOptions = {},
): Int32Array {
  return detectQrsMultiLead([signal], samplingFrequency, options);
}
