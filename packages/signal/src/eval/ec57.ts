// ANSI/AAMI EC57 beat-by-beat comparison, a port of the matching logic of WFDB `bxb` (app/bxb.c):
// nearest-neighbour pairing within a 150 ms window, a learning period before `start`, reference VF
// episodes ([ ... ]) excluded, and shutdown (NOISE with subtype bits 4-5 set) handled as bxb does.
import { bxbClassOf, CODE, isBeatCode } from '../wfdb/codes.ts';

export interface BeatEvent {
  sample: number;
  code: number;
  subtype?: number;
}

export interface Ec57Options {
  samplingFrequency: number;
  /** Match window in seconds (EC57: 0.15). */
  matchWindow?: number;
  /** Start of the test period in samples (bxb default: 5 min; `-f 0` → 0). */
  startSample?: number;
  /** End of the test period in samples (bxb: record length); undefined → end of the reference file. */
  endSample?: number;
}

type Label = 'N' | 'V' | 'F' | 'Q' | 'O' | 'X' | '*';
const ROWS = ['N', 'V', 'F', 'Q', 'O', 'X'] as const;
const COLS = ['N', 'V', 'F', 'Q', 'O', 'X'] as const;
export type ConfusionMatrix = Record<(typeof ROWS)[number], Record<(typeof COLS)[number], number>>;

export interface Ec57Result {
  /** Rows: reference class; columns: test class (bxb standard table, S counted as N). */
  matrix: ConfusionMatrix;
  tp: number;
  fn: number;
  fp: number;
  /** QRS sensitivity TP/(TP+FN), NaN when undefined. */
  sensitivity: number;
  /** QRS positive predictivity TP/(TP+FP), NaN when undefined. */
  positivePredictivity: number;
  /** Signed timing error (test − reference) in samples for each matched beat pair. */
  timingErrors: Int32Array;
}

const VFON = 32;
const VFOFF = 33;
const HUGE = 0x7fffffff;

function labelOf(code: number): Label {
  const c = bxbClassOf(code);
  return c === 'S' ? 'N' : c;
}

/** Reads beats (and tracks VF and shutdown episodes) from one annotation stream, as bxb's getref/gettest. */
class BeatStream {
  private i = 0;
  time = 0;
  label: Label = 'O';
  nextTime = 0;
  nextLabel: Label = 'O';
  vfOn = -1;
  vfOff = -1;
  prevVfOn = -1;
  prevVfOff = -1;
  sdOn = -1;
  sdOff = -1;
  prevSdOn = -1;
  prevSdOff = -1;

  constructor(
    private readonly events: readonly BeatEvent[],
    private readonly matchDt: number,
    private readonly isReference: boolean,
  ) {}

  private read(): BeatEvent | undefined {
    return this.events[this.i++];
  }

  /** Shifts next → current and reads the next beat annotation. */
  advance(): void {
    this.time = this.nextTime;
    this.label = this.nextLabel;
    for (let e = this.read(); e !== undefined; e = this.read()) {
      if (isBeatCode(e.code)) {
        this.nextTime = e.sample;
        this.nextLabel = labelOf(e.code);
        return;
      }
      if (e.code === CODE.NOISE && ((e.subtype ?? 0) & 0x30) === 0x30) {
        this.prevSdOn = this.sdOn;
        this.prevSdOff = this.sdOff;
        this.sdOn = e.sample;
        const end = this.read();
        if (end === undefined) {
          this.nextTime = HUGE;
          if (this.isReference) this.sdOff = HUGE;
          this.nextLabel = '*';
          return;
        }
        if (end.code === CODE.NOISE && ((end.subtype ?? 0) & 0x30) !== 0x30) this.sdOff = end.sample;
        else {
          this.sdOn = this.vfOff > this.time ? this.vfOff + this.matchDt : this.time + this.matchDt;
          this.sdOff = end.sample - this.matchDt;
          if (this.sdOn > this.sdOff) this.sdOn = this.sdOff;
          this.i--; // push back
        }
      } else if (e.code === VFON) {
        this.prevVfOn = this.vfOn;
        this.prevVfOff = this.vfOff;
        this.vfOn = e.sample;
        let end = this.read();
        while (end !== undefined && end.code !== VFOFF) end = this.read();
        if (end === undefined) {
          this.nextTime = HUGE;
          this.nextLabel = '*';
          return;
        }
        this.vfOff = end.sample;
      }
    }
    this.nextTime = HUGE;
    this.nextLabel = '*';
  }

  inShutdown(t: number): boolean {
    return (
      (this.sdOn !== -1 && this.sdOn <= t && (t <= this.sdOff || this.sdOff === -1)) ||
      (this.prevSdOn !== -1 && this.prevSdOn <= t && t <= this.prevSdOff)
    );
  }

