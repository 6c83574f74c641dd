import type { Store } from '../store/types.ts';

const DAY_MS = 24 * 3600 * 1000;
const PRUNE_EVERY = 1000;

/**
 * Remembers the Idempotency-Key of HTTPS batches per device for a day, in the database, so that an exact
 * copy inside a retried batch counts as a duplicate rather than a replay, also after a restart.
 */
export class IdempotencyKeys {
  private checks = 0;

  constructor(
    private readonly store: Store,
    private readonly ttlMs = DAY_MS,
  ) {}

  /** True when this device sent this key before, within the time to live (and records it). */
  async check(deviceId: string, key: string, nowMs: number): Promise<boolean> {
    const notBefore = new Date(nowMs - this.ttlMs).toISOString();
    if (++this.checks % PRUNE_EVERY === 0) await this.store.idempotency.prune(notBefore);
    return this.store.idempotency.seenBefore(deviceId, key, new Date(nowMs).toISOString(), notBefore);
  }
}
