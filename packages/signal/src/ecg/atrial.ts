// Atrial activity before the QRS: does the ECG show distinct, repeating P waves? The clinical definition
// of AF (ESC 2020 guidelines, Hindricks et al., Eur Heart J 42:373, 2021) has two parts: irregularly
// irregular RR intervals AND no distinct repeating P waves. RR irregularity (af.ts) only sees the first,
// so sinus rhythm with frequent ectopy or marked sinus arrhythmia can look like AF, and AF with a fairly
// even ventricular response can look like sinus rhythm. This module measures the second part.
//
// P-wave consistency: for every beat, the signal in the window where a P wave must lie if the beat is
// conducted from a sinus (or other single atrial) focus, i.e. from 200 ms to 40 ms before QRS onset (a normal
// PR interval, P onset to QRS onset, is 120–200 ms and the P wave ends at least ~40 ms before the QRS). Each
// window is low-passed (~25 Hz, the P wave has little above 15 Hz) and linearly detrended (baseline wander).
// The statistic is the mean Pearson correlation of each beat's window with the average of all the OTHER
// beats' windows (leave-one-out, so that a beat never correlates with itself): repeating P waves give values
// near 1; fibrillatory waves, unrelated to the QRS, give values near 0 (after averaging, they cancel).
// P-wave absence has been used for AF detection before, e.g. by P-wave template correlation (Couceiro et al.,
// ICPR 2008) and by statistical models of the atrial activity (Ladavich & Ghoraani, Biomed Signal Process
// Control 18:274, 2015).
// Beats are left out when the window would still hold the previous beat's T wave: the previous RR must be at
// least the window's distance from the fiducial plus the QT interval at the upper normal QTc of 0.45 s
// (Bazett, QT = QTc·√RR). Without that rule a fast, regular rhythm correlates through its T waves, and a
// premature beat's T wave spoils the window after it.
// Thresholds, chosen on the MIT-BIH Arrhythmia Database (first lead, MLII in 23 of its 26 records here; 20-s
// and 30-s windows of one reference rhythm, the length of a handheld recording; see scripts/eval-af.ts):
//   present ≥ 0.5   every AF window there scores below (highest 0.47), so the veto of an RR-based AF call
//                   costs no AF there;
//   absent  < 0.3   about the 90th percentile of those AF windows (0.30 at 30 s, 0.34 at 20 s): a call
//                   made without RR irregularity needs atrial activity as inconsistent as that of most AF;
//   in between, or NaN, the ECG gives no verdict and RR irregularity decides alone.
// Checked, not chosen, on the second mitdb lead and on the CinC 2017 handheld recordings.

import { isAfLike, NRMSSD_AF, type RrIrregularity } from './af.ts';

export interface PWaveConsistency {
  /**
   * Mean leave-one-out correlation of the pre-QRS windows (−1..1); NaN when fewer than MIN_P_WAVE_BEATS
   * beats qualify (no evidence either way).
   */
  correlation: number;
  /** Number of beats whose window was used. */
  beats: number;
  /** Seconds from QRS onset to the beat fiducial, from the average beat (NaN when it cannot be found). */
  onsetToFiducial: number;
  /**
   * QRS duration (s) of the average beat, as seen through the ~25-Hz low-pass (which adds a little); NaN when
   * it cannot be found. Without P waves, a wide QRS points to a ventricular or paced rhythm rather than AF.
   */
  qrsDuration: number;
}

/** P-wave window, seconds before QRS onset: [start, end]. */
export const P_WAVE_WINDOW = [0.2, 0.04] as const;
/** Fewest beats for a P-wave consistency value. */
export const MIN_P_WAVE_BEATS = 8;
/** Correlation from which P waves count as present (see the module comment for how it was chosen). */
export const P_WAVES_PRESENT = 0.5;
/** Correlation below which P waves count as absent (see the module comment for how it was chosen). */
export const P_WAVES_ABSENT = 0.3;
/**
 * QRS duration (s) from which a QRS counts as wide: 120 ms, the clinical limit. Missing P waves before a wide
 * QRS mean a ventricular or paced rhythm, so they only count towards AF when the QRS is narrow.
 */
export const WIDE_QRS_S = 0.12;
/**
 * Least share of a recording's RR intervals that must be valid (both beats clean and of the usual shape) for
 * missing P waves to make an AF call without RR irregularity. That call has no entropy test to protect it
 * from detection errors (a false or missed beat adds RR variability, noise hides P waves), so it is only made
 * on a recording where at most one interval in ten had to be set aside.
 */
