// The atrial half of the live AF screen. For each beat a stream reports, the low-passed ECG around it (a
// snippet: ecg/atrial.ts) is kept with what decides whether the beat may be used, for the beats of the last AF
// window only. From them the P-wave consistency of any recent stretch is computed exactly as for a whole
// recording, without keeping the signal itself: ~130 samples per beat instead of a minute of ECG.
// Storage is contiguous, oldest first, so a stretch is a view, not a copy; beats that have left the AF window
// are dropped in bulk when room is needed, and the buffers grow (doubling) only as far as the heart rate asks.

import {
  type PWaveConsistency,
  type SnippetGeometry,
  snippetConsistency,
  snippetGeometry,
  writeSnippet,
} from '../ecg/atrial.ts';

/** Beats room is made for at first (~a minute at 60/min, with the window's beats still to come). */
const INITIAL_BEATS = 64;

export class PWaveHistory {
  readonly geometry: SnippetGeometry;
  private samples: Float64Array;
  private values: Float32Array;
  private rrPrev: Float64Array;
  private eligible: Uint8Array;
  private count = 0;
  private lastGood = false;

  /**
   * `rateHz` is the stream's sampling rate; `maxBeats` bounds memory (the most beats a window can hold, as for
   * BeatHistory); `keepS` is how far back (s) from the newest beat beats are still wanted.
   */
  constructor(
    readonly rateHz: number,
    readonly maxBeats: number,
    readonly keepS: number,
  ) {
    this.geometry = snippetGeometry(rateHz);
    const n = Math.min(INITIAL_BEATS, maxBeats);
    this.samples = new Float64Array(n);
    this.values = new Float32Array(n * this.geometry.length);
    this.rrPrev = new Float64Array(n);
    this.eligible = new Uint8Array(n);
  }

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.count = 0;
    this.lastGood = false;
  }

  /**
   * Adds a reported beat at absolute sample `sample`, whose signal around it is in `segment` (segment[0] is
   * absolute sample `segmentStart`; missing samples NaN). `good`: clean and of the usual shape; `linked`:
   * nothing missing since the previous beat, which is then the one before it in this history.
   */
  add(
    sample: number,
    segment: ArrayLike<number>,
    segmentStart: number,
    good: boolean,
    linked: boolean,
    previous: number | undefined,
  ): void {
    this.makeRoom(sample - Math.round(this.keepS * this.rateHz));
    const slot = this.count;
    const length = this.geometry.length;
    writeSnippet(segment, sample - segmentStart, this.geometry, this.values, slot * length);
    this.samples[slot] = sample;
    const known = linked && previous !== undefined;
    this.rrPrev[slot] = known ? (sample - previous) / this.rateHz : Number.NaN;
    this.eligible[slot] = known && good && this.lastGood ? 1 : 0;
    this.lastGood = good;
    this.count++;
  }

  /** P-wave consistency of the beats at absolute samples [from, to). */
  consistency(from: number, to: number): PWaveConsistency {
    let a = 0;
    while (a < this.count && this.samples[a]! < from) a++;
    let b = a;
    while (b < this.count && this.samples[b]! < to) b++;
    const length = this.geometry.length;
    return snippetConsistency(
      {
        geometry: this.geometry,
        count: b - a,
        values: this.values.subarray(a * length, b * length),
        rrPrev: this.rrPrev.subarray(a, b),
        eligible: this.eligible.subarray(a, b),
      },
      this.rateHz,
    );
  }

  /** Ensures a free slot: drops beats before `keepFrom`, else grows, else drops the oldest beat. */
  private makeRoom(keepFrom: number): void {
    const capacity = this.samples.length;
    if (this.count < capacity) return;
    let stale = 0;
    while (stale < this.count && this.samples[stale]! < keepFrom) stale++;
    if (stale === 0 && capacity < this.maxBeats) {
      this.grow(Math.min(this.maxBeats, 2 * capacity));
      return;
    }
    this.drop(Math.max(1, stale));
  }

  private drop(n: number): void {
    const length = this.geometry.length;
    this.samples.copyWithin(0, n, this.count);
    this.values.copyWithin(0, n * length, this.count * length);
    this.rrPrev.copyWithin(0, n, this.count);
    this.eligible.copyWithin(0, n, this.count);
    this.count -= n;
  }

  private grow(capacity: number): void {
    const length = this.geometry.length;
    const samples = new Float64Array(capacity);
    const values = new Float32Array(capacity * length);
    const rrPrev = new Float64Array(capacity);
    const eligible = new Uint8Array(capacity);
    samples.set(this.samples.subarray(0, this.count));
    values.set(this.values.subarray(0, this.count * length));
    rrPrev.set(this.rrPrev.subarray(0, this.count));
    eligible.set(this.eligible.subarray(0, this.count));
    this.samples = samples;
    this.values = values;
    this.rrPrev = rrPrev;
    this.eligible = eligible;
  }
}
