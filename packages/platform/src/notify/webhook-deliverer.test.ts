import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DisposableStore, openPgliteTempDir, storeBackends } from '../store/testing.ts';
import type { Store } from '../store/types.ts';
import { type Answer, startReceiver, type TestReceiver, waitFor } from './testing.ts';
import { WebhookDeliverer, type WebhookDelivererOptions } from './webhook-deliverer.ts';
import { enqueueWebhookDeliveries, type WebhookEvent } from './webhook-outbox.ts';

const FAST: WebhookDelivererOptions = {
  timeoutMs: 1000,
  baseDelayMs: 50,
  maxDelayMs: 2000,
  pollIntervalMs: 200,
  leaseMs: 3000,
  random: () => 0.5,
};

const event = (patientId: string): WebhookEvent => {
  const id = randomUUID();
  const alarmId = randomUUID();
  return {
    id,
    type: 'alarm.notification',
    patientId,
    at: new Date().toISOString(),
    data: {
      notification: {
        id,
        alarmId,
        patientId,
        kind: 'notify',
        priority: 'high',
        level: 0,
        reason: 'SpO2 84 %',
      },
      alarm: { id: alarmId, patientId, condition: 'spo2-low', state: 'active', priority: 'high' },
    },
  };
};

const enqueue = (store: Store, e: WebhookEvent): Promise<number> =>
  store.db.transaction((tx) => enqueueWebhookDeliveries(tx, e, new Date()));

