// Heart rate and time-domain heart-rate variability from beat times, by the definitions of the Task Force
// of the ESC and NASPE (Circulation 93:1043–1065, 1996):
//   SDNN  = standard deviation of the NN intervals (sample SD, divisor N − 1)
//   RMSSD = square root of the mean of the squared differences between adjacent NN intervals
//   pNN50 = percentage of those adjacent differences that exceed 50 ms
// NN ("normal-to-normal") intervals are RR intervals between two normal beats. Without beat labels we keep an
// RR interval as NN when it is physiologically plausible and does not deviate from the local median RR by
// more than 20 % (the Kleiger/Malik rule); an ectopic beat shortens one interval and lengthens the next, so
// both are dropped. Differences are only taken between two NN intervals that are adjacent in the original
// series (never across a gap), and pNN50 is divided by the number of such differences (the usual reading of
// the Task Force's "NN50 count divided by the total number of NN intervals").

export interface RrSeries {
  /** Time (s) of the beat that ends each interval. */
  times: Float64Array;
  /** RR intervals in seconds. */
  intervals: Float64Array;
}

export interface NnOptions {
  /** Shortest plausible RR in seconds (default 0.25 s = 240 bpm). */
  minRr?: number;
  /** Longest plausible RR in seconds (default 2.5 s = 24 bpm). */
  maxRr?: number;
  /** Largest relative deviation from the local median RR still counted as NN (default 0.2). */
  maxDeviation?: number;
  /** Number of intervals on each side used for the local median (default 5). */
  medianHalfWidth?: number;
  /** Optional per-interval flags from elsewhere (beat labels, signal quality); false excludes the interval. */
  accept?: ArrayLike<boolean>;
}

export interface HrvSummary {
  /** Number of RR intervals given. */
  rrCount: number;
  /** Number kept as NN. */
  nnCount: number;
  /** Mean NN interval (s). */
  meanNn: number;
  /** Mean heart rate (bpm) = 60 / mean NN. */
  meanHeartRate: number;
  /** SDNN (ms). */
  sdnn: number;
  /** RMSSD (ms). */
  rmssd: number;
  /** NN50 count and pNN50 (%). */
  nn50: number;
  pnn50: number;
  /** Number of adjacent NN pairs the successive-difference measures are based on. */
  differenceCount: number;
}

export interface HeartRateWindow {
  /** Window start and end (s). */
  start: number;
  end: number;
  /** Mean heart rate over the NN intervals ending in the window (bpm), NaN when there are none. */
  heartRate: number;
  /** NN intervals that contributed. */
  beats: number;
}

/** RR intervals from beat sample indices (time-ordered) at `samplingFrequency` Hz. */
export function rrFromBeats(beats: ArrayLike<number>, samplingFrequency: number): RrSeries {
  if (!(samplingFrequency > 0))
    throw new RangeError(`samplingFrequency must be positive, got ${samplingFrequency}`);
  const n = Math.max(0, beats.length - 1);
  const times = new Float64Array(n);
  const intervals = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = beats[i]!;
    const b = beats[i + 1]!;
    if (!(b > a)) throw new RangeError(`beats must be strictly increasing (index ${i + 1})`);
    times[i] = b / samplingFrequency;
    intervals[i] = (b - a) / samplingFrequency;
  }
  return { times, intervals };
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  const m = values.length >> 1;
  return values.length % 2 ? values[m]! : (values[m - 1]! + values[m]!) / 2;
}

/** Flags each RR interval as NN (true) or excluded (false); see the module comment for the rules. */
export function nnMask(intervals: ArrayLike<number>, options: NnOptions = {}): Uint8Array {
  const minRr = options.minRr ?? 0.25;
  const maxRr = options.maxRr ?? 2.5;
  const maxDev = options.maxDeviation ?? 0.2;
  const half = options.medianHalfWidth ?? 5;
  const n = intervals.length;
  const plausible = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const rr = intervals[i]!;
    plausible[i] = rr >= minRr && rr <= maxRr && (options.accept?.[i] ?? true) ? 1 : 0;
  }
  const mask = plausible.slice();
  const window: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!plausible[i]) continue;
    window.length = 0;
    for (let j = Math.max(0, i - half); j <= Math.min(n - 1, i + half); j++) {
      if (j !== i && plausible[j]) window.push(intervals[j]!);
    }
    if (window.length === 0) continue;
    const ref = median(window);
    if (Math.abs(intervals[i]! - ref) > maxDev * ref) {
      mask[i] = 0;
      // A premature beat: short interval then the compensatory pause, which is also not NN.
      if (intervals[i]! < ref && i + 1 < n) mask[i + 1] = 0;
    }
  }
  return mask;
}

