/**
 * The FHIR search of Observations beyond the store's plain list: any number of date conditions with FHIR
 * prefixes (including `ne`, which is a disjunction), `_lastUpdated`, newest-first sorting, counting, and
 * `$lastn` (the newest N per code). Device Observations are a view of the signed readings (fhir-view.ts);
 * derived and manually entered ones are kept whole in derived_observations. Both tables are searched the
 * same way, each on its (patient_id, code, effective) and (effective, id) indexes, and merged.
 *
 * `lastUpdated` of a device Observation is when its reading was received (it never changes); of a stored
 * one its meta.lastUpdated, else when its window's Provenance was recorded (derived Observations are stored
 * as they are made; STORED_LAST_UPDATED_SQL). Either is served as meta.lastUpdated.
 */
import { type DateCondition, dateSql } from '../fhir/search-params.ts';
import { STORED_LAST_UPDATED_SQL } from './derived.ts';
import { observationsOf, withLastUpdated } from './fhir-view.ts';
import { decodeCursor, encodeCursor, isUuid } from './sql.ts';
import { type Database, type Page, type Queryable, StoreError } from './types.ts';

export interface ObservationSearch {
  readonly patientId?: string;
  /** Any of these patients; empty matches nothing. */
  readonly patientIds?: readonly string[];
  readonly deviceId?: string;
  /** Any of these index codes; empty matches nothing. */
  readonly codes?: readonly string[];
  readonly ids?: readonly string[];
  /** ANDed conditions on the effective time. */
  readonly dates?: readonly DateCondition[];
  readonly lastUpdated?: readonly DateCondition[];
  readonly sort?: 'asc' | 'desc';
  readonly limit: number;
  readonly cursor?: string;
}

/** The two tables and how each names the columns a search filters on. */
const TABLES = {
  device: {
    from: 'observations o JOIN readings r ON r.device_id = o.device_id AND r.seq = o.seq',
    select:
      'o.id, o.effective, o.code, o.patient_id, o.device_id, o.seq, NULL::jsonb AS resource, r.jws, r.received_at',
    col: (c: string) => `o.${c}`,
    lastUpdated: 'r.received_at',
  },
  stored: {
    from: 'derived_observations d',
    select: `d.id, d.effective, d.code, d.patient_id, d.device_id, NULL::bigint AS seq, d.resource, NULL::text AS jws, ${STORED_LAST_UPDATED_SQL} AS received_at`,
    col: (c: string) => `d.${c}`,
    lastUpdated: STORED_LAST_UPDATED_SQL,
  },
} as const;

interface Row {
  id: string;
  effective: string;
  code: string;
  patient_id: string;
  device_id: string;
  seq: number | null;
  resource: Record<string, unknown> | null;
  jws: string | null;
  /** When the row was stored: the reading's receipt, or a stored Observation's last update. */
  received_at: string;
}

function conditions(
  q: Omit<ObservationSearch, 'limit' | 'cursor' | 'sort'>,
  t: (typeof TABLES)[keyof typeof TABLES],
  params: unknown[],
): string {
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const out: string[] = [];
  if (q.patientId !== undefined) out.push(`${t.col('patient_id')} = ${p(q.patientId)}`);
  if (q.patientIds !== undefined) out.push(`${t.col('patient_id')} = ANY(${p([...q.patientIds])}::text[])`);
  if (q.deviceId !== undefined) out.push(`${t.col('device_id')} = ${p(q.deviceId)}`);
  if (q.codes !== undefined) out.push(`${t.col('code')} = ANY(${p([...q.codes])}::text[])`);
  if (q.ids !== undefined) out.push(`${t.col('id')} = ANY(${p(q.ids.filter(isUuid))}::uuid[])`);
  for (const c of q.dates ?? []) out.push(dateSql(t.col('effective'), c, p));
  for (const c of q.lastUpdated ?? []) out.push(dateSql(t.lastUpdated, c, p));
  return out.length === 0 ? 'TRUE' : out.join(' AND ');
}

/** A stored row as its FHIR resource, with meta.lastUpdated. */
function resourcesOf(rows: readonly Row[]): Record<string, unknown>[] {
  const device = rows.filter((r) => r.resource === null);
  const made = observationsOf(
    device.map((r) => ({
      id: r.id,
      device_id: r.device_id,
      seq: r.seq as number,
      jws: r.jws as string,
      patient_id: r.patient_id,
      received_at: r.received_at,
    })),
  );
  const byId = new Map(device.map((r, i) => [r.id, made[i] as Record<string, unknown>]));
  return rows.map((r) =>
    withLastUpdated(r.resource ?? (byId.get(r.id) as Record<string, unknown>), r.received_at),
  );
}

export interface ObservationSearchRepository {
  search(q: ObservationSearch): Promise<Page<Record<string, unknown>>>;
  count(q: Omit<ObservationSearch, 'limit' | 'cursor' | 'sort'>): Promise<number>;
  /** The newest `max` Observations of each code for a patient, newest first within each code. */
  lastn(patientId: string, codes: readonly string[], max: number): Promise<Record<string, unknown>[]>;
  get(id: string): Promise<Record<string, unknown> | undefined>;
}

