import { randomUUID } from 'node:crypto';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { describeProblem, type JsonResponse, requestJson } from './http-client.ts';
import type { Outbox, OutboxRecord } from './outbox.ts';
import type { ReadingSigner } from './signer.ts';
import { seqOf } from './wire.ts';

/** The platform accepts at most this many messages per request. */
export const MAX_HTTP_BATCH = 500;

export interface HttpPublisherOptions {
  /** e.g. https://iomt.example.org (no trailing /api). */
  readonly baseUrl: string;
  readonly deviceId: string;
  readonly signer: ReadingSigner;
  readonly outbox: Outbox;
  readonly tls?: { readonly ca?: string | Buffer; readonly rejectUnauthorized?: boolean };
  /** Messages per request, 1..500. Default 500. */
  readonly batchSize?: number;
  /** Soft cap on the JSON body; a batch always holds at least one message. Default 4 MiB. */
  readonly maxBatchBytes?: number;
  readonly retry?: BackoffOptions;
  readonly timeoutMs?: number;
  /** The platform refused a reading for good (result "rejected", or a 4xx for its whole batch). */
  readonly onRejected?: (seq: number | undefined, reason: string, jws: string) => void;
  /** A transient failure (network, 5xx, 429, malformed answer); the batch is retried with the same key. */
  readonly onError?: (error: Error) => void;
}

interface Batch {
  readonly records: OutboxRecord[];
  readonly key: string;
}

interface ReadingResult {
  readonly seq: number;
  readonly status: 'accepted' | 'duplicate' | 'rejected';
  readonly reason?: string;
}

/**
 * Worth trying again later. 401/403 refuse the device token (a clock off by more than the skew, a key being
 * rotated), not the readings, which the platform has not looked at: dropping them would lose data, so they
 * stay in the outbox and the error is reported until the device can authenticate again.
 */
const RETRYABLE = (status: number) =>
  status >= 500 || status === 429 || status === 408 || status === 401 || status === 403;

/**
 * Delivers the outbox over HTTPS in batches, one request at a time, oldest first. Each batch gets an
 * Idempotency-Key stored durably with the outbox's sent mark before the first attempt, so a retry (also
 * after a crash) repeats the same batch under the same key and its exact copies count as duplicates.
 */
export class HttpPublisher {
  private readonly batchSize: number;
  private readonly backoff: Backoff;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private abort: AbortController | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly opts: HttpPublisherOptions) {
    this.batchSize = opts.batchSize ?? MAX_HTTP_BATCH;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > MAX_HTTP_BATCH)
      throw new Error(`batchSize must be an integer 1..${MAX_HTTP_BATCH}`);
    this.backoff = new Backoff(opts.retry);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.unsubscribe = this.opts.outbox.onAvailable(() => this.wake?.());
    this.loop = this.run();
  }

  /** Stops at once; an unfinished batch stays in the outbox and is retried with its key next time. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.abort?.abort();
    this.wake?.();
    await this.loop;
  }

  flushed(): Promise<void> {
    return this.opts.outbox.drained();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let delivered: boolean;
      try {
        const batch = await this.nextBatch();
        if (!batch) {
          await this.idle(undefined);
          continue;
        }
        delivered = await this.deliver(batch);
      } catch (e) {
        if (!this.running) return;
        this.report(e as Error);
        delivered = false;
      }
      if (delivered) this.backoff.reset();
      else await this.idle(this.backoff.next());
    }
  }

  /** Waits for new records (ms undefined) or for a delay; stop() ends either at once. */
  private idle(ms: number | undefined): Promise<void> {
    if (!this.running || (ms === undefined && this.opts.outbox.length > 0)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => done(), ms);
      const done = () => {
        if (timer) clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      // A retry delay is not cut short by new records: that would hammer a failing server.
      this.wake = ms === undefined ? done : () => (this.running ? undefined : done());
    });
  }

  private async nextBatch(): Promise<Batch | undefined> {
    const head = await this.opts.outbox.peek(this.batchSize);
    if (head.length === 0) return undefined;
    if (head[0]!.sent) {
      // The previous attempt was not acknowledged: repeat exactly that range under its key.
      const records = this.limitBytes(head.filter((r) => r.sent));
      const stored = this.opts.outbox.sentTag;
      const key = stored ?? randomUUID();
      if (stored === undefined) await this.opts.outbox.markSent(records.at(-1)!.id, key);
      return { records, key };
    }
    const records = this.limitBytes(head);
    const key = randomUUID();
    await this.opts.outbox.markSent(records.at(-1)!.id, key);
    return { records, key };
  }

  private limitBytes(records: OutboxRecord[]): OutboxRecord[] {
    const max = this.opts.maxBatchBytes ?? 4 * 1024 * 1024;
    let bytes = 0;
    let n = 0;
    while (n < records.length && (n === 0 || bytes + records[n]!.jws.length + 3 <= max)) {
      bytes += records[n]!.jws.length + 3;
      n += 1;
    }
    return records.slice(0, n);
  }

  /** True when the batch left the outbox (accepted, duplicate or rejected for good). */
  private async deliver(batch: Batch): Promise<boolean> {
    const url = `${this.opts.baseUrl.replace(/\/+$/, '')}/api/v1/devices/${encodeURIComponent(this.opts.deviceId)}/readings`;
    const res = await requestJson(
      url,
      'POST',
      { messages: batch.records.map((r) => r.jws) },
      { 'idempotency-key': batch.key, authorization: `Bearer ${this.opts.signer.token()}` },
      { ...this.opts.tls, timeoutMs: this.opts.timeoutMs ?? 30_000, signal: this.abort!.signal },
    );
    if (res.status === 200) {
      const results = readResults(res, batch.records);
      for (const r of batch.records) {
        const seq = seqOf(r.jws);
        const result = results.get(seq ?? -1)!;
        if (result.status === 'rejected') this.rejected(seq, result.reason ?? 'rejected', r.jws);
      }
    } else if (RETRYABLE(res.status)) {
      this.report(new Error(`readings not delivered: ${describeProblem(res)}`));
      return false;
    } else {
      // A 4xx is a verdict on the whole request: retrying the same request cannot succeed.
      const reason = describeProblem(res);
      for (const r of batch.records) this.rejected(seqOf(r.jws), reason, r.jws);
    }
    await this.opts.outbox.ackThrough(batch.records.at(-1)!.id);
    return true;
  }

  private rejected(seq: number | undefined, reason: string, jws: string): void {
    try {
      this.opts.onRejected?.(seq, reason, jws);
    } catch {
      // The platform has dead-lettered it either way.
    }
  }

  private report(error: Error): void {
    try {
      this.opts.onError?.(error);
    } catch {
      // Observers must not stop delivery.
    }
  }
}

/** The per-message results by seq; throws (so the batch is retried) unless every message has one. */
function readResults(res: JsonResponse, records: OutboxRecord[]): Map<number, ReadingResult> {
  const list = (res.body as { results?: unknown } | undefined)?.results;
  if (!Array.isArray(list)) throw new Error('readings response lacks a results array');
  const bySeq = new Map<number, ReadingResult>();
  for (const item of list as ReadingResult[]) {
    if (typeof item?.seq !== 'number' || !['accepted', 'duplicate', 'rejected'].includes(item.status))
      throw new Error('readings response has a malformed result');
    bySeq.set(item.seq, item);
  }
  for (const r of records)
    if (!bySeq.has(seqOf(r.jws) ?? -1))
      throw new Error(`readings response has no result for seq ${seqOf(r.jws)}`);
  return bySeq;
}
