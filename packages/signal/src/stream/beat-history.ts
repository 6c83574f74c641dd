// Bounded history of the beats a stream has reported, with what is needed to turn them into RR intervals:
// whether each beat is trustworthy ("good": clean signal, usual shape) and whether the interval from the
// previous beat is unbroken ("linked": no missing samples between them). Oldest beats are dropped first.

/** Plausible RR range (s): 300 down to 20 /min. */
export const MIN_RR_S = 0.2;
export const MAX_RR_S = 3;

export interface RrInterval {
  /** Absolute sample index of the beat that ends the interval. */
  end: number;
  /** Interval in seconds. */
  seconds: number;
  /** Both beats good, linked, and the interval plausible. */
  valid: boolean;
}

export class BeatHistory {
  private readonly index: Float64Array;
  private readonly good: Uint8Array;
  private readonly linked: Uint8Array;
  private count = 0;
  private head = 0; // slot of the oldest beat

  constructor(readonly capacity: number) {
    this.index = new Float64Array(capacity);
    this.good = new Uint8Array(capacity);
    this.linked = new Uint8Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Absolute sample index of the latest beat, or undefined. */
  get last(): number | undefined {
    return this.count > 0 ? this.index[(this.head + this.count - 1) % this.capacity] : undefined;
  }

  add(sample: number, good: boolean, linked: boolean): void {
    if (this.count === this.capacity) {
      this.head = (this.head + 1) % this.capacity;
      this.count--;
    }
    const slot = (this.head + this.count) % this.capacity;
    this.index[slot] = sample;
    this.good[slot] = good ? 1 : 0;
    this.linked[slot] = linked ? 1 : 0;
    this.count++;
  }

  clear(): void {
    this.count = 0;
    this.head = 0;
  }

  /** RR intervals (in time order) whose ending beat lies in [from, to) (absolute sample indices). */
  intervals(from: number, to: number, rateHz: number): RrInterval[] {
    const out: RrInterval[] = [];
    for (let k = 1; k < this.count; k++) {
      const slot = (this.head + k) % this.capacity;
      const end = this.index[slot]!;
      if (end < from || end >= to) continue;
      const prev = (this.head + k - 1) % this.capacity;
      const seconds = (end - this.index[prev]!) / rateHz;
      const valid =
        this.linked[slot] === 1 &&
        this.good[slot] === 1 &&
        this.good[prev] === 1 &&
        seconds >= MIN_RR_S &&
        seconds <= MAX_RR_S;
      out.push({ end, seconds, valid });
    }
    return out;
  }
}
