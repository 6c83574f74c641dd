/**
 * Webhook subscriptions and their delivery outbox. A delivery row is written in the same transaction as
 * the alarm transition that caused it (enqueueDeliveries), so it exists exactly when the transition does;
 * deliverers then claim due rows with a lease, and record each attempt's outcome guarded by the attempt
 * count they claimed, so a slow deliverer whose lease expired cannot overwrite a newer result. A webhook's
 * signing secret is kept sealed (`secret_sealed`, migration 016) and opened only when a delivery is claimed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { deliverySecretSealer } from '../identity/secret-sealer.ts';
import { EnvelopeError } from '../security/keys/envelope.ts';
import { type KeyService, MasterKeyError } from '../security/keys/key-service.ts';
import { compact, decodeCursor, isUuid, pageLimit, requireInstant, toPage, Where } from './sql.ts';
import { type Database, type ListQuery, type Page, type Queryable, StoreError } from './types.ts';

export interface Webhook {
  readonly id: string;
  readonly url: string;
  /** Only this patient's events; absent means every patient. */
  readonly patientId?: string;
  readonly description?: string;
  readonly createdAt: string;
  /** Set when removed: no new deliveries, pending ones were dead-lettered. */
  readonly disabledAt?: string;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'dead';

export interface WebhookDelivery {
  readonly id: string;
  readonly webhookId: string;
  readonly eventId: string;
  readonly status: WebhookDeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly lastError?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A due delivery a deliverer has leased: what it needs to sign and send it. */
export interface ClaimedDelivery {
  readonly id: string;
  readonly eventId: string;
  readonly body: string;
  /** Attempts made before this one; the outcome is recorded only if it is still this number. */
  readonly attempts: number;
  readonly url: string;
  readonly secret: string;
  /** Other outboxes (FHIR Subscriptions): the body's media type and the subscriber's own headers. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The outcome of one attempt: delivered, retry at an instant, or dead (no attempts left). */
export type AttemptOutcome =
  | { readonly status: 'delivered' }
  | { readonly status: 'pending'; readonly error: string; readonly nextAttemptAt: string }
  | { readonly status: 'dead'; readonly error: string };

export interface WebhooksRepository {
  /** Creates a subscription with a fresh signing secret (256 random bits, base64url), returned only here. */
  create(w: {
    url: string;
    patientId?: string;
    description?: string;
  }): Promise<{ webhook: Webhook; secret: string }>;
  get(id: string): Promise<Webhook | undefined>;
  /** Oldest first, disabled ones included (they carry disabledAt). */
  list(q?: ListQuery): Promise<Page<Webhook>>;
  /** Disables the webhook; its pending deliveries become dead with `reason`. Idempotent. */
  disable(id: string, reason: string, at: string): Promise<{ webhook: Webhook; deadLettered: number }>;
  /** The webhook's deliveries, newest first. */
  deliveries(
    webhookId: string,
    q?: ListQuery & { status?: WebhookDeliveryStatus },
  ): Promise<Page<WebhookDelivery>>;
  getDelivery(id: string): Promise<WebhookDelivery | undefined>;
  /** A dead delivery back to pending, due at `at`, with a fresh set of attempts. */
  retry(id: string, at: string): Promise<WebhookDelivery>;
  /** Leases up to `limit` due pending deliveries until `leaseUntil` (safe with several processes). */
  claimDue(now: string, leaseUntil: string, limit: number): Promise<ClaimedDelivery[]>;
  /** Records an attempt's outcome; false when the delivery moved on meanwhile (the result is dropped). */
  recordAttempt(claimed: ClaimedDelivery, outcome: AttemptOutcome, at: string): Promise<boolean>;
  /** The earliest next attempt among pending deliveries, if any. */
  nextDueAt(): Promise<string | undefined>;
}

interface WebhookRow {
  id: string;
  url: string;
  patient_id: string | null;
  description: string | null;
  created_at: string;
  disabled_at: string | null;
}

interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

const WEBHOOK_COLUMNS = 'id, url, patient_id, description, created_at, disabled_at';
const DELIVERY_COLUMNS =
  'id, webhook_id, event_id, status, attempts, next_attempt_at, last_error, created_at, updated_at';

const toWebhook = (r: WebhookRow): Webhook =>
  compact({
    id: r.id,
    url: r.url,
    patientId: r.patient_id ?? undefined,
    description: r.description ?? undefined,
    createdAt: r.created_at,
    disabledAt: r.disabled_at ?? undefined,
  });

const toDelivery = (r: DeliveryRow): WebhookDelivery =>
  compact({
    id: r.id,
    webhookId: r.webhook_id,
    eventId: r.event_id,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error ?? undefined,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });

/** Errors kept with a delivery are short: a status line or a network error, never a response body. */
const MAX_ERROR_LENGTH = 500;
const clip = (s: string): string => (s.length > MAX_ERROR_LENGTH ? `${s.slice(0, MAX_ERROR_LENGTH)}…` : s);

function uuidCursor(cursor: string) {
  const c = decodeCursor(cursor);
  if (!isUuid(c.id)) throw new StoreError('invalid', 'cursor is not one this server issued', 'cursor');
  return c;
}

/**
 * Inserts one pending delivery per enabled webhook matching the patient (or with no patient filter),
 * due at `now`, on the caller's connection (its transaction). A (webhook, event) pair already enqueued
 * is left as it is. Returns how many were inserted.
 */
export async function enqueueDeliveries(
  q: Queryable,
  e: { eventId: string; patientId: string; body: string; now: string },
): Promise<number> {
  if (!isUuid(e.eventId)) throw new StoreError('invalid', 'event id must be a uuid', 'id');
  requireInstant(e.now, 'now');
  const { rows } = await q.query<{ id: string }>(
    `INSERT INTO webhook_deliveries
       (id, webhook_id, event_id, body, status, attempts, next_attempt_at, created_at, updated_at)
     SELECT gen_random_uuid(), w.id, $1::uuid, $2, 'pending', 0, $3::timestamptz, $3::timestamptz, $3::timestamptz
       FROM webhooks w
      WHERE w.disabled_at IS NULL AND (w.patient_id IS NULL OR w.patient_id = $4)
     ON CONFLICT (webhook_id, event_id) DO NOTHING
     RETURNING id`,
    [e.eventId, e.body, e.now, e.patientId],
  );
  return rows.length;
}

/** Why a claimed delivery is dead-lettered instead of sent unsigned: its secret does not open, or is missing. */
export const UNOPENED_SECRET_ERROR =
  'a sealed secret of this delivery does not open: sealed for another row, under another master key, or altered';
export const NO_SEALED_SECRET_ERROR =
  'no sealed signing secret (an older version wrote it in clear): restart the platform to seal it, then retry';

export function webhooksRepository(db: Database, keys?: KeyService): WebhooksRepository {
  const sealer = keys && deliverySecretSealer(keys);
  const getRow = async (id: string) => {
    if (!isUuid(id)) return undefined;
    const { rows } = await db.query<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1`, [
      id,
    ]);
    return rows[0];
  };

  const recordAttempt = async (
    claimed: Pick<ClaimedDelivery, 'id' | 'attempts'>,
    outcome: AttemptOutcome,
    at: string,
  ): Promise<boolean> => {
    requireInstant(at, 'at');
    const next = outcome.status === 'pending' ? requireInstant(outcome.nextAttemptAt, 'nextAttemptAt') : at;
    const error = outcome.status === 'delivered' ? null : clip(outcome.error);
    const { rows } = await db.query(
      `UPDATE webhook_deliveries
          SET status = $3, attempts = attempts + 1, next_attempt_at = $4,
              last_error = COALESCE($5, last_error), updated_at = $6
        WHERE id = $1 AND status = 'pending' AND attempts = $2
       RETURNING id`,
      [claimed.id, claimed.attempts, outcome.status, next, error, at],
    );
    return rows.length === 1;
  };

  /**
   * The webhook's secret, or why it cannot be had. A sealed value that does not authenticate is final; other
   * failures (a key service out of reach, none configured) are thrown, so the claim fails and is tried again.
   */
  const openSecret = async (webhookId: string, sealed: string | null) => {
    if (sealed === null) return { error: NO_SEALED_SECRET_ERROR };
    if (!sealer)
      throw new MasterKeyError('no key service is configured to open the signing secret of a webhook');
    return sealer.open('webhook-secret', webhookId, sealed).then(
      (secret) => ({ secret }),
      (e: unknown) => {
        if (e instanceof EnvelopeError) return { error: UNOPENED_SECRET_ERROR };
        throw e;
      },
    );
  };

  return {
    async create(w) {
      if (!sealer)
        throw new MasterKeyError('no key service is configured to seal the signing secret of a webhook');
      const id = randomUUID();
      const secret = randomBytes(32).toString('base64url');
      const { rows } = await db.query<WebhookRow>(
        `INSERT INTO webhooks (id, url, secret_sealed, patient_id, description, created_at)
         VALUES ($1, $2, $3, $4, $5, now()) RETURNING ${WEBHOOK_COLUMNS}`,
        [
          id,
          w.url,
          await sealer.seal('webhook-secret', id, secret),
          w.patientId ?? null,
          w.description ?? null,
        ],
      );
      return { webhook: toWebhook(rows[0]!), secret };
    },

    async get(id) {
      const row = await getRow(id);
      return row && toWebhook(row);
    },

    async list(q = {}) {
      const limit = pageLimit(q.limit);
      const where = new Where();
      if (q.cursor !== undefined) where.after('created_at', 'id', uuidCursor(q.cursor), 'asc', 'uuid');
      const { rows } = await db.query<WebhookRow>(
        `SELECT ${WEBHOOK_COLUMNS} FROM webhooks ${where}
          ORDER BY created_at, id LIMIT ${where.param(limit + 1)}`,
        where.params,
      );
      return toPage(rows, limit, toWebhook, (r) => ({ at: r.created_at, id: r.id }));
    },

    async disable(id, reason, at) {
      requireInstant(at, 'at');
      if (!isUuid(id)) throw new StoreError('not-found', `no webhook ${id}`);
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<WebhookRow>(
          `UPDATE webhooks SET disabled_at = COALESCE(disabled_at, $2) WHERE id = $1 RETURNING ${WEBHOOK_COLUMNS}`,
          [id, at],
        );
        if (rows[0] === undefined) throw new StoreError('not-found', `no webhook ${id}`);
        const dead = await tx.query(
          `UPDATE webhook_deliveries SET status = 'dead', last_error = $2, updated_at = $3
            WHERE webhook_id = $1 AND status = 'pending' RETURNING id`,
          [id, clip(reason), at],
        );
        return { webhook: toWebhook(rows[0]), deadLettered: dead.rows.length };
      });
    },

    async deliveries(webhookId, q = {}) {
      const limit = pageLimit(q.limit);
      if (!isUuid(webhookId)) return { items: [] };
      const where = new Where().add('webhook_id = ?', webhookId);
      if (q.status !== undefined) where.add('status = ?', q.status);
      if (q.cursor !== undefined) where.after('created_at', 'id', uuidCursor(q.cursor), 'desc', 'uuid');
      const { rows } = await db.query<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries ${where}
          ORDER BY created_at DESC, id DESC LIMIT ${where.param(limit + 1)}`,
        where.params,
      );
      return toPage(rows, limit, toDelivery, (r) => ({ at: r.created_at, id: r.id }));
    },

