export interface BackoffOptions {
  /** First delay. Default 500 ms. */
  readonly minMs?: number;
  /** Largest delay. Default 30 s. */
  readonly maxMs?: number;
}

/** Exponential backoff with jitter, so a fleet coming back after an outage does not reconnect in step. */
export class Backoff {
  private attempt = 0;
  private readonly minMs: number;
  private readonly maxMs: number;

  constructor(opts: BackoffOptions = {}) {
    this.minMs = opts.minMs ?? 500;
    this.maxMs = opts.maxMs ?? 30_000;
    if (!(this.minMs > 0) || !(this.maxMs >= this.minMs)) throw new Error('backoff needs 0 < minMs <= maxMs');
  }

  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}
