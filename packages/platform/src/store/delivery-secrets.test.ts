/**
 * The signing secrets of webhooks and rest-hook Subscriptions, and a rest-hook's own headers, are sealed at
 * rest (migration 016): a marker in an Authorization header and the secrets themselves are searched for in
 * every row of every table (as text, and as the hex a bytea column would show), and on PGlite in every byte
 * of the data folder. A control marker written in clear (a webhook's description) must be found by the same
 * search, or it would prove nothing. Deliveries are still signed and carry the header; a sealed value moved
 * to another row does not open; and rows an older version wrote in clear are sealed at start and deliver.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver, type TestReceiver, waitFor } from '../notify/testing.ts';
import { WebhookDeliverer, type WebhookDelivererOptions } from '../notify/webhook-deliverer.ts';
import { memoryKeyService } from '../security/keys/master-key-file.ts';
import { subscriptionStore } from '../subscriptions/subscription-store.ts';
import { sealClearDeliverySecrets } from './delivery-secrets.ts';
import { storeOn } from './store.ts';
import { type DisposableStore, openLegacyDatabase, openPgliteTempDir, storeBackends } from './testing.ts';
import type { Database, Store } from './types.ts';
import { enqueueDeliveries, NO_SEALED_SECRET_ERROR, UNOPENED_SECRET_ERROR } from './webhooks.ts';

const FAST: WebhookDelivererOptions = {
  timeoutMs: 1000,
  baseDelayMs: 50,
  maxDelayMs: 2000,
  pollIntervalMs: 100,
  leaseMs: 3000,
  random: () => 0.5,
};

const newMarker = (kind: string) => `${kind}-${randomBytes(12).toString('hex')}`;

/** The tables whose rows hold `needle`, in their text form or as the hex of its UTF-8 bytes (bytea). */
async function tablesHolding(db: Database, needle: string): Promise<string[]> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const hits: string[] = [];
  for (const { name } of tables) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${name}" t
        WHERE position($1 in t::text) > 0 OR position(encode(convert_to($1, 'UTF8'), 'hex') in t::text) > 0`,
      [needle],
    );
    if ((rows[0]?.n ?? 0) > 0) hits.push(name);
  }
  return hits;
}

/** Every file under dir whose raw bytes hold the needle (UTF-8 or UTF-16LE). */
async function filesHolding(dir: string, needle: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const hits: string[] = [];
  for (const e of entries.filter((x) => x.isFile())) {
    const bytes = await readFile(join(e.parentPath, e.name));
    if (bytes.includes(Buffer.from(needle, 'utf8')) || bytes.includes(Buffer.from(needle, 'utf16le')))
      hits.push(join(e.parentPath, e.name));
  }
  return hits;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function receiver(): Promise<TestReceiver> {
  const r = await startReceiver();
  cleanup.push(() => r.close());
  return r;
}

function deliverer(store: Store, options: WebhookDelivererOptions = {}): WebhookDeliverer {
  const d = new WebhookDeliverer(store, { ...FAST, ...options });
  cleanup.push(() => d.close());
  d.start();
  return d;
}

/** A webhook (with a control marker in clear in its description) and a rest-hook with a bearer header. */
async function seed(store: Store, hookUrl: string, subUrl: string) {
  const bearer = newMarker('MARKER');
  const control = newMarker('CONTROL');
  const hook = await store.webhooks.create({ url: hookUrl, description: control });
  const subscriptions = subscriptionStore(store.db, store.keys);
  const headers = [`Authorization: Bearer ${bearer}`, 'X-Ward: 9'];
  const sub = await subscriptions.create({
    owner: { kind: 'user', id: 'u-lab', roles: ['clinician'], mfa: false },
    criteria: 'Observation?code=http://loinc.org|8867-4',
    reason: 'sealed at rest',
    channelType: 'rest-hook',
    endpoint: subUrl,
    headers,
    content: 'id-only',
  });
  return {
    bearer,
    control,
    headers,
    subscriptions,
    webhookId: hook.webhook.id,
    webhookSecret: hook.secret,
    subscriptionId: sub.subscription.id,
    subscriptionSecret: sub.secret as string,
  };
}

/** One event for the webhook and one notification for the Subscription, both due now. */
async function enqueueBoth(store: Store, s: Awaited<ReturnType<typeof seed>>) {
  const now = new Date().toISOString();
  await store.db.transaction(async (tx) => {
    await enqueueDeliveries(tx, { eventId: randomUUID(), patientId: 'p-1', body: '{"hook":1}', now });
    await s.subscriptions.enqueue(tx, {
      subscriptionId: s.subscriptionId,
      eventId: randomUUID(),
      patientId: 'p-1',
      category: 'vital-signs',
      body: '{"resourceType":"Bundle"}',
    });
  });
}

describe.each(storeBackends())('delivery secrets sealed at rest on $name', ({ name, open }) => {
  async function fresh(): Promise<DisposableStore> {
    const store = await open();
    cleanup.push(() => store.dispose());
    return store;
  }

  it('keeps the secrets and an Authorization header out of every table, and still signs and sends them', async () => {
    const store = await fresh();
    const hookReceiver = await receiver();
    const subReceiver = await receiver();
    const s = await seed(store, hookReceiver.url, subReceiver.url);
    hookReceiver.useSecret(s.webhookSecret);
    subReceiver.useSecret(s.subscriptionSecret);

    expect(await tablesHolding(store.db, s.control)).toEqual(['webhooks']);
    for (const needle of [s.bearer, s.webhookSecret, s.subscriptionSecret])
      expect(await tablesHolding(store.db, needle), needle).toEqual([]);
    const { rows } = await store.db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM webhooks WHERE secret IS NOT NULL OR secret_sealed IS NULL)
            + (SELECT count(*) FROM fhir_subscriptions
                WHERE secret IS NOT NULL OR headers IS NOT NULL OR secret_sealed IS NULL
                   OR headers_sealed IS NULL) AS n`,
    );
    expect(Number(rows[0]?.n)).toBe(0);
    // Its owner still reads the headers back.
    expect((await s.subscriptions.get(s.subscriptionId))?.headers).toEqual(s.headers);

    await enqueueBoth(store, s);
    deliverer(store);
    deliverer(store, { outbox: s.subscriptions });
    await waitFor(() => hookReceiver.received.length === 1 && subReceiver.received.length === 1);
    expect(hookReceiver.received[0]).toMatchObject({ verified: true, body: '{"hook":1}' });
    expect(subReceiver.received[0]?.verified).toBe(true);
    expect(subReceiver.received[0]?.headers).toMatchObject({
      authorization: `Bearer ${s.bearer}`,
      'x-ward': '9',
      'content-type': 'application/fhir+json',
    });
    // What was sent left no trace of them either (delivery rows keep bodies and errors, never headers).
    for (const needle of [s.bearer, s.webhookSecret, s.subscriptionSecret])
      expect(await tablesHolding(store.db, needle), needle).toEqual([]);
  });

  it('binds each sealed value to its row and kind: moved, it does not open and the delivery is dead, not sent', async () => {
    const store = await fresh();
    const r = await receiver();
    const s = await seed(store, r.url, r.url);
    const other = await store.webhooks.create({ url: r.url });
    // The other webhook is given this one's sealed secret; the Subscription its own headers as its secret.
    await store.db.query(
      `UPDATE webhooks SET secret_sealed = (SELECT secret_sealed FROM webhooks WHERE id = $1) WHERE id = $2`,
      [s.webhookId, other.webhook.id],
    );
    await store.db.query(`UPDATE fhir_subscriptions SET secret_sealed = headers_sealed WHERE id = $1`, [
      s.subscriptionId,
    ]);
    await enqueueBoth(store, s);
    const now = new Date().toISOString();
    const lease = new Date(Date.now() + 60_000).toISOString();
    const hooks = await store.webhooks.claimDue(now, lease, 10);
    // Only the first webhook's own delivery is claimed, with its own secret.
    expect(hooks.map((c) => c.secret)).toEqual([s.webhookSecret]);
    expect((await store.webhooks.deliveries(other.webhook.id)).items).toMatchObject([
      { status: 'dead', attempts: 1, lastError: UNOPENED_SECRET_ERROR },
    ]);
    expect(await s.subscriptions.claimDue(now, lease, 10)).toEqual([]);
    expect(await s.subscriptions.deliveries(s.subscriptionId)).toMatchObject([
      { status: 'dead', last_error: UNOPENED_SECRET_ERROR },
    ]);
    expect(await s.subscriptions.get(s.subscriptionId)).toMatchObject({ status: 'error' });
    expect(r.received).toEqual([]);
  });

  it(`seals at start what an older version wrote in clear, and it still delivers (${name})`, async () => {
    const legacy = await openLegacyDatabase(name, '016');
    cleanup.push(legacy.dispose);
    const bearer = newMarker('MARKER');
    const hookSecret = newMarker('hook-secret');
    const subSecret = newMarker('sub-secret');
    const hookReceiver = await receiver();
    const subReceiver = await receiver();
    hookReceiver.useSecret(hookSecret);
    subReceiver.useSecret(subSecret);
    // Rows as version 015 wrote them: secrets and headers in clear (a websocket channel has an empty list).
    const [hookId, subId, wsId] = [randomUUID(), randomUUID(), randomUUID()];
    await legacy.db.query(`INSERT INTO webhooks (id, url, secret, created_at) VALUES ($1, $2, $3, now())`, [
      hookId,
      hookReceiver.url,
      hookSecret,
    ]);
    await legacy.db.query(
      `INSERT INTO fhir_subscriptions (id, owner_kind, owner_id, owner, status, criteria, reason, channel_type,
         endpoint, headers, content, secret, created_at, updated_at) VALUES
         ($1, 'service', 'lab', '{"roles":["service"],"mfa":false}', 'active', 'Observation?code=x', 'old',
          'rest-hook', $2, $3, 'id-only', $4, now(), now()),
         ($5, 'service', 'lab', '{"roles":["service"],"mfa":false}', 'active', 'Observation?code=x', 'old',
          'websocket', NULL, '[]', 'id-only', NULL, now(), now())`,
      [subId, subReceiver.url, JSON.stringify([`Authorization: Bearer ${bearer}`]), subSecret, wsId],
    );
    for (const needle of [bearer, hookSecret, subSecret])
      expect(await tablesHolding(legacy.db, needle), needle).not.toEqual([]);

    // Without a key service the clear values cannot be sealed: the start is refused, they stay as they were.
    await expect(storeOn(legacy.db).migrate()).rejects.toThrow(/in clear and no key service is configured/);
    const keys = memoryKeyService();
    const upgraded = storeOn(legacy.db, { keys });
    await upgraded.migrate();
    for (const needle of [bearer, hookSecret, subSecret])
      expect(await tablesHolding(legacy.db, needle), needle).toEqual([]);
    const { rows } = await legacy.db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM webhooks WHERE secret IS NOT NULL)
            + (SELECT count(*) FROM fhir_subscriptions WHERE secret IS NOT NULL OR headers IS NOT NULL) AS n`,
    );
    expect(Number(rows[0]?.n)).toBe(0);
    // Idempotent: a second start finds nothing left to seal and leaves the sealed values as they are.
    const before = await legacy.db.query('SELECT id, secret_sealed FROM webhooks ORDER BY id');
    expect(await sealClearDeliverySecrets(legacy.db, keys)).toBe(0);
    expect((await legacy.db.query('SELECT id, secret_sealed FROM webhooks ORDER BY id')).rows).toEqual(
      before.rows,
    );

    const subscriptions = subscriptionStore(legacy.db, keys);
    expect((await subscriptions.get(wsId))?.headers).toEqual([]);
    const now = new Date().toISOString();
    await legacy.db.transaction(async (tx) => {
      await enqueueDeliveries(tx, { eventId: randomUUID(), patientId: 'p-old', body: '{"old":1}', now });
      await subscriptions.enqueue(tx, {
        subscriptionId: subId,
        eventId: randomUUID(),
        patientId: 'p-old',
        category: 'vital-signs',
        body: '{"resourceType":"Bundle"}',
      });
    });
    deliverer(upgraded);
    deliverer(upgraded, { outbox: subscriptions });
    await waitFor(() => hookReceiver.received.length === 1 && subReceiver.received.length === 1);
    expect(hookReceiver.received[0]?.verified).toBe(true);
    expect(subReceiver.received[0]?.verified).toBe(true);
    expect(subReceiver.received[0]?.headers.authorization).toBe(`Bearer ${bearer}`);
  });

  it('dead-letters, with what to do, a delivery whose webhook an older process wrote after the upgrade', async () => {
    const store = await fresh();
    const id = randomUUID();
    await store.db.query(`INSERT INTO webhooks (id, url, secret, created_at) VALUES ($1, $2, 'x', now())`, [
      id,
      'https://example.org/old-process',
    ]);
    const now = new Date().toISOString();
    await store.db.transaction((tx) =>
      enqueueDeliveries(tx, { eventId: randomUUID(), patientId: 'p', body: '{}', now }),
    );
    expect(await store.webhooks.claimDue(now, new Date(Date.now() + 60_000).toISOString(), 10)).toEqual([]);
    expect((await store.webhooks.deliveries(id)).items).toMatchObject([
      { status: 'dead', lastError: NO_SEALED_SECRET_ERROR },
    ]);
  });
});

describe('delivery secrets in the embedded database files', () => {
  it('are nowhere in the bytes of the PGlite data folder', async () => {
    const folder = await openPgliteTempDir();
    cleanup.push(folder.remove);
    const store = await folder.open();
    let s: Awaited<ReturnType<typeof seed>>;
    try {
      s = await seed(store, 'https://example.org/hook', 'https://example.org/fhir-hook');
      await store.db.query('CHECKPOINT');
    } finally {
      await store.close();
    }
    expect(await filesHolding(folder.dataDir, s.control)).not.toEqual([]);
    for (const needle of [s.bearer, s.webhookSecret, s.subscriptionSecret])
      expect(await filesHolding(folder.dataDir, needle), needle).toEqual([]);
  }, 60_000);
});
