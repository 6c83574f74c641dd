/**
 * Group commit: items submitted while a flush is running wait and go together in the next flush. At low
 * load each item is flushed alone at once (no timer adds latency); under load batches grow by themselves,
 * which is what lets one database transaction make hundreds of readings durable. With `maxInFlight` > 1
 * (a database with several connections) that many flushes overlap; each item is in exactly one flush.
 */
export class GroupCommitter<T, R> {
  private queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private running = 0;
  /** Settles when the latest flush's items have been answered: answers go out in submission order. */
  private answered: Promise<void> = Promise.resolve();
  private idle: (() => void)[] = [];

  constructor(
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly maxBatch = 500,
    private readonly maxInFlight = 1,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.running < this.maxInFlight) void this.drain();
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Resolves when nothing is queued or being flushed. */
  async settled(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private async drain(): Promise<void> {
    this.running++;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      const previous = this.answered;
      let answeredThis!: () => void;
      this.answered = new Promise<void>((r) => {
        answeredThis = r;
      });
      let results: R[] | undefined;
      let error: unknown;
      try {
        results = await this.flush(batch.map((b) => b.item));
      } catch (e) {
        error = e;
      }
      // Overlapping flushes may finish out of order; callers (and the bus after them) must not see that.
      await previous;
      if (results) for (const [i, b] of batch.entries()) b.resolve(results[i] as R);
      else for (const b of batch) b.reject(error);
      answeredThis();
    }
    this.running--;
    if (this.running === 0) for (const done of this.idle.splice(0)) done();
  }
}
