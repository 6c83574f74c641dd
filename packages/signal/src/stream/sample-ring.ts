// Fixed-capacity ring of the most recent samples of a stream, addressed by absolute sample index (0 = first
// sample since the stream started). Missing samples are stored as NaN, and a running count of missing samples
// answers "was anything missing between these two samples?" in constant time.

export class SampleRing {
  private readonly values: Float64Array;
  /** Missing samples from the start of the stream up to and including each stored sample. */
  private readonly missingUpTo: Float64Array;
  private total = 0;
  private missingTotal = 0;

  constructor(readonly capacity: number) {
    this.values = new Float64Array(capacity);
    this.missingUpTo = new Float64Array(capacity);
  }

  /** Empties the ring for a new stream, keeping its memory. */
  clear(): void {
    this.total = 0;
    this.missingTotal = 0;
  }

  /** Absolute index of the next sample to be appended (= number appended so far). */
  get length(): number {
    return this.total;
  }

  /** Absolute index of the oldest sample still held. */
  get oldest(): number {
    return Math.max(0, this.total - this.capacity);
  }

  /** Appends one sample; NaN marks it missing. */
  push(value: number): void {
    const slot = this.total % this.capacity;
    if (Number.isNaN(value)) this.missingTotal++;
    this.values[slot] = value;
    this.missingUpTo[slot] = this.missingTotal;
    this.total++;
  }

  /** Copies samples [from, to) (absolute, must be held) into `out` from position 0. */
  copy(from: number, to: number, out: Float64Array): void {
    const a = from % this.capacity;
    const count = to - from;
    const first = Math.min(count, this.capacity - a);
    out.set(this.values.subarray(a, a + first), 0);
    if (count > first) out.set(this.values.subarray(0, count - first), first);
  }

  /**
   * Number of missing samples in the absolute range [from, to] (clipped to what is held); Infinity when part
   * of the range has already left the ring, so that the caller treats it as unknown.
   */
  missingBetween(from: number, to: number): number {
    const lo = Math.max(0, from);
    const hi = Math.min(this.total - 1, to);
    if (hi < lo) return 0;
    if (lo < this.oldest) return Number.POSITIVE_INFINITY;
    const before = lo > 0 && lo - 1 >= this.oldest ? this.missingUpTo[(lo - 1) % this.capacity]! : undefined;
    const upTo = this.missingUpTo[hi % this.capacity]!;
    if (before !== undefined) return upTo - before;
    // lo is the oldest sample held and its predecessor is gone: count lo itself explicitly.
    const atLo = this.missingUpTo[lo % this.capacity]!;
    return upTo - atLo + (Number.isNaN(this.values[lo % this.capacity]!) ? 1 : 0);
  }
}