export const MIN_VALID_SHARE_WITHOUT_IRREGULARITY = 0.9;
/** Upper normal corrected QT (s), for keeping the previous T wave out of the window. */
const QTC_UPPER_S = 0.45;
/** QRS onset and end: where the average beat's slope exceeds this share of its steepest slope. */
const QRS_SLOPE_SHARE = 0.15;
/** How far before and after the fiducial the QRS onset and end are searched for (s). */
const ONSET_SEARCH_S = 0.15;
/** Half width (s) of the moving average used as low-pass (first zero near 25 Hz). */
const LOWPASS_HALF_S = 0.02;

/**
 * Where each beat's low-passed signal is kept, relative to its fiducial: enough before it for a P-wave window
 * that starts up to ONSET_SEARCH_S further back (the QRS onset is found later, from the average beat), and
 * ONSET_SEARCH_S after it for that average. A snippet is all a beat contributes, so the same computation
 * serves a whole recording (pWaveConsistency) and a live stream (stream/p-wave-history.ts), which keeps the
 * snippets of the last minute's beats instead of the signal.
 */
export interface SnippetGeometry {
  /** Half width (samples) of the moving-average low-pass. */
  readonly half: number;
  /** Half width (samples) of the average beat searched for the QRS onset and end. */
  readonly around: number;
  /** Samples kept before the fiducial. */
  readonly before: number;
  /** Samples per snippet (before + 1 + around). */
  readonly length: number;
}

export function snippetGeometry(fs: number): SnippetGeometry {
  const half = Math.max(1, Math.round(LOWPASS_HALF_S * fs));
  const around = Math.max(2, Math.round(ONSET_SEARCH_S * fs));
  const before = Math.round(P_WAVE_WINDOW[0] * fs) + around + 1;
  return { half, around, before, length: before + 1 + around };
}

/**
 * Writes the low-passed signal around the beat at sample `p` of `x` into `out` (snippet layout, from
 * `offset`). A value is NaN unless its whole averaging window lies inside `x` and holds only finite samples,
 * so a window touching a dropout or the edge of what is held is recognisable later.
 */
export function writeSnippet(
  x: ArrayLike<number>,
  p: number,
  g: SnippetGeometry,
  out: Float32Array,
  offset: number,
): void {
  const first = p - g.before;
  const width = 2 * g.half + 1;
  const inv = 1 / width;
  let sum = 0;
  let bad = 0;
  let ready = false;
  for (let k = 0; k < g.length; k++) {
    const i = first + k;
    if (i - g.half < 0 || i + g.half >= x.length) {
      out[offset + k] = Number.NaN;
      ready = false;
      continue;
    }
    if (!ready) {
      sum = 0;
      bad = 0;
      for (let j = i - g.half; j <= i + g.half; j++) {
        const v = x[j]!;
        if (Number.isFinite(v)) sum += v;
        else bad++;
      }
      ready = true;
    } else {
      const enter = x[i + g.half]!;
      const leave = x[i - g.half - 1]!;
      if (Number.isFinite(enter)) sum += enter;
      else bad++;
      if (Number.isFinite(leave)) sum -= leave;
      else bad--;
    }
    out[offset + k] = bad === 0 ? sum * inv : Number.NaN;
  }
}

/** The beats one consistency is computed over: their snippets and what decides whether each may be used. */
export interface BeatSnippets {
  readonly geometry: SnippetGeometry;
  /** Number of beats. */
  readonly count: number;
  /** Snippet of beat b at b·geometry.length (each written by writeSnippet). */
  readonly values: Float32Array;
  /** Seconds since the previous beat (NaN when unknown): keeps the previous T wave out of the window. */
  readonly rrPrev: Float64Array;
  /** 1 when the beat and the one before it are trustworthy (clean, usual shape). */
  readonly eligible: Uint8Array;
}

function allFinite(v: Float32Array, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (!Number.isFinite(v[k]!)) return false;
  return true;
}

/**
 * QRS onset (s before the fiducial) and QRS duration (s) from the average of every beat's snippet over
 * ±ONSET_SEARCH_S: onset and end are the first and last points where the average beat's slope exceeds
 * QRS_SLOPE_SHARE of its steepest slope. NaN when fewer than 3 beats can be averaged.
 */
