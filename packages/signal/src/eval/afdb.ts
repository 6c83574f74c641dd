// Readers for the text exports of the MIT-BIH AF Database (rdann rhythm listings and RR tables) and the
// AF time-agreement statistics used to score an RR-based AF detector against them; also the reference rhythm
// of WFDB annotation files (mitdb), cut into windows of one rhythm for scoring an ECG-based AF screen.

export interface RhythmChange {
  sample: number;
  /** Rhythm label without the leading "(", e.g. "N", "AFIB", "AFL", "J". */
  rhythm: string;
}

export interface RrTable {
  /** Sample index of the beat that ends each interval. */
  beats: Int32Array;
  /** RR intervals in seconds. */
  intervals: Float64Array;
}

export interface AfTimeAgreement {
  /** Seconds of reference AF called AF / not called AF; seconds of other rhythm called AF / not AF. */
  truePositive: number;
  falseNegative: number;
  falsePositive: number;
  trueNegative: number;
  /** Seconds of reference AF (the sum of the two above). */
  afSeconds: number;
  sensitivity: number;
  specificity: number;
}

/** Parses an `rdann` listing (header line, then time, sample, type, sub, chan, num, aux) of rhythm changes. */
export function parseRhythmListing(text: string): RhythmChange[] {
  const out: RhythmChange[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const parts = line.split(/\s+/);
    const sample = Number(parts[1]);
    const aux = parts[6] ?? '';
    if (!Number.isInteger(sample) || parts[2] !== '+' || !aux.startsWith('('))
      throw new SyntaxError(`rhythm listing line ${i + 1}: expected "<time> <sample> + ... (<rhythm>"`);
    out.push({ sample, rhythm: aux.slice(1) });
  }
  return out;
}

/** Parses an RR table: `<previous beat sample> TAB <RR in s> TAB <beat sample>` per line. */
export function parseRrTable(text: string): RrTable {
  const beats: number[] = [];
  const intervals: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const [, rr, beat] = line.split(/\s+/).map(Number);
    if (!(rr! > 0) || !Number.isInteger(beat))
      throw new SyntaxError(`RR table line ${i + 1}: expected "<sample> <RR s> <sample>"`);
    beats.push(beat!);
    intervals.push(rr!);
  }
  return { beats: Int32Array.from(beats), intervals: Float64Array.from(intervals) };
}

/** Reference rhythm of each beat: the label of the last change at or before it ("" before the first). */
export function rhythmOfBeats(beats: ArrayLike<number>, changes: readonly RhythmChange[]): string[] {
  const out: string[] = new Array(beats.length);
  let c = -1;
  for (let i = 0; i < beats.length; i++) {
    while (c + 1 < changes.length && changes[c + 1]!.sample <= beats[i]!) c++;
    out[i] = c >= 0 ? changes[c]!.rhythm : '';
  }
  return out;
}

/**
 * Duration-weighted agreement: each RR interval counts for its length, its truth is the reference rhythm
 * of its ending beat (AF = "AFIB"; flutter and everything else are "not AF"), its call is `calls[i] === 1`
 * (so "no call" counts as not AF).
 */
export function afTimeAgreement(
  intervals: ArrayLike<number>,
  truth: readonly string[],
  calls: ArrayLike<number>,
): AfTimeAgreement {
  let tp = 0;
  let fn = 0;
  let fp = 0;
  let tn = 0;
  for (let i = 0; i < intervals.length; i++) {
    const d = intervals[i]!;
    const af = truth[i] === 'AFIB';
    const called = calls[i] === 1;
    if (af && called) tp += d;
    else if (af) fn += d;
    else if (called) fp += d;
    else tn += d;
  }
  return {
    truePositive: tp,
    falseNegative: fn,
    falsePositive: fp,
    trueNegative: tn,
    afSeconds: tp + fn,
    sensitivity: tp + fn > 0 ? tp / (tp + fn) : Number.NaN,
    specificity: tn + fp > 0 ? tn / (tn + fp) : Number.NaN,
  };
}

/** Sums several agreements (gross statistics pool the durations of all records). */
export function poolAgreements(parts: readonly AfTimeAgreement[]): AfTimeAgreement {
  const sum = (k: 'truePositive' | 'falseNegative' | 'falsePositive' | 'trueNegative') =>
    parts.reduce((a, p) => a + p[k], 0);
  const tp = sum('truePositive');
  const fn = sum('falseNegative');
  const fp = sum('falsePositive');
  const tn = sum('trueNegative');
  return {
    truePositive: tp,
    falseNegative: fn,
    falsePositive: fp,
    trueNegative: tn,
    afSeconds: tp + fn,
    sensitivity: tp + fn > 0 ? tp / (tp + fn) : Number.NaN,
    specificity: tn + fp > 0 ? tn / (tn + fp) : Number.NaN,
  };
}

/** Rhythm changes from WFDB annotations: rhythm annotations (code 28) whose aux text starts with "(". */
export function rhythmChanges(
  annotations: readonly { sample: number; code: number; aux: string }[],
): RhythmChange[] {
  const out: RhythmChange[] = [];
  for (const a of annotations) {
    // WFDB aux strings may carry a trailing NUL.
    const aux = a.aux.replace(/\0+$/, '');
    if (a.code === 28 && aux.startsWith('(')) out.push({ sample: a.sample, rhythm: aux.slice(1) });
  }
  return out;
}

/**
 * Consecutive windows of `windowSamples` over a record of `length` samples whose reference rhythm is one and
 * the same throughout (windows across a change of rhythm are left out). The first label, which annotators
 * place on the first beat, also holds for the samples before it.
 */
export function singleRhythmWindows(
  changes: readonly RhythmChange[],
  length: number,
  windowSamples: number,
): { start: number; rhythm: string }[] {
  const out: { start: number; rhythm: string }[] = [];
  if (!(windowSamples >= 1)) return out;
  if (changes.length === 0) return out;
  let c = 0;
  for (let start = 0; start + windowSamples <= length; start += windowSamples) {
    while (c + 1 < changes.length && changes[c + 1]!.sample <= start) c++;
    const rhythm = changes[c]!.rhythm;
    let mixed = false;
    for (let k = c + 1; k < changes.length && changes[k]!.sample < start + windowSamples; k++)
      if (changes[k]!.rhythm !== rhythm) mixed = true;
    if (!mixed) out.push({ start, rhythm });
  }
  return out;
}
