/**
 * Readings and their Observations: the hot path. A batch is committed in one transaction by a single
 * set-based statement, so the cost grows with bytes, not with round trips. The batch travels as two JSON
 * documents (readings, observation index rows). Measured (bench/commit.bench.ts) against text[] arrays with
 * unnest (slow array escaping in the drivers) and against jsonb_to_recordset. Only the signed JWS is
 * stored; FHIR resources are derived on read (fhir-view.ts), which cut the bytes written per reading by
 * about four (the JWS, the Observations' JSON and the Provenance's base64 copy of the JWS were each stored).
 */
import { derivedObservationsRepository, STORED_LAST_UPDATED_SQL } from './derived.ts';
import {
  AN_OBSERVATION_ID_SQL,
  fhirView,
  observationsOf,
  provenanceWithLastUpdated,
  type StoredReadingRow,
  withLastUpdated,
} from './fhir-view.ts';
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
  SELECT * FROM json_to_recordset($1::text::json)
    AS t(device_id text, seq bigint, patient_id text, kid text, ts timestamptz, received_at timestamptz,
         via text, jws text, battery float8, firmware text)
),
stored AS (
  INSERT INTO readings (device_id, seq, patient_id, kid, ts, received_at, via, jws)
  SELECT device_id, seq, patient_id, kid, ts, received_at, via, jws FROM input
  ON CONFLICT (device_id, seq) DO NOTHING
  RETURNING device_id, seq, received_at
),
observed AS (
  INSERT INTO observations (id, device_id, seq, patient_id, code, effective)
  SELECT o.id, o.device_id, o.seq, o.patient_id, o.code, o.effective
    FROM json_to_recordset($2::text::json)
      AS o(id uuid, device_id text, seq bigint, patient_id text, code text, effective timestamptz)
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
      const write = async (tx: Queryable) => {
        const { rows } = await tx.query<{ device_id: string; seq: number }>(COMMIT_SQL, commitParams(unique));
        const stored = new Set(rows.map((r) => key(r.device_id, r.seq)));
        const missing = unique.filter((r) => !stored.has(key(r.deviceId, r.seq)));
        // Stored readings never change, so the duplicates' JWS may be read after the commit too.
        return { stored, existing: missing.length === 0 ? new Map() : await existingJws(tx, missing) };
      };
      // PGlite has one connection, so there is nobody to deadlock with, and the one statement is atomic on
      // its own: no BEGIN/COMMIT round trips. PostgreSQL locks the devices' rows first (lockDevices).
      const { stored, existing } =
        db.kind === 'postgres'
          ? await db.transaction(async (tx) => {
              await lockDevices(tx, unique);
              return write(tx);
            })
          : await write(db);
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
      const { rows } = await db.query<StoredReadingRow>(
        `SELECT r.jws, r.patient_id, r.received_at, ${AN_OBSERVATION_ID_SQL} AS observation_id
           FROM readings r WHERE r.device_id = $1 AND r.seq = $2`,
        [deviceId, seq],
      );
      const row = rows[0];
      return row ? (fhirView(row).provenance as unknown as Record<string, unknown>) : undefined;
    },
  };
}

