/**
 * PGlite on its own worker thread (see pglite-worker.ts), behind the Database port. PGlite has a single
 * connection, so statements are serialised here: a transaction holds the connection from BEGIN to
 * COMMIT, and top-level queries wait for it.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerCommand, WorkerResponse } from './pglite-worker.ts';
import type { Database, Queryable, TransactionOptions } from './types.ts';

/** An error raised by PostgreSQL inside the worker, with its SQLSTATE code preserved. */
export class PgliteError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly detail?: string,
    readonly constraint?: string,
  ) {
    super(message);
    this.name = 'PgliteError';
  }
}

/**
 * The one connection, handed out in turn. Urgent lockers (an alarm being recorded) go before the others
 * waiting, never before the holder: behind a readings batch an alarm waits for that batch only, not for
 * every batch queued after it.
 */
export class ConnectionQueue {
  private held = false;
  private readonly urgent: (() => void)[] = [];
  private readonly normal: (() => void)[] = [];

  lock(urgent = false): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => resolve(this.releaser());
      if (!this.held) {
        this.held = true;
        grant();
      } else (urgent ? this.urgent : this.normal).push(grant);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.urgent.shift() ?? this.normal.shift();
      if (next) next();
      else this.held = false;
    };
  }
}

export async function openPgliteThread(dataDir: string | undefined): Promise<Database> {
  // The worker is TypeScript too: a one-line bootstrap registers tsx in the thread, then loads it.
  const entry = new URL('./pglite-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { dataDir } });
  const pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let failure: Error | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject });
  });
  worker.on('message', (res: WorkerResponse) => {
    const p = pending.get(res.id);
    if (!p) return;
    pending.delete(res.id);
    if ('error' in res)
      p.reject(new PgliteError(res.error.message, res.error.code, res.error.detail, res.error.constraint));
    else p.resolve(res.rows);
  });
  const failAll = (e: Error) => {
    failure = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the database thread stopped (exit code ${code})`)));
  await ready;

  const send = (req: WorkerCommand): Promise<unknown[]> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...req, id });
    });
  };
  const raw = async <R>(sql: string, params?: readonly unknown[]) => ({
    rows: (await send({ op: 'query', sql, ...(params ? { params } : {}) })) as R[],
  });
  const connection = new ConnectionQueue();
  let closed = false;

  return {
    kind: 'pglite',
    async query<R>(sql: string, params?: readonly unknown[]) {
      const release = await connection.lock();
      try {
        return await raw<R>(sql, params);
      } finally {
        release();
      }
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T> {
      const release = await connection.lock(options?.urgent === true);
      try {
        // BEGIN is not waited for: the worker runs messages in order, so fn's first statement follows it
        // without a round trip through this (busy) event loop while the connection is held.
        const begun = raw('BEGIN');
        begun.catch(() => undefined);
        try {
          const result = await fn({ query: raw });
          await begun;
          await raw('COMMIT');
          return result;
        } catch (e) {
          await raw('ROLLBACK').catch(() => undefined);
          throw e;
        }
      } finally {
        release();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      const release = await connection.lock();
      try {
        if (!failure) await send({ op: 'close' });
      } finally {
        release();
        await worker.terminate();
      }
    },
  };
}
