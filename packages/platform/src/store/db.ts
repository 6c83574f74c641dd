/**
 * The two database adapters behind the storage port: PGlite (embedded PostgreSQL in WebAssembly, a data
 * folder or memory) and node-postgres (a PostgreSQL server). Both run the same SQL and hand back rows with
 * the same JavaScript types:
 *   - timestamptz  → ISO 8601 string in UTC with milliseconds (`2025-01-02T03:04:05.678Z`); the session time
 *                    zone is UTC and columns are timestamptz(3), so what is read back round-trips exactly;
 *   - bigint (int8) → number (sequence numbers and counts stay far below 2^53);
 *   - jsonb → parsed value; bytea → Uint8Array (a Buffer on PostgreSQL, which is a Uint8Array).
 */
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import pg from 'pg';
import { connectError, connectTimeout, DEFAULT_CONNECT_TIMEOUT_S } from './connect-error.ts';
import { PG_PARSERS_OIDS, parseInt8, parseTimestamptz } from './pg-types.ts';
import { openPgliteThread } from './pglite-thread.ts';
import type { Database, Queryable } from './types.ts';

export interface OpenDatabaseOptions {
  /** postgres:// URL: use a PostgreSQL server. */
  readonly url?: string;
  /** PGlite data folder (created when missing). */
  readonly dataDir?: string;
  /** PGlite in memory (lost at close); the default when neither url nor dataDir is given. */
  readonly memory?: boolean;
  /** PostgreSQL pool size (default 10). */
  readonly poolSize?: number;
  /**
   * PostgreSQL: how long the first connection may take before opening fails (default 10 s). Only that one:
   * a pooled connection may wait as long as the load makes it.
   */
  readonly connectTimeoutMs?: number;
  /** Run PGlite on its own worker thread (what the platform does, so storage gets its own core). */
  readonly pgliteThread?: boolean;
}

const OID_INT8 = PG_PARSERS_OIDS.int8;
const OID_TIMESTAMPTZ = PG_PARSERS_OIDS.timestamptz;

export { parseTimestamptz };

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.url !== undefined) {
    if (opts.dataDir !== undefined || opts.memory)
      throw new Error('give either url or dataDir/memory, not both');
    return openPostgres(
      opts.url,
      opts.poolSize ?? 10,
      opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_S * 1000,
    );
  }
  if (opts.dataDir !== undefined && opts.memory) throw new Error('give either dataDir or memory, not both');
  return opts.pgliteThread ? openPgliteThread(opts.dataDir) : openPglite(opts.dataDir);
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  const options = {
    extensions: { btree_gist },
    parsers: { [OID_TIMESTAMPTZ]: parseTimestamptz, [OID_INT8]: parseInt8 },
  };
  const db = dataDir === undefined ? await PGlite.create(options) : await PGlite.create(dataDir, options);
  await db.exec(`SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'`);
  const query = async <R>(sql: string, params?: readonly unknown[]) => {
    const r = await db.query<R>(sql, params as unknown[] | undefined);
    return { rows: r.rows };
  };
  return {
    kind: 'pglite',
    query,
    // PGlite has one connection; its transaction() holds an exclusive lock for the whole BEGIN..COMMIT, and
    // every top-level query waits for that lock, so no caller's statement can land inside another's
    // transaction. Inside fn use only `tx`: calling the Database itself there would wait forever.
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
      db.transaction(async (tx) =>
        fn({
          query: async <R>(sql: string, params?: readonly unknown[]) => {
            const r = await tx.query<R>(sql, params as unknown[] | undefined);
            return { rows: r.rows };
          },
        }),
      ),
    close: async () => {
      if (!db.closed) await db.close();
    },
  };
}

/** Not exported by pg's typings under this name; the structural shape node-postgres calls. */
type TypeParser = (text: string) => unknown;

/**
 * Connects once, within `timeoutMs`, so that a server that cannot be reached, refuses us or never answers
 * fails the start in one line, with what to do, instead of at the first request or never. A client of its
 * own: pg's connectionTimeoutMillis on the pool would also cap the wait for a free connection under load.
 */
async function probePostgres(url: string, timeoutMs: number): Promise<void> {
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await probe.connect();
  } catch (e) {
    // node-postgres destroys a connection that outlives connectionTimeoutMillis with this error (no code).
    throw (e as Error).message === 'timeout expired' ? connectTimeout(url, timeoutMs) : connectError(url, e);
  }
  await probe.end();
}

async function openPostgres(url: string, poolSize: number, connectTimeoutMs: number): Promise<Database> {
  await probePostgres(url, connectTimeoutMs);
  const custom: Record<number, TypeParser> = { [OID_TIMESTAMPTZ]: parseTimestamptz, [OID_INT8]: parseInt8 };
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    options: '-c TimeZone=UTC -c DateStyle=ISO,YMD',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        custom[oid] ?? pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its server emits 'error' on the pool; without a listener Node would exit.
  // The pool drops that client by itself and the next query opens a fresh one.
  pool.on('error', () => {});
  let closed = false;
  return {
    kind: 'postgres',
    query: async <R>(sql: string, params?: readonly unknown[]) => {
      const r = await pool.query(sql, params as unknown[] | undefined);
      return { rows: r.rows as R[] };
    },
    transaction: async <T>(fn: (tx: Queryable) => Promise<T>) => {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const tx: Queryable = {
          query: async <R>(sql: string, params?: readonly unknown[]) => {
            const r = await client.query(sql, params as unknown[] | undefined);
            return { rows: r.rows as R[] };
          },
        };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection is unusable; tell the pool to discard it instead of reusing it.
          broken = rollbackError as Error;
        }
        throw e;
      } finally {
        client.release(broken);
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
