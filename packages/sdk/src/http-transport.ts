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
  /** The platform refused a reading for good (its result is "rejected"); `seq` is undefined when the
   * platform could not read it (e.g. oversize, malformed-jws, bad-signature). It is not resent. */
  readonly onRejected?: (seq: number | undefined, reason: string, jws: string) => void;
  /** A failure of the whole request (network, any status without per-message results, a malformed
   * answer); the batch stays in the outbox and is retried with backoff under the same key. */
  readonly onError?: (error: Error) => void;
}

interface Batch {
  readonly records: OutboxRecord[];
  readonly key: string;
}

interface ReadingResult {
  readonly seq?: number;
  readonly status: 'accepted' | 'duplicate' | 'rejected';
  readonly reason?: string;
}

/**
 * What to check when a request as a whole is refused. Only per-message results are verdicts on readings:
 * any other answer (a wrong base path, a proxy's body limit, a WAF, a refused token) means the platform has
 * not looked at them, so dropping them would lose data; they stay in the outbox and are retried.
 */
function hint(status: number): string {
  if (status === 404 || status === 405)
    return 'check baseUrl: the platform root (with any proxy prefix), without /api';
  if (status === 401 || status === 403) return 'the device token was refused: check the clock and the key';
  if (status === 413) return 'the request body is above a size limit on the way';
  if (status === 400 || status === 415) return 'refused before the readings were looked at (a proxy or WAF?)';
  return 'will retry';
}

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

  /** Messages per request after a 413: halved each time, down to one, for the life of the publisher. */
  private sizeLimit: number;

  constructor(private readonly opts: HttpPublisherOptions) {
    checkBaseUrl(opts as HttpPublisherOptions & { url?: unknown });
    this.batchSize = opts.batchSize ?? MAX_HTTP_BATCH;
    this.sizeLimit = this.batchSize;
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
    const head = await this.opts.outbox.peek(this.sizeLimit);
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
    if (res.status !== 200) {
      this.report(
        new Error(`readings not delivered (kept, retried): ${describeProblem(res)}; ${hint(res.status)}`),
      );
      if (res.status === 413) this.shrink(batch);
      return false;
    }
    const results = readResults(res, batch.records);
    batch.records.forEach((r, i) => {
      const result = results[i]!;
      if (result.status === 'rejected') this.rejected(seqOf(r.jws), result.reason ?? 'rejected', r.jws);
    });
    await this.opts.outbox.ackThrough(batch.records.at(-1)!.id);
    return true;
  }

  /** After a 413: the next attempts carry half as many messages. The smaller batch repeats the start of
   * the sent range under the same key, which the platform treats as a retry (copies are duplicates). */
  private shrink(batch: Batch): void {
    if (batch.records.length > 1) {
      this.sizeLimit = Math.max(1, Math.floor(batch.records.length / 2));
      return;
    }
    this.report(
      new Error(
        `a single message of ${batch.records[0]!.jws.length} bytes was refused with HTTP 413: a proxy's body limit is below the message size; it stays in the outbox and is retried`,
      ),
    );
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

/**
 * The per-message results, one per message in the order sent (device-protocol.md §4). `seq` is only given
 * when the signature verified, so results are matched by position; a seq that is given must be the one
 * sent there. Throws (so the batch is retried) when the answer does not fit the batch.
 */
function readResults(res: JsonResponse, records: OutboxRecord[]): ReadingResult[] {
  const list = (res.body as { results?: unknown } | undefined)?.results;
  if (!Array.isArray(list)) throw new Error('readings response lacks a results array');
  if (list.length !== records.length)
    throw new Error(`readings response has ${list.length} results for ${records.length} messages`);
  return (list as ReadingResult[]).map((item, i) => {
    if (!['accepted', 'duplicate', 'rejected'].includes(item?.status))
      throw new Error('readings response has a malformed result');
    if (item.seq !== undefined && item.seq !== seqOf(records[i]!.jws))
      throw new Error(`readings response has seq ${item.seq} where seq ${seqOf(records[i]!.jws)} was sent`);
    return item;
  });
}

/** Throws a clear error for a missing or wrong-looking baseUrl (a `url` given instead never delivers). */
export function checkBaseUrl(opts: { baseUrl?: unknown; url?: unknown }): void {
  if (typeof opts.baseUrl !== 'string' || opts.baseUrl === '')
    throw new Error(
      opts.url !== undefined
        ? "the HTTPS transport takes baseUrl (e.g. 'https://iomt.example.org'), not url (that is MQTT's)"
        : "the HTTPS transport needs baseUrl, e.g. 'https://iomt.example.org'",
    );
  let parsed: URL;
  try {
    parsed = new URL(opts.baseUrl);
  } catch {
    throw new Error(`baseUrl ${opts.baseUrl} is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new Error(`baseUrl must be an https:// (or http://) URL, got ${opts.baseUrl}`);
}
