/**
 * Readings and their Observations: the hot path. A batch is committed in one transaction with a single
 * set-based statement (arrays unnested server-side), so cost grows with bytes, not with round trips.
 */
import { decodeCursor, isUuid, pageLimit, requireInstant, toPage, Where } from './sql.ts';
import {
  type CommitOutcome,
  type Database,
  type Queryable,
  type ReadingToStore,
  type Store,
  StoreError,
} from './types.ts';

const key = (deviceId: string, seq: number) => `${deviceId}\u0000${seq}`;

/**
 * Inserts the readings (duplicates skipped by the primary key), the Observations of those actually stored,
 * and moves each device's high_seq, last_seen_at and status forward, all in one statement. Battery and
 * firmware change only with a reading newer than any stored before, so a late store-and-forward upload
 * cannot roll them back.
 */
const COMMIT_SQL = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::text::jsonb)
    AS t(device_id text, seq bigint, patient_id text, kid text, ts timestamptz, received_at timestamptz,
         via text, jws text, provenance jsonb, battery float8, firmware text)
),
stored AS (
  INSERT INTO readings (device_id, seq, patient_id, kid, ts, received_at, via, jws, provenance)
  SELECT device_id, seq, patient_id, kid, ts, received_at, via, jws, provenance FROM input
  ON CONFLICT (device_id, seq) DO NOTHING
  RETURNING device_id, seq, received_at
),
observed AS (
  INSERT INTO observations (id, device_id, seq, patient_id, code, effective, resource)
  SELECT o.id, o.device_id, o.seq, o.patient_id, o.code, o.effective, o.resource
    FROM jsonb_to_recordset($2::text::jsonb)
      AS o(id uuid, device_id text, seq bigint, patient_id text, code text, effective timestamptz, resource jsonb)
    JOIN stored s ON s.device_id = o.device_id AND s.seq = o.seq
),
latest AS (
  SELECT s.device_id,
         max(s.seq) AS max_seq,
         max(s.received_at) AS last_received,
         max(s.seq) FILTER (WHERE i.battery IS NOT NULL) AS battery_seq,
         (array_agg(i.battery ORDER BY s.seq DESC) FILTER (WHERE i.battery IS NOT NULL))[1] AS battery,
         max(s.seq) FILTER (WHERE i.firmware IS NOT NULL) AS firmware_seq,
         (array_agg(i.firmware ORDER BY s.seq DESC) FILTER (WHERE i.firmware IS NOT NULL))[1] AS firmware
    FROM stored s JOIN input i ON i.device_id = s.device_id AND i.seq = s.seq
   GROUP BY s.device_id
),
touched AS (
  UPDATE devices d
     SET high_seq = GREATEST(d.high_seq, l.max_seq),
         last_seen_at = GREATEST(d.last_seen_at, l.last_received),
         battery = CASE WHEN l.battery_seq > d.high_seq THEN l.battery ELSE d.battery END,
         firmware = CASE WHEN l.firmware_seq > d.high_seq THEN l.firmware ELSE d.firmware END
    FROM latest l
   WHERE d.id = l.device_id
)
SELECT device_id, seq FROM stored`;

/** Keeps the first reading of each (device, seq) in the batch; later ones are answered from it. */
function firstOfEach(batch: readonly ReadingToStore[]): ReadingToStore[] {
  const seen = new Set<string>();
  return batch.filter((r) => {
    const k = key(r.deviceId, r.seq);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function validate(r: ReadingToStore, i: number): void {
  if (!Number.isSafeInteger(r.seq) || r.seq < 1)
    throw new StoreError('invalid', `reading ${i}: seq must be a positive integer`, `/${i}/seq`);
  requireInstant(r.ts, `/${i}/ts`);
  requireInstant(r.receivedAt, `/${i}/receivedAt`);
  r.observations.forEach((o, j) => {
    if (!isUuid(o.id))
      throw new StoreError(
        'invalid',
        `reading ${i}: observation id must be a UUID`,
        `/${i}/observations/${j}/id`,
      );
    requireInstant(o.effective, `/${i}/observations/${j}/effective`);
  });
}

function commitParams(readings: readonly ReadingToStore[]): unknown[] {
  const rows = readings.map((r) => ({
    device_id: r.deviceId,
    seq: r.seq,
    patient_id: r.patientId,
    kid: r.kid,
    ts: r.ts,
    received_at: r.receivedAt,
    via: r.via,
    jws: r.jws,
    provenance: r.provenance,
    battery: r.status?.battery ?? null,
    firmware: r.status?.firmware ?? null,
  }));
  const obs = readings.flatMap((r) =>
    r.observations.map((o) => ({
      id: o.id,
      device_id: r.deviceId,
      seq: r.seq,
      patient_id: r.patientId,
      code: o.code,
      effective: o.effective,
      resource: o.resource,
    })),
  );
  return [JSON.stringify(rows), JSON.stringify(obs)];
}

/** Locks the batch's device rows in id order so concurrent batches on PostgreSQL cannot deadlock. */
async function lockDevices(tx: Queryable, readings: readonly ReadingToStore[]): Promise<void> {
  const ids = [...new Set(readings.map((r) => r.deviceId))].sort();
  await tx.query('SELECT 1 FROM devices WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE', [ids]);
}

async function existingJws(tx: Queryable, missing: readonly ReadingToStore[]): Promise<Map<string, string>> {
  const { rows } = await tx.query<{ device_id: string; seq: number; jws: string }>(
    `SELECT r.device_id, r.seq, r.jws
       FROM readings r JOIN unnest($1::text[], $2::bigint[]) AS m(device_id, seq)
         ON r.device_id = m.device_id AND r.seq = m.seq`,
    [missing.map((r) => r.deviceId), missing.map((r) => r.seq)],
  );
  return new Map(rows.map((row) => [key(row.device_id, row.seq), row.jws]));
}

export function readingsRepository(db: Database): Store['readings'] {
  return {
    async commit(batch) {
      if (batch.length === 0) return [];
      batch.forEach(validate);
      const unique = firstOfEach(batch);
      const { stored, existing } = await db.transaction(async (tx) => {
        // PGlite has one connection, so there is nobody to deadlock with.
        if (db.kind === 'postgres') await lockDevices(tx, unique);
        const { rows } = await tx.query<{ device_id: string; seq: number }>(COMMIT_SQL, commitParams(unique));
        const stored = new Set(rows.map((r) => key(r.device_id, r.seq)));
        const missing = unique.filter((r) => !stored.has(key(r.deviceId, r.seq)));
        return { stored, existing: missing.length === 0 ? new Map() : await existingJws(tx, missing) };
      });
      const firstJws = new Map(unique.map((r) => [key(r.deviceId, r.seq), r.jws]));
      const answered = new Set<string>();
      return batch.map((r): CommitOutcome => {
        const k = key(r.deviceId, r.seq);
        const isFirst = !answered.has(k);
        answered.add(k);
        if (isFirst && stored.has(k)) return { stored: true };
        // A later duplicate in the batch is answered with what is now stored under that key.
        const jws = stored.has(k) ? firstJws.get(k) : existing.get(k);
        if (jws === undefined) throw new Error(`reading ${k} was neither stored nor found`);
        return { stored: false, existingJws: jws };
      });
    },

    async get(deviceId, seq) {
      const { rows } = await db.query<{ jws: string; patient_id: string; received_at: string }>(
        'SELECT jws, patient_id, received_at FROM readings WHERE device_id = $1 AND seq = $2',
        [deviceId, seq],
      );
      const r = rows[0];
      return r === undefined ? undefined : { jws: r.jws, patientId: r.patient_id, receivedAt: r.received_at };
    },

    async highSeq(deviceId) {
      const { rows } = await db.query<{ high: number }>(
        'SELECT COALESCE(max(seq), 0) AS high FROM readings WHERE device_id = $1',
        [deviceId],
      );
      return rows[0]?.high ?? 0;
    },

    async count(deviceId) {
      const { rows } =
        deviceId === undefined
          ? await db.query<{ n: number }>('SELECT count(*) AS n FROM readings')
          : await db.query<{ n: number }>('SELECT count(*) AS n FROM readings WHERE device_id = $1', [
              deviceId,
            ]);
      return rows[0]?.n ?? 0;
    },

    async provenance(deviceId, seq) {
      const { rows } = await db.query<{ provenance: Record<string, unknown> }>(
        'SELECT provenance FROM readings WHERE device_id = $1 AND seq = $2',
        [deviceId, seq],
      );
      return rows[0]?.provenance;
    },
  };
}

export function observationsRepository(db: Database): Store['observations'] {
  return {
    /** Oldest first by effective time (a time series reads forward); keyset on (effective, id). */
    async list(q) {
      const limit = pageLimit(q.limit);
      const where = new Where();
      if (q.patientId !== undefined) where.add('patient_id = ?', q.patientId);
      if (q.deviceId !== undefined) where.add('device_id = ?', q.deviceId);
      if (q.code !== undefined) where.add('code = ?', q.code);
      if (q.from !== undefined) where.add('effective >= ?::timestamptz', requireInstant(q.from, 'from'));
      if (q.to !== undefined) where.add('effective < ?::timestamptz', requireInstant(q.to, 'to'));
      if (q.cursor !== undefined) {
        const cursor = decodeCursor(q.cursor);
        if (!isUuid(cursor.id))
          throw new StoreError('invalid', 'cursor is not one this server issued', 'cursor');
        where.after('effective', 'id', cursor, 'asc', 'uuid');
      }
      const { rows } = await db.query<{ id: string; effective: string; resource: Record<string, unknown> }>(
        `SELECT id, effective, resource FROM observations ${where}
          ORDER BY effective, id LIMIT ${where.param(limit + 1)}`,
        where.params,
      );
      return toPage(
        rows,
        limit,
        (r) => r.resource,
        (r) => ({ at: r.effective, id: r.id }),
      );
    },

    async get(id) {
      if (!isUuid(id)) return undefined;
      const { rows } = await db.query<{ resource: Record<string, unknown> }>(
        'SELECT resource FROM observations WHERE id = $1',
        [id],
      );
      return rows[0]?.resource;
    },
  };
}
