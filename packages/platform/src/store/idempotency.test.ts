import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DisposableStore, openPgliteTempDir, storeBackends } from './testing.ts';

const at = (minutes: number) => new Date(Date.UTC(2026, 10, 28, 6, 0) + minutes * 60_000).toISOString();

describe.each(storeBackends())('idempotency keys ($name)', (backend) => {
  let store: DisposableStore;
  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  it('knows a key the second time, per device, until it expires', async () => {
    expect(await store.idempotency.seenBefore('dev-a', 'batch-1', at(0), at(-1440))).toBe(false);
    expect(await store.idempotency.seenBefore('dev-a', 'batch-1', at(1), at(-1439))).toBe(true);
    expect(await store.idempotency.seenBefore('dev-b', 'batch-1', at(1), at(-1439))).toBe(false);
    // A day later the first use has expired: the key counts as new again, and is then remembered anew.
    expect(await store.idempotency.seenBefore('dev-a', 'batch-1', at(1441), at(1))).toBe(false);
    expect(await store.idempotency.seenBefore('dev-a', 'batch-1', at(1442), at(2))).toBe(true);
    expect(await store.idempotency.prune(at(1441))).toBe(1); // dev-b's key
    expect(await store.idempotency.seenBefore('dev-b', 'batch-1', at(1443), at(3))).toBe(false);
  });
});

describe('idempotency keys across a restart', () => {
  it('are still known after the embedded database is closed and reopened', async () => {
    const dir = await openPgliteTempDir();
    try {
      const first = await dir.open();
      expect(await first.idempotency.seenBefore('dev', 'k-12345678', at(0), at(-10))).toBe(false);
      await first.close();
      const second = await dir.open();
      expect(await second.idempotency.seenBefore('dev', 'k-12345678', at(1), at(-9))).toBe(true);
      await second.close();
    } finally {
      await dir.remove();
    }
  });
});