/** Instantaneous heart rate (bpm) for each RR interval: 60 / RR. */
export function instantaneousHeartRate(intervals: ArrayLike<number>): Float64Array {
  return Float64Array.from(intervals, (rr) => 60 / rr);
}

/**
 * Heart rate over consecutive windows of `windowSeconds` (e.g. 10 s, or 60 s for a per-minute rate):
 * 60 / mean NN of the NN intervals whose ending beat falls in the window [start, end) (the last window is
 * closed at its end). Windows start at the first beat.
 */
export function windowedHeartRate(
  rr: RrSeries,
  windowSeconds: number,
  options: NnOptions = {},
): HeartRateWindow[] {
  if (!(windowSeconds > 0)) throw new RangeError(`windowSeconds must be positive, got ${windowSeconds}`);
  const n = rr.intervals.length;
  if (n === 0) return [];
  const mask = nnMask(rr.intervals, options);
  const t0 = rr.times[0]! - rr.intervals[0]!;
  const count = Math.max(1, Math.ceil((rr.times[n - 1]! - t0) / windowSeconds));
  const sums = new Float64Array(count);
  const beats = new Int32Array(count);
  for (let i = 0; i < n; i++) {
    if (!mask[i]) continue;
    const w = Math.min(count - 1, Math.floor((rr.times[i]! - t0) / windowSeconds));
    sums[w] = sums[w]! + rr.intervals[i]!;
    beats[w] = beats[w]! + 1;
  }
  return Array.from({ length: count }, (_, w) => ({
    start: t0 + w * windowSeconds,
    end: t0 + (w + 1) * windowSeconds,
    heartRate: beats[w]! > 0 ? (60 * beats[w]!) / sums[w]! : Number.NaN,
    beats: beats[w]!,
  }));
}

/** Time-domain HRV of an RR series (seconds in, milliseconds out); NaN where a measure is undefined. */
export function hrvSummary(intervals: ArrayLike<number>, options: NnOptions = {}): HrvSummary {
  const mask = nnMask(intervals, options);
  let nnCount = 0;
  let sum = 0;
  for (let i = 0; i < intervals.length; i++) {
    if (!mask[i]) continue;
    nnCount++;
    sum += intervals[i]!;
  }
  const meanNn = nnCount > 0 ? sum / nnCount : Number.NaN;
  let ss = 0;
  for (let i = 0; i < intervals.length; i++) if (mask[i]) ss += (intervals[i]! - meanNn) ** 2;
  let diffs = 0;
  let sqDiff = 0;
  let nn50 = 0;
  for (let i = 1; i < intervals.length; i++) {
    if (!mask[i] || !mask[i - 1]) continue;
    const d = intervals[i]! - intervals[i - 1]!;
    diffs++;
    sqDiff += d * d;
    // 50 ms with a tiny tolerance so that a difference of exactly 50 ms given in seconds is not counted.
    if (Math.abs(d) > 0.05 + 1e-9) nn50++;
  }
  return {
    rrCount: intervals.length,
    nnCount,
    meanNn,
    meanHeartRate: 60 / meanNn,
    sdnn: nnCount > 1 ? 1000 * Math.sqrt(ss / (nnCount - 1)) : Number.NaN,
    rmssd: diffs > 0 ? 1000 * Math.sqrt(sqDiff / diffs) : Number.NaN,
    nn50,
    pnn50: diffs > 0 ? (100 * nn50) / diffs : Number.NaN,
    differenceCount: diffs,
  };
}