    async getDelivery(id) {
      if (!isUuid(id)) return undefined;
      const { rows } = await db.query<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1`,
        [id],
      );
      return rows[0] && toDelivery(rows[0]);
    },

    async retry(id, at) {
      requireInstant(at, 'at');
      if (!isUuid(id)) throw new StoreError('not-found', `no webhook delivery ${id}`);
      const { rows } = await db.query<DeliveryRow>(
        `UPDATE webhook_deliveries d
            SET status = 'pending', attempts = 0, next_attempt_at = $2, updated_at = $2
           FROM webhooks w
          WHERE d.id = $1 AND d.status = 'dead' AND w.id = d.webhook_id AND w.disabled_at IS NULL
         RETURNING ${DELIVERY_COLUMNS.split(', ')
           .map((c) => `d.${c}`)
           .join(', ')}`,
        [id, at],
      );
      if (rows[0] !== undefined) return toDelivery(rows[0]);
      // Nothing changed: say why.
      const { rows: why } = await db.query<{ status: string; disabled_at: string | null }>(
        `SELECT d.status, w.disabled_at FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
          WHERE d.id = $1`,
        [id],
      );
      const found = why[0];
      if (found === undefined) throw new StoreError('not-found', `no webhook delivery ${id}`);
      if (found.status !== 'dead')
        throw new StoreError('conflict', `only a dead delivery can be retried; this one is ${found.status}`);
      throw new StoreError('conflict', 'the webhook of this delivery is disabled');
    },

    async claimDue(now, leaseUntil, limit) {
      requireInstant(now, 'now');
      requireInstant(leaseUntil, 'leaseUntil');
      // SKIP LOCKED: two deliverers claiming at once take different rows instead of waiting on each other.
      // Moving next_attempt_at past the lease hides the row from other claims until the lease runs out,
      // so a deliverer that dies mid-attempt only delays the delivery.
      const { rows } = await db.query<
        Omit<ClaimedDelivery, 'secret'> & { webhookId: string; secretSealed: string | null }
      >(
        `WITH due AS (
           SELECT id FROM webhook_deliveries
            WHERE status = 'pending' AND next_attempt_at <= $1
            ORDER BY next_attempt_at, id
            LIMIT $3
            FOR UPDATE SKIP LOCKED
         )
         UPDATE webhook_deliveries d SET next_attempt_at = $2, updated_at = $1
           FROM due, webhooks w
          WHERE d.id = due.id AND w.id = d.webhook_id
         RETURNING d.id, d.event_id AS "eventId", d.body, d.attempts, w.url, w.id AS "webhookId",
                   w.secret_sealed AS "secretSealed"`,
        [now, leaseUntil, limit],
      );
      const claimed: ClaimedDelivery[] = [];
      for (const { webhookId, secretSealed, ...r } of rows) {
        const opened = await openSecret(webhookId, secretSealed);
        if ('secret' in opened) claimed.push({ ...r, secret: opened.secret });
        // Sending it unsigned or retrying forever would both be wrong: it is dead, with the reason.
        else await recordAttempt(r, { status: 'dead', error: opened.error }, now);
      }
      return claimed;
    },

    recordAttempt,

    async nextDueAt() {
      const { rows } = await db.query<{ at: string | null }>(
        `SELECT min(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'`,
      );
      return rows[0]?.at ?? undefined;
    },
  };
}
