/**
 * FHIR Subscriptions and their rest-hook outbox in the database (migration 012). The outbox has the
 * lifecycle of the webhook outbox (claim with a lease, record each attempt guarded by the attempt count)
 * so the same WebhookDeliverer sends it; a dead-lettered delivery puts its subscription in `error`.
 * A rest-hook's signing secret and its own headers (which may carry a bearer token) are kept sealed
 * (`secret_sealed`, `headers_sealed`, migration 016): headers are opened when a subscription is read, the
 * secret only when a delivery is claimed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataCategory, Role } from '@openiomt/core';
import { type DeliverySecretSealer, deliverySecretSealer } from '../identity/secret-sealer.ts';
import { EnvelopeError } from '../security/keys/envelope.ts';
import { type KeyService, MasterKeyError } from '../security/keys/key-service.ts';
import { compact } from '../store/sql.ts';
import type { Database, Queryable } from '../store/types.ts';
import {
  type AttemptOutcome,
  type ClaimedDelivery,
  NO_SEALED_SECRET_ERROR,
  UNOPENED_SECRET_ERROR,
} from '../store/webhooks.ts';

export type SubscriptionStatus = 'requested' | 'active' | 'error' | 'off';
export type PayloadContent = 'empty' | 'id-only' | 'full-resource';

/** Who subscribed: enough to rebuild their Subject and ask the policy again at delivery. */
export interface SubscriptionOwner {
  readonly kind: 'user' | 'service';
  readonly id: string;
  readonly roles: readonly Role[];
  readonly patientId?: string;
  readonly scopes?: readonly string[];
  readonly mfa: boolean;
}

