/**
 * Sends the webhook outbox. Claims due pending deliveries with a lease (so several processes on one
 * PostgreSQL database share the work and a process that dies mid-attempt only delays a delivery), POSTs
 * each signed body, and records the outcome: delivered on 2xx, otherwise retried with exponential backoff
 * and jitter, and dead (the dead-letter, with its last error) after the last attempt. At-least-once:
 * receivers deduplicate on OpenIoMT-Webhook-Id.
 */
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import type { AttemptOutcome, ClaimedDelivery, WebhooksRepository } from '../store/webhooks.ts';
import { ID_HEADER, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature.ts';

export { signWebhook, verifyWebhookSignature } from './webhook-signature.ts';

export interface WebhookDelivererOptions {
  /** Per attempt, until the response headers arrive (default 5 s). */
  readonly timeoutMs?: number;
  /** Attempts before a delivery is dead (default 8). */
  readonly maxAttempts?: number;
  /** Wait after the first failure; doubles after each (default 1 s). */
  readonly baseDelayMs?: number;
  /** Cap on the wait between attempts (default 5 min). */
  readonly maxDelayMs?: number;
  /** Each wait is shortened by a random fraction up to this, so receivers recovering are not stampeded (default 0.2). */
  readonly jitter?: number;
  /** Longest sleep between looks at the outbox, for deliveries other processes enqueue (default 5 s). */
  readonly pollIntervalMs?: number;
  /** How long a claimed delivery stays hidden from other deliverers; must exceed timeoutMs (default timeout + 60 s). */
  readonly leaseMs?: number;
  /** Attempts in flight at once (default 8). */
  readonly concurrency?: number;
  readonly logger?: Logger;
  /** Source of randomness for the jitter (tests). */
  readonly random?: () => number;
  /** Another outbox with the same lifecycle (FHIR Subscription rest-hooks); default the webhooks'. */
  readonly outbox?: Outbox;
}

/** What the deliverer needs of an outbox. */
export type Outbox = Pick<WebhooksRepository, 'claimDue' | 'recordAttempt' | 'nextDueAt'>;

export interface BackoffPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
}

/** The wait after failed attempt number `attempt` (1-based): base·2^(attempt−1), capped, minus jitter. */
export function retryDelayMs(attempt: number, p: BackoffPolicy, random: () => number = Math.random): number {
  const full = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(full * (1 - p.jitter * random()));
}

/** Shortest sleep between looks at the outbox, so a row another process holds locked cannot spin us. */
const MIN_SLEEP_MS = 10;
const USER_AGENT = 'OpenIoMT-Webhooks/1';

export class WebhookDeliverer {
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffPolicy;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly random: () => number;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly outbox: Outbox;

  constructor(
    store: Store,
    private readonly options: WebhookDelivererOptions = {},
  ) {
    this.timeoutMs = positive(options.timeoutMs ?? 5000, 'timeoutMs');
    this.maxAttempts = positive(options.maxAttempts ?? 8, 'maxAttempts');
    this.backoff = {
      baseDelayMs: positive(options.baseDelayMs ?? 1000, 'baseDelayMs'),
      maxDelayMs: positive(options.maxDelayMs ?? 300_000, 'maxDelayMs'),
      jitter: options.jitter ?? 0.2,
    };
    if (!(this.backoff.jitter >= 0 && this.backoff.jitter < 1))
      throw new RangeError('jitter must be in [0, 1)');
    this.pollIntervalMs = positive(options.pollIntervalMs ?? 5000, 'pollIntervalMs');
    this.leaseMs = positive(options.leaseMs ?? this.timeoutMs + 60_000, 'leaseMs');
    if (this.leaseMs <= this.timeoutMs) throw new RangeError('leaseMs must exceed timeoutMs');
    this.concurrency = positive(options.concurrency ?? 8, 'concurrency');
    this.random = options.random ?? Math.random;
    this.outbox = options.outbox ?? store.webhooks;
  }