export function observationsRepository(db: Database): Store['observations'] {
  return {
    /**
     * Oldest first by effective time (a time series reads forward); keyset on (effective, id). Device and
     * derived Observations are one list: each table yields its first limit+1 matches in that order (on its
     * own (effective, id) index) and the union is cut to limit+1, so paging stays exact across both.
     */
    async list(q) {
      const limit = pageLimit(q.limit);
      const where = new Where();
      if (q.patientId !== undefined) where.add('patient_id = ?', q.patientId);
      if (q.patientIds !== undefined) where.add('patient_id = ANY(?::text[])', [...q.patientIds]);
      if (q.deviceId !== undefined) where.add('device_id = ?', q.deviceId);
      if (q.code !== undefined) where.add('code = ?', q.code);
      if (q.codes !== undefined) where.add('code = ANY(?::text[])', [...q.codes]);
      if (q.from !== undefined) where.add('effective >= ?::timestamptz', requireInstant(q.from, 'from'));
      if (q.to !== undefined) where.add('effective < ?::timestamptz', requireInstant(q.to, 'to'));
      if (q.cursor !== undefined) {
        const cursor = decodeCursor(q.cursor);
        if (!isUuid(cursor.id))
          throw new StoreError('invalid', 'cursor is not one this server issued', 'cursor');
        where.after('effective', 'id', cursor, 'asc', 'uuid');
      }
      const n = where.param(limit + 1);
      const { rows } = await db.query<ListedRow>(
        `(SELECT id, effective, device_id, seq, NULL::jsonb AS resource, NULL::timestamptz AS last_updated
            FROM observations ${where}
           ORDER BY effective, id LIMIT ${n})
         UNION ALL
         (SELECT id, effective, device_id, NULL::bigint AS seq, resource, ${STORED_LAST_UPDATED_SQL} AS last_updated
            FROM derived_observations d ${where}
           ORDER BY effective, id LIMIT ${n})
         ORDER BY effective, id LIMIT ${n}`,
        where.params,
      );
      const page = rows.slice(0, limit);
      const fromDevices = await withReadings(
        db,
        page.filter((r): r is ListedRow & { seq: number } => r.resource === null),
      );
      const resources = observationsOf(fromDevices);
      // A device Observation was last updated when its reading was received (it never changes after).
      const byId = new Map<string, Record<string, unknown>>(
        fromDevices.map((r, i) => [
          r.id,
          withLastUpdated(resources[i] as Record<string, unknown>, r.received_at),
        ]),
      );
      return toPage(
        rows,
        limit,
        (r) =>
          r.resource === null
            ? (byId.get(r.id) as Record<string, unknown>)
            : withLastUpdated(r.resource, r.last_updated ?? undefined),
        (r) => ({ at: r.effective, id: r.id }),
      );
    },

    async get(id) {
      if (!isUuid(id)) return undefined;
      const { rows } = await db.query<{ id: string; device_id: string; seq: number }>(
        'SELECT id, device_id, seq FROM observations WHERE id = $1',
        [id],
      );
      if (rows.length > 0) {
        const [row] = await withReadings(db, rows);
        return row && withLastUpdated(observationsOf([row])[0] as Record<string, unknown>, row.received_at);
      }
      return derivedObservationsRepository(db).get(id);
    },

    async provenanceOf(observationId) {
      if (!isUuid(observationId)) return undefined;
      const { rows } = await db.query<StoredReadingRow>(
        `SELECT r.jws, r.patient_id, r.received_at, o.id AS observation_id
           FROM observations o JOIN readings r ON r.device_id = o.device_id AND r.seq = o.seq
          WHERE o.id = $1`,
        [observationId],
      );
      const row = rows[0];
      if (row)
        return provenanceWithLastUpdated(fhirView(row).provenance as unknown as Record<string, unknown>);
      return derivedObservationsRepository(db).provenanceOf(observationId);
    },
  };
}

interface ListedRow {
  id: string;
  effective: string;
  device_id: string;
  seq: number | null;
  resource: Record<string, unknown> | null;
  /** Derived rows: when stored (STORED_LAST_UPDATED_SQL); device rows take their reading's received_at. */
  last_updated: string | null;
}

/** Joins observation index rows with the stored readings they come from. */
async function withReadings<T extends { id: string; device_id: string; seq: number }>(
  db: Database,
  rows: readonly T[],
): Promise<(T & { jws: string; patient_id: string; received_at: string })[]> {
  if (rows.length === 0) return [];
  const { rows: readings } = await db.query<{
    device_id: string;
    seq: number;
    jws: string;
    patient_id: string;
    received_at: string;
  }>(
    `SELECT r.device_id, r.seq, r.jws, r.patient_id, r.received_at
       FROM readings r JOIN unnest($1::text[], $2::bigint[]) AS k(device_id, seq)
         ON r.device_id = k.device_id AND r.seq = k.seq`,
    [rows.map((r) => r.device_id), rows.map((r) => r.seq)],
  );
  const byKey = new Map(readings.map((r) => [key(r.device_id, r.seq), r]));
  return rows.map((r) => {
    const reading = byKey.get(key(r.device_id, r.seq));
    if (!reading) throw new Error(`observation ${r.id} has no stored reading`);
    return { ...r, jws: reading.jws, patient_id: reading.patient_id, received_at: reading.received_at };
  });
}