  inVf(t: number): boolean {
    return (
      (this.vfOn !== -1 && this.vfOn <= t && (t <= this.vfOff || this.vfOff === -1)) ||
      (this.prevVfOn !== -1 && this.prevVfOn <= t && t <= this.prevVfOff)
    );
  }
}

function emptyMatrix(): ConfusionMatrix {
  const m = {} as ConfusionMatrix;
  for (const r of ROWS) m[r] = { N: 0, V: 0, F: 0, Q: 0, O: 0, X: 0 };
  return m;
}

/** Compares test beats against reference annotations the way `bxb` does. Inputs must be time-ordered. */
export function compareBeats(
  reference: readonly BeatEvent[],
  test: readonly BeatEvent[],
  options: Ec57Options,
): Ec57Result {
  const fs = options.samplingFrequency;
  const matchDt = Math.trunc((options.matchWindow ?? 0.15) * fs);
  const start = options.startSample ?? Math.round(300 * fs);
  const end = options.endSample ?? -1;
  const matrix = emptyMatrix();
  const errors: number[] = [];
  const ref = new BeatStream(reference, matchDt, true);
  const tst = new BeatStream(test, matchDt, false);

  const pair = (r: Label, t: Label, dt?: number): void => {
    if (r === '*' || t === '*') return;
    if ((r === 'O' || r === 'X') && (t === 'O' || t === 'X')) return;
    matrix[r][t]++;
    if (dt !== undefined && r !== 'O' && r !== 'X' && t !== 'O' && t !== 'X') errors.push(dt);
  };
  const refPseudo = (t: number): Label => (ref.inVf(t) ? '*' : ref.inShutdown(t) ? 'X' : 'O');
  const testPseudo = (t: number): Label => (tst.inShutdown(t) ? 'X' : 'O');

  do ref.advance();
  while (ref.time < start);
  do tst.advance();
  while (tst.nextTime < start);

  const abs = Math.abs;
  if (ref.time - tst.time < abs(ref.time - tst.nextTime) && ref.time - tst.time <= matchDt) {
    if (ref.time !== 0 || tst.time !== 0) pair(ref.label, tst.label, tst.time - ref.time);
    ref.advance();
    tst.advance();
  } else {
    tst.advance();
    if (tst.time - start <= matchDt && abs(ref.time - tst.nextTime) < abs(ref.time - tst.time)) tst.advance();
  }

  for (;;) {
    const T = ref.time;
    const t = tst.time;
    const more =
      (end > 0 && (T <= end || t <= end)) ||
      (end === -1 && T !== HUGE) ||
      (end === 0 && T !== HUGE && t !== HUGE);
    if (!more) break;
    if (t < T) {
      if (T - t <= matchDt && T - t < abs(T - tst.nextTime)) {
        pair(ref.label, tst.label, t - T);
        ref.advance();
        tst.advance();
      } else {
        pair(refPseudo(t), tst.label);
        tst.advance();
      }
    } else if (t - T <= matchDt && t - T < abs(t - ref.nextTime)) {
      pair(ref.label, tst.label, t - T);
      tst.advance();
      ref.advance();
    } else {
      pair(ref.label, testPseudo(T));
      ref.advance();
    }
  }
  return summarise(matrix, Int32Array.from(errors));
}

function summarise(m: ConfusionMatrix, timingErrors: Int32Array): Ec57Result {
  const beats = ['N', 'V', 'F', 'Q'] as const;
  let tp = 0;
  let fn = 0;
  let fp = 0;
  for (const r of beats) {
    for (const c of beats) tp += m[r][c];
    fn += m[r].O + m[r].X;
  }
  for (const c of beats) fp += m.O[c] + m.X[c];
  return {
    matrix: m,
    tp,
    fn,
    fp,
    sensitivity: tp + fn > 0 ? tp / (tp + fn) : Number.NaN,
    positivePredictivity: tp + fp > 0 ? tp / (tp + fp) : Number.NaN,
    timingErrors,
  };
}

/** Wraps detector output (sample indices) as normal-beat test annotations. */
export function beatsFromSamples(samples: ArrayLike<number>): BeatEvent[] {
  const out: BeatEvent[] = new Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = { sample: samples[i]!, code: CODE.NORMAL };
  return out;
}

/** Median of |x| (NaN for an empty array). */
export function medianAbs(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  const a = Float64Array.from(values, (v) => Math.abs(v)).sort();
  const mid = a.length >> 1;
  return a.length % 2 ? a[mid]! : (a[mid - 1]! + a[mid]!) / 2;
}