export function observationSearchRepository(db: Database): ObservationSearchRepository {
  return {
    async search(q) {
      const dir = q.sort === 'desc' ? 'DESC' : 'ASC';
      const params: unknown[] = [];
      let keyset = '';
      const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      if (cursor && !isUuid(cursor.id))
        throw new StoreError('invalid', 'cursor is not one this server issued', '_cursor');
      const halves = (['device', 'stored'] as const).map((name) => {
        const t = TABLES[name];
        const where = conditions(q, t, params);
        if (cursor) {
          params.push(cursor.at, cursor.id);
          const op = dir === 'ASC' ? '>' : '<';
          keyset = ` AND (${t.col('effective')}, ${t.col('id')}) ${op} ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
        }
        return { t, where: where + keyset };
      });
      params.push(q.limit + 1);
      const n = `$${params.length}`;
      const order = (t: (typeof TABLES)[keyof typeof TABLES]) =>
        `${t.col('effective')} ${dir}, ${t.col('id')} ${dir}`;
      const sql = halves
        .map(
          ({ t, where }) =>
            `(SELECT ${t.select} FROM ${t.from} WHERE ${where} ORDER BY ${order(t)} LIMIT ${n})`,
        )
        .join(' UNION ALL ');
      const { rows } = await db.query<Row>(`${sql} ORDER BY effective ${dir}, id ${dir} LIMIT ${n}`, params);
      const kept = rows.slice(0, q.limit);
      const last = kept[kept.length - 1];
      const items = resourcesOf(kept);
      return rows.length > q.limit && last
        ? { items, next: encodeCursor({ at: new Date(last.effective).toISOString(), id: last.id }) }
        : { items };
    },

    async count(q) {
      const params: unknown[] = [];
      const device = conditions(q, TABLES.device, params);
      const stored = conditions(q, TABLES.stored, params);
      const { rows } = await db.query<{ n: string | number }>(
        `SELECT (SELECT count(*) FROM ${TABLES.device.from} WHERE ${device})
              + (SELECT count(*) FROM ${TABLES.stored.from} WHERE ${stored}) AS n`,
        params,
      );
      return Number(rows[0]?.n ?? 0);
    },

    async lastn(patientId, codes, max) {
      if (codes.length === 0) return [];
      // One index probe per code, newest first: the cost is codes × max rows, not the patient's history.
      const { rows } = await db.query<Row>(
        `SELECT o.id, o.effective, o.code, o.patient_id, o.device_id, o.seq, NULL::jsonb AS resource, r.jws, r.received_at
           FROM unnest($2::text[]) AS c(code)
           CROSS JOIN LATERAL (SELECT id, effective, code, patient_id, device_id, seq FROM observations
                                WHERE patient_id = $1 AND code = c.code
                                ORDER BY effective DESC, id DESC LIMIT $3) o
           JOIN readings r ON r.device_id = o.device_id AND r.seq = o.seq
         UNION ALL
         SELECT d.id, d.effective, d.code, d.patient_id, d.device_id, NULL::bigint, d.resource, NULL::text,
                ${STORED_LAST_UPDATED_SQL}
           FROM unnest($2::text[]) AS c(code)
           CROSS JOIN LATERAL (SELECT * FROM derived_observations
                                WHERE patient_id = $1 AND code = c.code
                                ORDER BY effective DESC, id DESC LIMIT $3) d
         ORDER BY code, effective DESC, id DESC`,
        [patientId, [...codes], max],
      );
      const perCode = new Map<string, number>();
      const kept = rows.filter((r) => {
        const seen = perCode.get(r.code) ?? 0;
        perCode.set(r.code, seen + 1);
        return seen < max;
      });
      return resourcesOf(kept);
    },

    async get(id) {
      if (!isUuid(id)) return undefined;
      const { rows } = await db.query<Row>(
        `(SELECT ${TABLES.device.select} FROM ${TABLES.device.from} WHERE o.id = $1)
         UNION ALL (SELECT ${TABLES.stored.select} FROM ${TABLES.stored.from} WHERE d.id = $1)`,
        [id],
      );
      return rows.length === 0 ? undefined : resourcesOf(rows.slice(0, 1))[0];
    },
  };
}

/** An Observation entered by a person (no device): kept whole, with its Provenance naming who entered it. */
export interface EnteredObservation {
  readonly id: string;
  readonly patientId: string;
  readonly code: string;
  readonly effective: string;
  readonly resource: Record<string, unknown>;
  readonly provenance: Record<string, unknown>;
}

/**
 * Stores entered Observations in the caller's transaction, beside the derived ones (no device: device_id is
 * empty, which no device search matches), so they take part in search and $lastn like any other.
 */
export async function insertEntered(tx: Queryable, items: readonly EnteredObservation[]): Promise<void> {
  if (items.length === 0) return;
  await tx.query(
    `INSERT INTO derived_observations (id, patient_id, device_id, code, effective, resource, provenance)
     SELECT id, patient_id, '', code, effective, resource, provenance
       FROM json_to_recordset($1::text::json)
         AS t(id uuid, patient_id text, code text, effective timestamptz, resource jsonb, provenance jsonb)`,
    [
      JSON.stringify(
        items.map((o) => ({
          id: o.id,
          patient_id: o.patientId,
          code: o.code,
          effective: o.effective,
          resource: o.resource,
          provenance: o.provenance,
        })),
      ),
    ],
  );
}