describe.each(storeBackends())('webhook deliveries on $name', ({ open }) => {
  let store: DisposableStore;
  const cleanup: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    store = await open();
  });
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  async function subscribe(patientId?: string, answer?: (n: number) => Answer) {
    const receiver = await startReceiver(answer);
    const { webhook, secret } = await store.webhooks.create({
      url: receiver.url,
      ...(patientId ? { patientId } : {}),
    });
    receiver.useSecret(secret);
    cleanup.push(async () => {
      // Disabling dead-letters what is left, so no later test's deliverer picks it up.
      await store.webhooks.disable(webhook.id, 'test over', new Date().toISOString());
      await receiver.close();
    });
    return { receiver, webhook };
  }

  function deliverer(options: WebhookDelivererOptions = {}, s: Store = store) {
    const d = new WebhookDeliverer(s, { ...FAST, ...options });
    cleanup.push(() => d.close());
    d.start();
    return d;
  }

  const deliveries = async (webhookId: string) => (await store.webhooks.deliveries(webhookId)).items;
  const settled = (webhookId: string, status: 'delivered' | 'dead', n = 1) =>
    waitFor(async () => {
      const items = await deliveries(webhookId);
      return items.length === n && items.every((d) => d.status === status) && items;
    });

  it('delivers the signed event, which the receiver verifies', async () => {
    const { receiver, webhook } = await subscribe();
    const d = deliverer({ pollIntervalMs: 60_000 });
    const e = event('p-sign');
    expect(await enqueue(store, e)).toBe(1);
    d.wake();
    const [delivery] = await settled(webhook.id, 'delivered');
    expect(delivery).toMatchObject({ eventId: e.id, attempts: 1, status: 'delivered' });
    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.verified).toBe(true);
    expect(got.id).toBe(e.id);
    expect(got.headers['content-type']).toBe('application/json');
    expect(Math.abs(Number(got.headers['openiomt-webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(JSON.parse(got.body)).toEqual({
      id: e.id,
      type: e.type,
      patientId: e.patientId,
      at: e.at,
      data: e.data,
    });
  });

  it('retries a failing receiver with growing waits and delivers on the third attempt', async () => {
    const { receiver, webhook } = await subscribe(undefined, (n) => (n < 2 ? 503 : 200));
    const d = deliverer({ baseDelayMs: 200 });
    await enqueue(store, event('p-retry'));
    d.wake();
    const [delivery] = await settled(webhook.id, 'delivered');
    expect(delivery).toMatchObject({ attempts: 3, lastError: 'HTTP 503' });
    expect(receiver.received.map((r) => r.verified)).toEqual([true, true, true]);
    const [a, b, c] = receiver.received.map((r) => r.at) as [number, number, number];
    // random() = 0.5 with jitter 0.2: waits of 180 ms then 360 ms.
    expect(b - a).toBeGreaterThanOrEqual(170);
    expect(c - b).toBeGreaterThanOrEqual(340);
    expect(c - b).toBeGreaterThan(b - a);
  });

  it('dead-letters a delivery after the last attempt, with the last error', async () => {
    const { receiver, webhook } = await subscribe(undefined, () => 500);
    const refused = await startReceiver();
    await refused.close(); // nothing listens on its port any more
    const gone = await store.webhooks.create({ url: refused.url });
    cleanup.push(
      async () => void (await store.webhooks.disable(gone.webhook.id, 'test over', new Date().toISOString())),
    );
    deliverer({ maxAttempts: 3 });
    await enqueue(store, event('p-dead'));
    const [dead] = await settled(webhook.id, 'dead');
    expect(dead).toMatchObject({ attempts: 3, lastError: 'HTTP 500' });
    expect(receiver.received).toHaveLength(3);
    const [unreachable] = await settled(gone.webhook.id, 'dead');
    expect(unreachable).toMatchObject({ attempts: 3 });
    expect(unreachable!.lastError).toMatch(/^request failed: ECONNREFUSED/);
  });

  it('counts a timeout and a redirect as failures', async () => {
    const slow = await subscribe(undefined, (n) => (n === 0 ? 'hang' : 204));
    const moved = await subscribe(undefined, () => 302);
    deliverer({ timeoutMs: 300, leaseMs: 2000, maxAttempts: 2 });
    await enqueue(store, event('p-timeout'));
    const [delivered] = await settled(slow.webhook.id, 'delivered');
    expect(delivered).toMatchObject({ attempts: 2, lastError: 'timed out after 300 ms' });
    const [dead] = await settled(moved.webhook.id, 'dead');
    expect(dead).toMatchObject({ attempts: 2, lastError: 'HTTP 302: redirects are not followed' });
  });

  it('sends only to webhooks of the event patient or of every patient, and not to disabled ones', async () => {
    const mine = await subscribe('p-ward-1');
    const everyone = await subscribe();
    const other = await subscribe('p-ward-2');
    const removed = await subscribe('p-ward-1');
    await store.webhooks.disable(removed.webhook.id, 'removed', new Date().toISOString());
    deliverer();
    const e = event('p-ward-1');
    expect(await enqueue(store, e)).toBe(2);
    expect(await enqueue(store, e)).toBe(0); // the same event again: already enqueued
    await settled(mine.webhook.id, 'delivered');
    await settled(everyone.webhook.id, 'delivered');
    expect(await deliveries(other.webhook.id)).toEqual([]);
    expect(await deliveries(removed.webhook.id)).toEqual([]);
    expect(other.receiver.received).toHaveLength(0);
    expect(removed.receiver.received).toHaveLength(0);
  });

  it('dead-letters pending deliveries of a webhook when it is disabled, and retries a dead one on request', async () => {
    const { receiver, webhook } = await subscribe(undefined, () => 500);
    const slow = deliverer({ baseDelayMs: 60_000 });
    await enqueue(store, event('p-disable'));
    await waitFor(async () => (await deliveries(webhook.id))[0]?.attempts === 1);
    const { deadLettered } = await store.webhooks.disable(
      webhook.id,
      'removed by test',
      new Date().toISOString(),
    );
    expect(deadLettered).toBe(1);
    const [dead] = await deliveries(webhook.id);
    expect(dead).toMatchObject({ status: 'dead', lastError: 'removed by test' });
    await slow.close();
    await expect(store.webhooks.retry(dead!.id, new Date().toISOString())).rejects.toMatchObject({
      code: 'conflict',
    });

    const live = await subscribe(undefined, (n) => (n === 0 ? 500 : 204));
    const d = deliverer({ maxAttempts: 1 });
    await enqueue(store, event('p-retry-dead'));
    const [again] = await settled(live.webhook.id, 'dead');
    await expect(store.webhooks.retry(randomUUID(), new Date().toISOString())).rejects.toMatchObject({
      code: 'not-found',
    });
    const pending = await store.webhooks.retry(again!.id, new Date().toISOString());
    expect(pending).toMatchObject({ status: 'pending', attempts: 0 });
    await expect(store.webhooks.retry(again!.id, new Date().toISOString())).rejects.toMatchObject({
      code: 'conflict',
    });
    d.wake();
    await settled(live.webhook.id, 'delivered');
    expect(live.receiver.received).toHaveLength(2);
    expect(receiver.received).toHaveLength(1);
  });

  it('enqueues nothing when the transaction that recorded the transition rolls back', async () => {
    const { webhook } = await subscribe();
    const failed = store.db.transaction(async (tx) => {
      await enqueueWebhookDeliveries(tx, event('p-rollback'), new Date());
      throw new Error('the alarm transition failed');
    });
    await expect(failed).rejects.toThrow('the alarm transition failed');
    expect(await deliveries(webhook.id)).toEqual([]);
  });

  it('picks up pending deliveries after a restart, and those a dead deliverer held once its lease ends', async () => {
    const { receiver, webhook } = await subscribe('p-restart', () => 500);
    const first = new WebhookDeliverer(store, { ...FAST, baseDelayMs: 300 });
    first.start();
    await enqueue(store, event('p-restart'));
    await waitFor(async () => (await deliveries(webhook.id))[0]?.attempts === 1);
    await first.close();
    receiver.answer(() => 204);
    const second = deliverer();
    const [delivered] = await settled(webhook.id, 'delivered');
    expect(delivered).toMatchObject({ attempts: 2 });
    await second.close();

    // A deliverer that claimed and then died: the row stays hidden until the lease runs out.
    const held = await subscribe('p-crash');
    await enqueue(store, event('p-crash'));
    const claimedAt = Date.now();
    const claimed = await store.webhooks.claimDue(
      new Date(claimedAt).toISOString(),
      new Date(claimedAt + 600).toISOString(),
      10,
    );
    expect(claimed.map((c) => c.url)).toEqual([held.receiver.url]);
    deliverer();
    await settled(held.webhook.id, 'delivered');
    expect(held.receiver.received[0]!.at - claimedAt).toBeGreaterThanOrEqual(590);
  });

  it('shares the outbox between two deliverers without sending anything twice', async () => {
    const { receiver, webhook } = await subscribe();
    deliverer({ concurrency: 3 });
    deliverer({ concurrency: 3 });
    const events = Array.from({ length: 30 }, () => event('p-shared'));
    await Promise.all(events.map((e) => enqueue(store, e)));
    await settled(webhook.id, 'delivered', 30);
    expect(receiver.received).toHaveLength(30);
    expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set(events.map((e) => e.id)));
    expect(receiver.received.every((r) => r.verified)).toBe(true);
  });
});

describe('webhook deliveries across a database restart (PGlite data folder)', () => {
  let receiver: TestReceiver | undefined;
  afterAll(async () => {
    await receiver?.close();
  });

  it('delivers what was enqueued before the process stopped', async () => {
    const folder = await openPgliteTempDir();
    try {
      receiver = await startReceiver();
      let store = await folder.open();
      const { webhook, secret } = await store.webhooks.create({ url: receiver.url });
      receiver.useSecret(secret);
      const e = event('p-durable');
      expect(await enqueue(store, e)).toBe(1);
      await store.close();

      store = await folder.open();
      const d = new WebhookDeliverer(store, FAST);
      d.start();
      await waitFor(
        async () => (await store.webhooks.deliveries(webhook.id)).items[0]?.status === 'delivered',
      );
      await d.close();
      await store.close();
      expect(receiver.received.map((r) => [r.id, r.verified])).toEqual([[e.id, true]]);
    } finally {
      await folder.remove();
    }
  });
});
