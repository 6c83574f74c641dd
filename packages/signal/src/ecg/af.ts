// Atrial-fibrillation screening from RR-interval irregularity. AF is "irregularly irregular": successive RR
// intervals vary a lot (high normalised RMSSD) and unpredictably (high entropy, turning points as in a random
// series), whereas sinus rhythm with ectopy varies a lot but in repeating patterns (low entropy).
// Features (all from the literature, thresholds taken from the papers, not fitted here):
//   COSEn   coefficient of sample entropy, Lake & Moorman, Am J Physiol Heart Circ Physiol 300:H319 (2011):
//           SampEn(m = 1, r) + ln(2r) − ln(mean RR), RR in seconds, r = 30 ms widened until ≥ 5 matches;
//           AF when > −1.4 (their threshold).
//   nRMSSD  RMSSD / mean RR; AF when > 0.1 (Dash et al., Ann Biomed Eng 37:1701, 2009).
//   TPR     turning-point ratio; a random series has 2/3 (N − 2) turning points; reported, not used in the
//           decision (too variable on the ~30-beat windows of a handheld recording).
// Decision: AF when COSEn and nRMSSD both indicate it. This is the RR half of the clinical definition only;
// where an ECG is at hand, atrial.ts adds the other half (no repeating P waves), see screenAf there.

export interface RrIrregularity {
  /** Number of RR intervals used. */
  count: number;
  meanRr: number;
  /** Normalised RMSSD (dimensionless). */
  nrmssd: number;
  /** Sample entropy (m = 1) at the tolerance `r` actually used. */
  sampleEntropy: number;
  /** Tolerance in seconds after widening. */
  r: number;
  /** Coefficient of sample entropy. */
  cosen: number;
  /** Turning points divided by their expectation for a random series, 2/3 (N − 2). */
  turningPointRatio: number;
}

export interface AfThresholds {
  /** COSEn above which a window is irregular enough for AF (default −1.4). */
  cosen?: number;
  /** nRMSSD above which a window is variable enough for AF (default 0.1). */
  nrmssd?: number;
}

/** COSEn above which RR intervals are irregular enough for AF (Lake & Moorman 2011). */
export const COSEN_AF = -1.4;
/** nRMSSD above which RR intervals are variable enough for AF (Dash et al. 2009). */
export const NRMSSD_AF = 0.1;

/** Smallest number of RR intervals on which the features are computed. */
export const MIN_RR_FOR_AF = 12;

/** Counts template matches of length m (B) and m + 1 (A) within tolerance r, as in SampEn. */
function sampEnCounts(x: ArrayLike<number>, r: number): { a: number; b: number } {
  // m = 1: templates x[i] for i < n − 1 so that both lengths use the same templates (Richman & Moorman).
  const n = x.length;
  let a = 0;
  let b = 0;
  for (let i = 0; i < n - 1; i++) {
    for (let j = i + 1; j < n - 1; j++) {
      if (Math.abs(x[i]! - x[j]!) > r) continue;
      b++;
      if (Math.abs(x[i + 1]! - x[j + 1]!) <= r) a++;
    }
  }
  return { a, b };
}

/** Turning points (strict local maxima or minima) divided by 2/3 (N − 2). */
export function turningPointRatio(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 3) return Number.NaN;
  let tp = 0;
  for (let i = 1; i < n - 1; i++) {
    const a = x[i - 1]!;
    const b = x[i]!;
    const c = x[i + 1]!;
    if ((b > a && b > c) || (b < a && b < c)) tp++;
  }
  return tp / ((2 * (n - 2)) / 3);
}

/** Irregularity features of an RR series in seconds (NaN features when shorter than MIN_RR_FOR_AF). */
export function rrIrregularity(intervals: ArrayLike<number>): RrIrregularity {
  const n = intervals.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += intervals[i]!;
  const meanRr = n > 0 ? sum / n : Number.NaN;
  const nan = Number.NaN;
  if (n < MIN_RR_FOR_AF)
    return { count: n, meanRr, nrmssd: nan, sampleEntropy: nan, r: nan, cosen: nan, turningPointRatio: nan };
  let sq = 0;
  for (let i = 1; i < n; i++) sq += (intervals[i]! - intervals[i - 1]!) ** 2;
  const nrmssd = Math.sqrt(sq / (n - 1)) / meanRr;
  // Lake & Moorman: widen r until the numerator has enough matches for a confident estimate, then turn the
  // probability into a density (ln 2r) so that the result does not depend on the r that was needed.
  let r = 0.03;
  let counts = sampEnCounts(intervals, r);
  while (counts.a < 5 && r < 1) {
    r *= 1.5;
    counts = sampEnCounts(intervals, r);
  }
  const sampleEntropy =
    counts.a > 0 && counts.b > 0 ? -Math.log(counts.a / counts.b) : Number.POSITIVE_INFINITY;
  return {
    count: n,
    meanRr,
    nrmssd,
    sampleEntropy,
    r,
    cosen: sampleEntropy + Math.log(2 * r) - Math.log(meanRr),
    turningPointRatio: turningPointRatio(intervals),
  };
}

/** True when the features indicate AF; false for too-short series (NaN features). */
export function isAfLike(features: RrIrregularity, thresholds: AfThresholds = {}): boolean {
  return (
    features.cosen > (thresholds.cosen ?? COSEN_AF) && features.nrmssd > (thresholds.nrmssd ?? NRMSSD_AF)
  );
}

/**
 * Per-interval AF flags for a long RR series: each interval is judged by the window of `windowBeats`
 * intervals centred on it (default 32, about half a minute). Intervals flagged false in `valid` (artefact,
 * poor signal quality) are left out of every window; a window with fewer than MIN_RR_FOR_AF valid intervals
 * yields no call (0 = not AF, 1 = AF, -1 = no call).
 */
export function afByWindow(
  intervals: ArrayLike<number>,
  options: AfThresholds & { windowBeats?: number; valid?: ArrayLike<boolean> } = {},
): Int8Array {
  const n = intervals.length;
  const half = Math.max(1, Math.floor((options.windowBeats ?? 32) / 2));
  const out = new Int8Array(n).fill(-1);
  // Windows are evaluated every `step` intervals and the call is shared by the intervals around the centre,
  // which keeps the cost linear in n (a window costs O(window²) for the entropy).
  const step = Math.max(1, half >> 2);
  const window: number[] = [];
  for (let c = 0; c < n; c += step) {
    const centre = c + (step >> 1);
    window.length = 0;
    for (let i = Math.max(0, centre - half); i < Math.min(n, centre + half); i++) {
      if (options.valid?.[i] ?? true) window.push(intervals[i]!);
    }
    const call = window.length >= MIN_RR_FOR_AF ? (isAfLike(rrIrregularity(window), options) ? 1 : 0) : -1;
    for (let i = c; i < Math.min(n, c + step); i++) out[i] = options.valid?.[i] === false ? -1 : call;
  }
  return out;
}
