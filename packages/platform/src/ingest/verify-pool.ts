/**
 * A small pool of worker threads for the CPU-heavy part of ingest (verify-work.ts), so the main thread
 * keeps only lookups, sequence judgement and commits. Requests made in one event-loop turn go to a worker
 * as one batch, which amortises the message passing. The pool is shared by every platform in the process
 * and its threads never keep the process alive while idle.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { VerifyBatch, VerifyBatchResult, WorkVerdict } from './verify-work.ts';

interface Request {
  readonly compact: string;
  readonly key: string;
  readonly maxBytes: number;
  readonly resolve: (v: WorkVerdict) => void;
  readonly reject: (e: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Request[]>;
  load: number;
}

const MAX_BATCH = 256;
/** Batches a thread holds at once: two, so it never idles while its last answer travels back. */
const BATCHES_IN_FLIGHT = 2;
/** Consecutive worker failures after which the pool gives up and callers verify in-process. */
const MAX_FAILURES = 3;

export class VerifyPool {
  private readonly threads: Thread[] = [];
  private queue: Request[] = [];
  private scheduled = false;
  private nextId = 1;
  private failures = 0;
  private closed = false;

  constructor(private readonly size: number) {}

  /** False once workers have failed repeatedly: callers then do the work on their own thread. */
  get usable(): boolean {
    return !this.closed && this.failures < MAX_FAILURES;
  }

  /**
   * Checks one compact JWS against the Ed25519 key whose JWK `x` is given, decoding its payload with a
   * `maxBytes` limit. Rejects if the pool fails (the caller then does the work itself).
   */
  check(compact: string, key: string, maxBytes: number): Promise<WorkVerdict> {
    if (!this.usable) return Promise.reject(new Error('the verify pool is not available'));
    return new Promise((resolve, reject) => {
      this.queue.push({ compact, key, maxBytes, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.splice(0).map((t) => t.worker.terminate()));
  }

  /**
   * Sends what is queued to threads with room: at most BATCHES_IN_FLIGHT batches per thread. Under load the
   * rest waits here and goes as one larger batch when a batch comes back: waking a worker thread costs tens
   * of microseconds of the main thread's time on a busy machine, more than checking a small batch.
   */
  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      if (!this.usable) {
        for (const r of this.queue.splice(0)) r.reject(new Error('the verify pool is not available'));
        return;
      }
      const t = this.threadWithRoom();
      if (!t) return; // sent when a batch comes back
      this.send(t, this.queue.splice(0, MAX_BATCH));
    }
  }

  private threadWithRoom(): Thread | undefined {
    let best: Thread | undefined;
    for (const t of this.threads) if (!best || t.pending.size < best.pending.size) best = t;
    if (best && (best.pending.size === 0 || this.threads.length >= this.size))
      return best.pending.size < BATCHES_IN_FLIGHT ? best : undefined;
    const t = this.spawn();
    this.threads.push(t);
    return t;
  }

  private send(t: Thread, requests: Request[]): void {
    const id = this.nextId++;
    const batch: VerifyBatch = {
      id,
      maxBytes: requests.map((r) => r.maxBytes),
      compacts: requests.map((r) => r.compact),
      keys: requests.map((r) => r.key),
    };
    t.pending.set(id, requests);
    if (t.load === 0) t.worker.ref();
    t.load += requests.length;
    // Posting before the worker is ready is fine: messages queue on its port.
    t.worker.postMessage(batch);
  }

  private spawn(): Thread {
    // The worker is TypeScript too: a bootstrap registers tsx in the thread, then loads it.
    const entry = new URL('./verify-worker.ts', import.meta.url).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); })`;
    const worker = new Worker(bootstrap, { eval: true });
    worker.unref();
    const t: Thread = {
      worker,
      pending: new Map(),
      load: 0,
    };
    worker.on('message', (msg: VerifyBatchResult | { ready: true }) => {
      if ('ready' in msg) {
        this.failures = 0;
        return;
      }
      const requests = t.pending.get(msg.id);
      if (!requests) return;
      t.pending.delete(msg.id);
      t.load -= requests.length;
      if (t.load === 0) worker.unref();
      for (const [i, r] of requests.entries()) r.resolve(msg.verdicts[i] as WorkVerdict);
      if (this.queue.length > 0) this.flush();
    });
    const fail = (e: Error) => {
      const i = this.threads.indexOf(t);
      if (i >= 0) this.threads.splice(i, 1);
      else return; // already handled (error is followed by exit)
      this.failures++;
      for (const requests of t.pending.values()) for (const r of requests) r.reject(e);
      t.pending.clear();
      if (this.queue.length > 0) this.flush(); // another thread, or rejected so callers work in-process
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`a verify worker stopped (exit code ${code})`)));
    return t;
  }
}

let shared: VerifyPool | undefined;

/**
 * The process-wide pool, or undefined when disabled (OPENIOMT_VERIFY_WORKERS=0). One worker on a 2-core
 * machine (the other core runs the main thread), two from four cores up.
 */
export function sharedVerifyPool(): VerifyPool | undefined {
  const configured = process.env.OPENIOMT_VERIFY_WORKERS;
  const size =
    configured !== undefined && /^\d+$/.test(configured)
      ? Number(configured)
      : availableParallelism() >= 4
        ? 2
        : 1;
  if (size === 0) return undefined;
  if (!shared?.usable) shared = new VerifyPool(size);
  return shared;
}