function averageBeatTimings(s: BeatSnippets, fs: number): { onsetToFiducial: number; qrsDuration: number } {
  const none = { onsetToFiducial: Number.NaN, qrsDuration: Number.NaN };
  const { around: h, before, length } = s.geometry;
  const avg = new Float64Array(2 * h + 1);
  let n = 0;
  for (let b = 0; b < s.count; b++) {
    const from = b * length + before - h;
    if (!allFinite(s.values, from, from + 2 * h + 1)) continue;
    for (let k = 0; k <= 2 * h; k++) avg[k] = avg[k]! + s.values[from + k]!;
    n++;
  }
  if (n < 3) return none;
  let peak = 0;
  for (let k = 1; k <= 2 * h; k++) peak = Math.max(peak, Math.abs(avg[k]! - avg[k - 1]!));
  if (!(peak > 0)) return none;
  const steep = (k: number) => Math.abs(avg[k]! - avg[k - 1]!) > QRS_SLOPE_SHARE * peak;
  let first = 1;
  while (first <= h && !steep(first)) first++;
  let last = 2 * h;
  while (last > h && !steep(last)) last--;
  if (first > h) return none;
  return { onsetToFiducial: (h - first) / fs, qrsDuration: (last - first) / fs };
}

/** Pearson correlation of a and b (0 when either is constant). */
function pearson(a: Float64Array, b: Float64Array): number {
  const w = a.length;
  let ma = 0;
  let mb = 0;
  for (let k = 0; k < w; k++) {
    ma += a[k]!;
    mb += b[k]!;
  }
  ma /= w;
  mb /= w;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let k = 0; k < w; k++) {
    const u = a[k]! - ma;
    const v = b[k]! - mb;
    sab += u * v;
    saa += u * u;
    sbb += v * v;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/** Removes the least-squares line from v, in place. */
function detrend(v: Float64Array): void {
  const w = v.length;
  const mk = (w - 1) / 2;
  let mv = 0;
  for (let k = 0; k < w; k++) mv += v[k]!;
  mv /= w;
  let skv = 0;
  let skk = 0;
  for (let k = 0; k < w; k++) {
    skv += (k - mk) * (v[k]! - mv);
    skk += (k - mk) ** 2;
  }
  const slope = skk > 0 ? skv / skk : 0;
  for (let k = 0; k < w; k++) v[k] = v[k]! - mv - slope * (k - mk);
}

/**
 * P-wave consistency of an ECG lead (mV) with detected beats (sample indices, ascending). `usable` flags
 * beats to trust (clean signal, usual QRS shape); a beat is used only when it and the one before are usable.
 */
export function pWaveConsistency(
  signal: ArrayLike<number>,
  beats: ArrayLike<number>,
  samplingFrequency: number,
  usable?: ArrayLike<number | boolean>,
): PWaveConsistency {
  const fs = samplingFrequency;
  if (!(fs > 0)) throw new RangeError(`samplingFrequency must be positive, got ${fs}`);
  if (beats.length < MIN_P_WAVE_BEATS + 1) return NO_P_WAVES;
  const geometry = snippetGeometry(fs);
  const count = beats.length;
  const values = new Float32Array(count * geometry.length);
  const rrPrev = new Float64Array(count);
  const eligible = new Uint8Array(count);
  const ok = (b: number) => usable === undefined || Boolean(usable[b]);
  for (let b = 0; b < count; b++) {
    writeSnippet(signal, beats[b]!, geometry, values, b * geometry.length);
    rrPrev[b] = b > 0 ? (beats[b]! - beats[b - 1]!) / fs : Number.NaN;
    eligible[b] = b > 0 && ok(b) && ok(b - 1) ? 1 : 0;
  }
  return snippetConsistency({ geometry, count, values, rrPrev, eligible }, fs);
}

/** No P-wave evidence either way (too few beats, or not measured). */
export const NO_P_WAVES: PWaveConsistency = {
  correlation: Number.NaN,
  beats: 0,
  onsetToFiducial: Number.NaN,
  qrsDuration: Number.NaN,
};

/** P-wave consistency of beats given by their snippets (see BeatSnippets); fs in Hz. */
export function snippetConsistency(s: BeatSnippets, fs: number): PWaveConsistency {
  const timings = averageBeatTimings(s, fs);
  const onset = timings.onsetToFiducial;
  if (!Number.isFinite(onset)) return NO_P_WAVES;
  const fromS = P_WAVE_WINDOW[0] + onset;
  const from = Math.round(fromS * fs);
  const w = from - Math.round((P_WAVE_WINDOW[1] + onset) * fs) + 1;
  const { before, length } = s.geometry;
  // Every usable window, detrended, one after another in one buffer (a live stream computes this every few
  // seconds for each patient, so one allocation rather than one per beat).
  const all = new Float64Array(s.count * w);
  const windows: Float64Array[] = [];
  for (let b = 0; b < s.count; b++) {
    const rrPrev = s.rrPrev[b]!;
    if (s.eligible[b] !== 1 || !(rrPrev >= fromS + QTC_UPPER_S * Math.sqrt(rrPrev))) continue;
    const start = b * length + before - from;
    if (!allFinite(s.values, start, start + w)) continue;
    const v = all.subarray(windows.length * w, (windows.length + 1) * w);
    v.set(s.values.subarray(start, start + w));
    detrend(v);
    windows.push(v);
  }
  const n = windows.length;
  if (n < MIN_P_WAVE_BEATS) return { ...timings, correlation: Number.NaN, beats: n };
  const sum = new Float64Array(w);
  for (const v of windows) for (let k = 0; k < w; k++) sum[k] = sum[k]! + v[k]!;
  const others = new Float64Array(w);
  let total = 0;
  for (const v of windows) {
    for (let k = 0; k < w; k++) others[k] = (sum[k]! - v[k]!) / (n - 1);
    total += pearson(v, others);
  }
  const correlation = total / n;
  return { ...timings, correlation: Number.isFinite(correlation) ? correlation : Number.NaN, beats: n };
}

/**
 * Why a recording was or was not called AF:
 *   irregular-rr                 RR irregularity says AF and the ECG shows no clear repeating P waves;
 *   irregular-rr-with-p-waves    RR irregularity says AF, but distinct repeating P waves are present (sinus
 *                                rhythm with ectopy or sinus arrhythmia): not AF;
 *   variable-rr-without-p-waves  RR variable (nRMSSD above its AF threshold) though patterned (low entropy),
 *                                with no repeating P waves before a narrow QRS, on a clean recording: AF
 *                                with a fairly even ventricular response;
 *   rr-not-af-like               everything else: not AF.
 */
export type AfBasis =
  | 'irregular-rr'
  | 'irregular-rr-with-p-waves'
  | 'variable-rr-without-p-waves'
  | 'rr-not-af-like';

/**
 * The AF screen of one recording from both parts of the clinical definition. RR irregularity decides unless
 * the atrial activity clearly says otherwise; a P-wave consistency between the two thresholds, or NaN (too
 * few usable beats), is no evidence either way, so the call falls back to RR irregularity alone. `validShare`
 * is the share of the recording's RR intervals that were valid (default 1); `pWavesPresent` and
 * `pWavesAbsent` override P_WAVES_PRESENT and P_WAVES_ABSENT (for sensitivity analyses).
 */
/**
 * Whether the P waves can change screenAf's call on these RR intervals: only when the intervals vary
 * (AF-like, or nRMSSD above its AF threshold). A live stream measures them only then.
 */
export function pWavesBearOn(irregularity: RrIrregularity): boolean {
  return isAfLike(irregularity) || irregularity.nrmssd > NRMSSD_AF;
}

export function screenAf(
  irregularity: RrIrregularity,
  pWaves: PWaveConsistency,
  options: { pWavesPresent?: number; pWavesAbsent?: number; validShare?: number } = {},
): { af: boolean; basis: AfBasis } {
  const c = pWaves.correlation;
  const present = options.pWavesPresent ?? P_WAVES_PRESENT;
  const absent = options.pWavesAbsent ?? P_WAVES_ABSENT;
  if (isAfLike(irregularity)) {
    return c >= present
      ? { af: false, basis: 'irregular-rr-with-p-waves' }
      : { af: true, basis: 'irregular-rr' };
  }
  const clean = (options.validShare ?? 1) >= MIN_VALID_SHARE_WITHOUT_IRREGULARITY;
  if (irregularity.nrmssd > NRMSSD_AF && c < absent && pWaves.qrsDuration < WIDE_QRS_S && clean)
    return { af: true, basis: 'variable-rr-without-p-waves' };
  return { af: false, basis: 'rr-not-af-like' };
}
