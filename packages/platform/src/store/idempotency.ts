/** Idempotency-Keys of HTTPS reading batches: one row per (device, key), refreshed when expired. */
import type { Database, Store } from './types.ts';

export function idempotencyRepository(db: Database): Store['idempotency'] {
  return {
    async seenBefore(deviceId, key, now, notBefore) {
      // A row comes back when the key is new or its earlier use has expired; none when it is a live repeat.
      const { rows } = await db.query(
        `INSERT INTO idempotency_keys (device_id, key, first_seen) VALUES ($1, $2, $3)
         ON CONFLICT (device_id, key) DO UPDATE SET first_seen = EXCLUDED.first_seen
           WHERE idempotency_keys.first_seen < $4
         RETURNING 1`,
        [deviceId, key, now, notBefore],
      );
      return rows.length === 0;
    },

    async prune(before) {
      const { rows } = await db.query('DELETE FROM idempotency_keys WHERE first_seen < $1 RETURNING 1', [
        before,
      ]);
      return rows.length;
    },
  };
}
