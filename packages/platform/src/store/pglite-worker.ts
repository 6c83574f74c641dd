/**
 * The PGlite side of the worker-thread adapter (pglite-thread.ts). PGlite is PostgreSQL compiled to
 * WebAssembly and runs synchronously on whichever thread owns it; owning it here keeps its CPU and its
 * file writes off the event loop that serves devices, so on a two-core machine ingest and storage each
 * get a core.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { PG_PARSERS_OIDS, parseInt8, parseTimestamptz } from './pg-types.ts';

export type WorkerCommand =
  | { readonly op: 'query'; readonly sql: string; readonly params?: readonly unknown[] }
  | { readonly op: 'close' };
export type WorkerRequest = WorkerCommand & { readonly id: number };

export type WorkerResponse =
  | { readonly id: number; readonly rows: unknown[] }
  | {
      readonly id: number;
      readonly error: { message: string; code?: string; detail?: string; constraint?: string };
    };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('pglite-worker must run in a worker thread');
  const dataDir = (workerData as { dataDir?: string }).dataDir;
  const options = {
    extensions: { btree_gist },
    parsers: { [PG_PARSERS_OIDS.timestamptz]: parseTimestamptz, [PG_PARSERS_OIDS.int8]: parseInt8 },
  };
  let db: PGlite;
  try {
    db = dataDir === undefined ? await PGlite.create(options) : await PGlite.create(dataDir, options);
    await db.exec(`SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'`);
  } catch (e) {
    port.postMessage({ id: 0, error: { message: (e as Error).message } } satisfies WorkerResponse);
    return;
  }
  port.postMessage({ id: 0, rows: [] } satisfies WorkerResponse);
  port.on('message', async (req: WorkerRequest) => {
    if (req.op === 'close') {
      if (!db.closed) await db.close();
      port.postMessage({ id: req.id, rows: [] } satisfies WorkerResponse);
      port.close();
      return;
    }
    try {
      const r = await db.query(req.sql, req.params as unknown[] | undefined);
      port.postMessage({ id: req.id, rows: r.rows } satisfies WorkerResponse);
    } catch (e) {
      const err = e as { message: string; code?: string; detail?: string; constraint?: string };
      port.postMessage({
        id: req.id,
        error: { message: err.message, code: err.code, detail: err.detail, constraint: err.constraint },
      } satisfies WorkerResponse);
    }
  });
}

void main();