  /** Starts delivering: at once, then whenever something is due, woken, or the poll interval passes. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.wake();
  }

  /** Looks at the outbox now (after a commit that enqueued deliveries). */
  wake(): void {
    if (!this.running) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.ticking = this.tick().finally(() => {
      this.ticking = undefined;
      if (this.again && this.running) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Stops claiming and waits for the attempts in flight to be sent and recorded. */
  async close(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.inFlight]);
  }

  private async tick(): Promise<void> {
    let sleepMs = this.pollIntervalMs;
    try {
      let free = this.concurrency - this.inFlight.size;
      while (this.running && free > 0) {
        const now = Date.now();
        const claimed = await this.outbox.claimDue(
          new Date(now).toISOString(),
          new Date(now + this.leaseMs).toISOString(),
          free,
        );
        for (const c of claimed) this.track(this.attempt(c));
        if (claimed.length < free) break;
        free = this.concurrency - this.inFlight.size;
      }
      // When every slot is busy, a finishing attempt wakes us; otherwise sleep until the next due row.
      if (this.inFlight.size >= this.concurrency) return;
      const next = await this.outbox.nextDueAt();
      if (next !== undefined)
        sleepMs = Math.min(this.pollIntervalMs, Math.max(MIN_SLEEP_MS, Date.parse(next) - Date.now()));
    } catch (e) {
      if (this.running) this.options.logger?.error({ err: e }, 'webhook outbox: claiming failed, will retry');
    }
    if (this.running) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.wake(), sleepMs);
    }
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => {
      this.inFlight.delete(p);
      this.wake();
    });
  }

  /** One attempt of one delivery, and its outcome recorded. Never throws. */
  private async attempt(c: ClaimedDelivery): Promise<void> {
    const error = await this.send(c);
    const made = c.attempts + 1;
    const now = Date.now();
    const outcome: AttemptOutcome =
      error === undefined
        ? { status: 'delivered' }
        : made >= this.maxAttempts
          ? { status: 'dead', error }
          : {
              status: 'pending',
              error,
              nextAttemptAt: new Date(now + retryDelayMs(made, this.backoff, this.random)).toISOString(),
            };
    try {
      const recorded = await this.outbox.recordAttempt(c, outcome, new Date(now).toISOString());
      // Ids only: the body and the URL can identify a patient.
      if (recorded && outcome.status === 'dead')
        this.options.logger?.warn(
          { deliveryId: c.id, eventId: c.eventId, attempts: made, error },
          'webhook delivery dead-lettered after its last attempt',
        );
    } catch (e) {
      // The lease runs out and the delivery is attempted again: at-least-once.
      this.options.logger?.error({ err: e, deliveryId: c.id }, 'webhook outbox: recording an attempt failed');
    }
  }

  /** POSTs the signed body; undefined on 2xx, else what went wrong (kept as the delivery's last error). */
  private async send(c: ClaimedDelivery): Promise<string | undefined> {
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const res = await fetch(c.url, {
        method: 'POST',
        headers: {
          ...c.headers,
          'content-type': c.contentType ?? 'application/json',
          'user-agent': USER_AGENT,
          [ID_HEADER]: c.eventId,
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(c.secret, timestamp, c.body),
        },
        body: c.body,
        // A redirect could point anywhere, including inside the network: it is a failure, not followed.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status < 300) return undefined;
      return res.status >= 300 && res.status < 400
        ? `HTTP ${res.status}: redirects are not followed`
        : `HTTP ${res.status}`;
    } catch (e) {
      const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      if (err.name === 'TimeoutError') return `timed out after ${this.timeoutMs} ms`;
      return `request failed: ${err.cause?.code ?? err.cause?.message ?? err.message ?? String(e)}`;
    }
  }
}

function positive(n: number, name: string): number {
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${name} must be a positive number`);
  return n;
}
