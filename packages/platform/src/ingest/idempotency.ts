/**
 * Remembers the Idempotency-Key of recent HTTPS batches per device, so that an exact copy inside a retried
 * batch counts as a duplicate rather than a replay. Bounded in size and age; after a restart a retried
 * batch's copies are refused as replays, which loses nothing (the originals are stored).
 */
export class IdempotencyKeys {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ttlMs = 24 * 3600 * 1000,
    private readonly maxEntries = 100_000,
  ) {}

  /** True when this device sent this key before (and records it). */
  check(deviceId: string, key: string, nowMs: number): boolean {
    const id = `${deviceId}\u0000${key}`;
    const expires = this.seen.get(id);
    const seenBefore = expires !== undefined && expires > nowMs;
    this.seen.delete(id);
    this.seen.set(id, nowMs + this.ttlMs);
    while (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
    return seenBefore;
  }
}
