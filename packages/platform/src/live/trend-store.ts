/**
 * The vital_trends table (store/schema/009-trends.ts): minute buckets written in one UPSERT that merges
 * count, sum, minimum and maximum, and series read back aggregated into larger buckets in SQL.
 */
import type { Database } from '../store/types.ts';

/** One minute of one code of one patient. */
export interface TrendBucket {
  readonly patientId: string;
  readonly code: string;
  /** Start of the minute, epoch ms. */
  readonly bucket: number;
  n: number;
  sum: number;
  min: number;
  max: number;
}

export interface TrendPoint {
  /** Start of the bucket (ISO instant); buckets are aligned on multiples of their size since the epoch. */
  readonly t: string;
  readonly n: number;
  readonly avg: number;
  readonly min: number;
  readonly max: number;
}

export interface TrendRepository {
  /** Adds the buckets to what is stored (same key: counts and sums add, extremes widen), one statement. */
  upsert(buckets: readonly TrendBucket[]): Promise<void>;
  /**
   * The patient's series in [from, to) (epoch ms; from is moved back to the start of its bucket), in
   * buckets of `bucketSeconds` (a multiple of 60). Without codes: every code that has data.
   */
  trends(
    patientId: string,
    codes: readonly string[] | undefined,
    from: number,
    to: number,
    bucketSeconds: number,
  ): Promise<Record<string, TrendPoint[]>>;
}

const UPSERT_SQL = `
INSERT INTO vital_trends (patient_id, code, bucket, n, sum, min, max)
SELECT patient_id, code, bucket, n, sum, min, max
  FROM json_to_recordset($1::text::json)
    AS t(patient_id text, code text, bucket timestamptz, n integer, sum double precision,
         min double precision, max double precision)
ON CONFLICT (patient_id, code, bucket) DO UPDATE SET
  n = vital_trends.n + EXCLUDED.n,
  sum = vital_trends.sum + EXCLUDED.sum,
  min = LEAST(vital_trends.min, EXCLUDED.min),
  max = GREATEST(vital_trends.max, EXCLUDED.max)`;

// Bucket start = floor(epoch / size) * size: the same alignment whatever the window asked.
const SERIES_SQL = `
SELECT code,
       to_timestamp((floor(extract(epoch FROM bucket) / $5::integer) * $5::integer)::double precision) AS t,
       sum(n)::bigint AS n, sum(sum) AS sum, min(min) AS min, max(max) AS max
  FROM vital_trends
 WHERE patient_id = $1
   AND ($2::text[] IS NULL OR code = ANY($2::text[]))
   AND bucket >= $3::timestamptz AND bucket < $4::timestamptz
 GROUP BY code, t
 ORDER BY code, t`;

export function trendRepository(db: Database): TrendRepository {
  return {
    async upsert(buckets) {
      if (buckets.length === 0) return;
      const rows = buckets.map((b) => ({
        patient_id: b.patientId,
        code: b.code,
        bucket: new Date(b.bucket).toISOString(),
        n: b.n,
        sum: b.sum,
        min: b.min,
        max: b.max,
      }));
      await db.query(UPSERT_SQL, [JSON.stringify(rows)]);
    },

    async trends(patientId, codes, from, to, bucketSeconds) {
      const size = bucketSeconds * 1000;
      const alignedFrom = Math.floor(from / size) * size;
      const { rows } = await db.query<{
        code: string;
        t: string;
        n: number;
        sum: number;
        min: number;
        max: number;
      }>(SERIES_SQL, [
        patientId,
        codes ? [...codes] : null,
        new Date(alignedFrom).toISOString(),
        new Date(to).toISOString(),
        bucketSeconds,
      ]);
      const series: Record<string, TrendPoint[]> = {};
      for (const c of codes ?? []) series[c] = [];
      for (const r of rows) {
        const n = Number(r.n);
        const point = { t: r.t, n, avg: Number(r.sum) / n, min: Number(r.min), max: Number(r.max) };
        const list = series[r.code] ?? [];
        list.push(point);
        series[r.code] = list;
      }
      return series;
    },
  };
}