export interface StoredSubscription {
  readonly id: string;
  readonly owner: SubscriptionOwner;
  readonly status: SubscriptionStatus;
  readonly error?: string;
  readonly criteria: string;
  readonly patientId?: string;
  readonly reason: string;
  readonly end?: string;
  readonly channelType: 'rest-hook' | 'websocket';
  readonly endpoint?: string;
  readonly headers: readonly string[];
  readonly payload?: string;
  readonly content: PayloadContent;
  readonly events: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type NewSubscription = Omit<
  StoredSubscription,
  'id' | 'events' | 'createdAt' | 'updatedAt' | 'status' | 'error'
>;

interface Row {
  id: string;
  owner_kind: 'user' | 'service';
  owner_id: string;
  owner: Omit<SubscriptionOwner, 'kind' | 'id'>;
  status: SubscriptionStatus;
  error: string | null;
  criteria: string;
  patient_id: string | null;
  reason: string;
  end_at: string | null;
  channel_type: 'rest-hook' | 'websocket';
  endpoint: string | null;
  headers_sealed: string | null;
  payload: string | null;
  content: PayloadContent;
  events: string | number;
  created_at: string;
  updated_at: string;
}

const COLUMNS = `id, owner_kind, owner_id, owner, status, error, criteria, patient_id, reason, end_at,
  channel_type, endpoint, headers_sealed, payload, content, events, created_at, updated_at`;

const toSubscription = (r: Row, headers: readonly string[]): StoredSubscription =>
  compact({
    id: r.id,
    owner: { ...r.owner, kind: r.owner_kind, id: r.owner_id },
    status: r.status,
    error: r.error ?? undefined,
    criteria: r.criteria,
    patientId: r.patient_id ?? undefined,
    reason: r.reason,
    end: r.end_at ?? undefined,
    channelType: r.channel_type,
    endpoint: r.endpoint ?? undefined,
    headers,
    payload: r.payload ?? undefined,
    content: r.content,
    events: Number(r.events),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }) as StoredSubscription;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ERROR = 500;
const clip = (s: string) => (s.length > MAX_ERROR ? `${s.slice(0, MAX_ERROR)}…` : s);

/** A claimed rest-hook delivery with what the access check needs: the owner, the patient, the category. */
export interface ClaimedNotification extends ClaimedDelivery {
  readonly subscriptionId: string;
  readonly owner: SubscriptionOwner;
  readonly patientId: string;
  readonly category: DataCategory;
}

export function subscriptionStore(db: Database, keys?: KeyService) {
  const sealer = keys && deliverySecretSealer(keys);
  const needSealer = (what: string): DeliverySecretSealer => {
    if (!sealer) throw new MasterKeyError(`no key service is configured to seal or open ${what}`);
    return sealer;
  };
  /** The row as a subscription, its headers opened (a value that does not open is an error, not hidden). */
  const withHeaders = async (r: Row): Promise<StoredSubscription> =>
    toSubscription(
      r,
      r.headers_sealed === null
        ? []
        : (JSON.parse(
            await needSealer('the headers of a Subscription').open(
              'subscription-headers',
              r.id,
              r.headers_sealed,
            ),
          ) as string[]),
    );

  const recordAttempt = async (
    claimed: Pick<ClaimedDelivery, 'id' | 'attempts'>,
    outcome: AttemptOutcome,
    at: string,
  ): Promise<boolean> => {
    const next = outcome.status === 'pending' ? outcome.nextAttemptAt : at;
    const error = outcome.status === 'delivered' ? null : clip(outcome.error);
    return db.transaction(async (tx) => {
      const { rows } = await tx.query<{ subscription_id: string }>(
        `UPDATE fhir_subscription_deliveries
            SET status = $3, attempts = attempts + 1, next_attempt_at = $4,
                last_error = COALESCE($5, last_error), updated_at = $6
          WHERE id = $1 AND status = 'pending' AND attempts = $2
         RETURNING subscription_id`,
        [claimed.id, claimed.attempts, outcome.status, next, error, at],
      );
      // R4: a subscription whose notifications cannot be delivered is in error (its owner reactivates it).
      if (rows[0] && outcome.status === 'dead' && !error?.startsWith('withheld'))
        await tx.query(
          `UPDATE fhir_subscriptions SET status = 'error', error = $2, updated_at = $3
            WHERE id = $1 AND status = 'active'`,
          [rows[0].subscription_id, clip(`delivery failed after every attempt: ${error ?? ''}`), at],
        );
      return rows.length === 1;
    });
  };

  /**
   * What a claimed delivery is signed and sent with, or why it cannot be: a sealed value that does not
   * authenticate is final; other failures (a key service out of reach) are thrown and the claim is retried.
   */
  const openForDelivery = async (
    id: string,
    secretSealed: string | null,
    headersSealed: string | null,
  ): Promise<{ secret: string; headers: string[] } | { error: string }> => {
    if (secretSealed === null) return { error: NO_SEALED_SECRET_ERROR };
    const s = needSealer('the signing secret of a Subscription');
    try {
      return {
        secret: await s.open('subscription-secret', id, secretSealed),
        headers:
          headersSealed === null
            ? []
            : (JSON.parse(await s.open('subscription-headers', id, headersSealed)) as string[]),
      };
    } catch (e) {
      if (e instanceof EnvelopeError) return { error: UNOPENED_SECRET_ERROR };
      throw e;
    }
  };

  return {
    /** Creates an active subscription; rest-hooks get a signing secret, returned only here. */
    async create(s: NewSubscription): Promise<{ subscription: StoredSubscription; secret?: string }> {
      const id = randomUUID();
      const secret = s.channelType === 'rest-hook' ? randomBytes(32).toString('base64url') : undefined;
      const secretSealed =
        secret === undefined
          ? null
          : await needSealer('the signing secret of a Subscription').seal('subscription-secret', id, secret);
      const headersSealed =
        s.headers.length === 0
          ? null
          : await needSealer('the headers of a Subscription').seal(
              'subscription-headers',
              id,
              JSON.stringify(s.headers),
            );
      const { kind, id: ownerId, ...owner } = s.owner;
      const { rows } = await db.query<Row>(
        `INSERT INTO fhir_subscriptions (id, owner_kind, owner_id, owner, status, criteria, patient_id, reason,
           end_at, channel_type, endpoint, headers_sealed, payload, content, secret_sealed, created_at,
           updated_at)
         VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now(), now())
         RETURNING ${COLUMNS}`,
        [
          id,
          kind,
          ownerId,
          JSON.stringify(owner),
          s.criteria,
          s.patientId ?? null,
          s.reason,
          s.end ?? null,
          s.channelType,
          s.endpoint ?? null,
          headersSealed,
          s.payload ?? null,
          s.content,
          secretSealed,
        ],
      );
      return { subscription: toSubscription(rows[0] as Row, s.headers), ...(secret ? { secret } : {}) };
    },

    async get(id: string): Promise<StoredSubscription | undefined> {
      if (!UUID.test(id)) return undefined;
      const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM fhir_subscriptions WHERE id = $1`, [id]);
      return rows[0] && withHeaders(rows[0]);
    },

    /** An owner's subscriptions, oldest first, optionally of some statuses. */
    async ofOwner(
      owner: { kind: string; id: string },
      statuses?: readonly string[],
      limit = 1000,
    ): Promise<StoredSubscription[]> {
      const { rows } = await db.query<Row>(
        `SELECT ${COLUMNS} FROM fhir_subscriptions
          WHERE owner_kind = $1 AND owner_id = $2 AND ($3::text[] IS NULL OR status = ANY ($3::text[]))
          ORDER BY created_at, id LIMIT $4`,
        [owner.kind, owner.id, statuses ?? null, limit],
      );
      return Promise.all(rows.map(withHeaders));
    },

    /** Every active subscription (the matcher keeps them in memory). */
    async active(): Promise<StoredSubscription[]> {
      const { rows } = await db.query<Row>(
        `SELECT ${COLUMNS} FROM fhir_subscriptions WHERE status = 'active' ORDER BY created_at, id`,
      );
      return Promise.all(rows.map(withHeaders));
    },

    /** Sets the status (and the error, or clears it); off and error dead-letter pending deliveries. */
    async setStatus(id: string, status: SubscriptionStatus, error?: string): Promise<StoredSubscription> {
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<Row>(
          `UPDATE fhir_subscriptions SET status = $2, error = $3, updated_at = now() WHERE id = $1
           RETURNING ${COLUMNS}`,
          [id, status, error === undefined ? null : clip(error)],
        );
        if (status === 'off' || status === 'error')
          await tx.query(
            `UPDATE fhir_subscription_deliveries SET status = 'dead', last_error = $2, updated_at = now()
              WHERE subscription_id = $1 AND status = 'pending'`,
            [
              id,
              status === 'off' ? 'subscription turned off' : clip(`subscription in error: ${error ?? ''}`),
            ],
          );
        return withHeaders(rows[0] as Row);
      });
    },

    /** Counts one more event of an active subscription; undefined when it is no longer active. */
    async countEvent(q: Queryable, id: string): Promise<number | undefined> {
      const { rows } = await q.query<{ events: string | number }>(
        `UPDATE fhir_subscriptions SET events = events + 1 WHERE id = $1 AND status = 'active'
         RETURNING events`,
        [id],
      );
      return rows[0] === undefined ? undefined : Number(rows[0].events);
    },

    async enqueue(
      q: Queryable,
      d: { subscriptionId: string; eventId: string; patientId: string; category: DataCategory; body: string },
    ): Promise<void> {
      await q.query(
        `INSERT INTO fhir_subscription_deliveries (id, subscription_id, event_id, patient_id, category, body,
           status, attempts, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, now(), now(), now())
         ON CONFLICT (subscription_id, event_id) DO NOTHING`,
        [randomUUID(), d.subscriptionId, d.eventId, d.patientId, d.category, d.body],
      );
    },

    /** The deliveries of a subscription, newest first (tests and diagnostics). */
    async deliveries(subscriptionId: string) {
      const { rows } = await db.query<{ status: string; attempts: number; last_error: string | null }>(
        `SELECT status, attempts, last_error FROM fhir_subscription_deliveries WHERE subscription_id = $1
          ORDER BY created_at DESC, id DESC`,
        [subscriptionId],
      );
      return rows;
    },

    /** Leases due deliveries of active rest-hook subscriptions, like the webhook outbox. */
    async claimDue(now: string, leaseUntil: string, limit: number): Promise<ClaimedNotification[]> {
      const { rows } = await db.query<
        Omit<ClaimedNotification, 'owner' | 'headers' | 'secret'> & {
          secretSealed: string | null;
          headersSealed: string | null;
          owner: Row['owner'];
          owner_kind: 'user' | 'service';
          owner_id: string;
        }
      >(
        `WITH due AS (
           SELECT id FROM fhir_subscription_deliveries
            WHERE status = 'pending' AND next_attempt_at <= $1
            ORDER BY next_attempt_at, id
            LIMIT $3
            FOR UPDATE SKIP LOCKED
         )
         UPDATE fhir_subscription_deliveries d SET next_attempt_at = $2, updated_at = $1
           FROM due, fhir_subscriptions s
          WHERE d.id = due.id AND s.id = d.subscription_id
         RETURNING d.id, d.event_id AS "eventId", d.body, d.attempts, s.endpoint AS url,
                   s.secret_sealed AS "secretSealed", s.headers_sealed AS "headersSealed", s.id AS "subscriptionId", s.owner, s.owner_kind, s.owner_id,
                   d.patient_id AS "patientId", d.category`,
        [now, leaseUntil, limit],
      );
      const claimed: ClaimedNotification[] = [];
      for (const { secretSealed, headersSealed, owner, owner_kind, owner_id, ...r } of rows) {
        const opened = await openForDelivery(r.subscriptionId, secretSealed, headersSealed);
        // Sending it unsigned or without its headers would be wrong: it is dead, with the reason.
        if ('error' in opened) await recordAttempt(r, { status: 'dead', error: opened.error }, now);
        else
          claimed.push({
            ...r,
            secret: opened.secret,
            contentType: 'application/fhir+json',
            headers: headerMap(opened.headers),
            owner: { ...owner, kind: owner_kind, id: owner_id },
          });
      }
      return claimed;
    },

    recordAttempt,

    async nextDueAt(): Promise<string | undefined> {
      const { rows } = await db.query<{ at: string | null }>(
        `SELECT min(next_attempt_at) AS at FROM fhir_subscription_deliveries WHERE status = 'pending'`,
      );
      return rows[0]?.at ?? undefined;
    },
  };
}

export type SubscriptionStore = ReturnType<typeof subscriptionStore>;

/** `Name: value` lines as headers (validated when the subscription was made). */
function headerMap(lines: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    out[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return out;
}
