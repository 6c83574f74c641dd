import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DisposableStore, storeBackends } from './testing.ts';
import { enqueueDeliveries } from './webhooks.ts';

describe.each(storeBackends())('webhook store on $name', ({ open }) => {
  let store: DisposableStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  const iso = (ms: number) => new Date(ms).toISOString();

  it('leases a due delivery to one claimer and keeps only the first outcome of an attempt', async () => {
    const { webhook, secret } = await store.webhooks.create({
      url: 'https://example.org/a',
      patientId: 'p-lease',
    });
    const t0 = Date.UTC(2031, 0, 1);
    const n = await store.db.transaction((tx) =>
      enqueueDeliveries(tx, { eventId: randomUUID(), patientId: 'p-lease', body: '{"x":1}', now: iso(t0) }),
    );
    expect(n).toBe(1);
    expect(await store.webhooks.claimDue(iso(t0 - 1), iso(t0 + 1000), 10)).toEqual([]); // not yet due
    const [claimed] = await store.webhooks.claimDue(iso(t0), iso(t0 + 1000), 10);
    expect(claimed).toMatchObject({ url: 'https://example.org/a', secret, body: '{"x":1}', attempts: 0 });
    expect(await store.webhooks.claimDue(iso(t0 + 999), iso(t0 + 2000), 10)).toEqual([]); // leased
    // The lease ran out and another deliverer claimed it: both finish, only the first result counts.
    const [again] = await store.webhooks.claimDue(iso(t0 + 1000), iso(t0 + 2000), 10);
    expect(again?.id).toBe(claimed!.id);
    const retryAt = iso(t0 + 5000);
    expect(
      await store.webhooks.recordAttempt(
        again!,
        { status: 'pending', error: 'HTTP 502', nextAttemptAt: retryAt },
        iso(t0),
      ),
    ).toBe(true);
    expect(await store.webhooks.recordAttempt(claimed!, { status: 'delivered' }, iso(t0))).toBe(false);
    expect(await store.webhooks.getDelivery(claimed!.id)).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'HTTP 502',
      nextAttemptAt: retryAt,
    });
    expect(await store.webhooks.nextDueAt()).toBe(retryAt);
    await store.webhooks.disable(webhook.id, 'done', iso(t0));
    expect(await store.webhooks.nextDueAt()).toBeUndefined();
  });

  it('keeps errors short and refuses an event id that is not a uuid', async () => {
    const { webhook } = await store.webhooks.create({ url: 'https://example.org/b', patientId: 'p-long' });
    const t0 = Date.UTC(2031, 0, 2);
    await store.db.transaction((tx) =>
      enqueueDeliveries(tx, { eventId: randomUUID(), patientId: 'p-long', body: '{}', now: iso(t0) }),
    );
    const [c] = await store.webhooks.claimDue(iso(t0), iso(t0 + 1000), 10);
    await store.webhooks.recordAttempt(c!, { status: 'dead', error: 'x'.repeat(5000) }, iso(t0));
    const [d] = (await store.webhooks.deliveries(webhook.id, { status: 'dead' })).items;
    expect(d!.lastError!.length).toBeLessThanOrEqual(501);
    await expect(
      store.db.transaction((tx) =>
        enqueueDeliveries(tx, { eventId: 'not-a-uuid', patientId: 'p', body: '{}', now: iso(t0) }),
      ),
    ).rejects.toMatchObject({ code: 'invalid' });
    await store.webhooks.disable(webhook.id, 'done', iso(t0));
  });

  it('lists webhooks oldest first, page by page, and finds nothing for ids that are not uuids', async () => {
    const made = [];
    for (let i = 0; i < 3; i++)
      made.push((await store.webhooks.create({ url: `https://example.org/${i}` })).webhook);
    const all = [];
    let cursor: string | undefined;
    do {
      const page = await store.webhooks.list({ limit: 2, ...(cursor ? { cursor } : {}) });
      all.push(...page.items);
      cursor = page.next;
    } while (cursor);
    // Ordered by (createdAt, id): two made in the same millisecond come in id order.
    const key = (w: { createdAt: string; id: string }) => `${w.createdAt} ${w.id}`;
    expect(all.map(key)).toEqual(all.map(key).sort());
    expect(new Set(all.slice(-3))).toEqual(new Set(made));
    expect(JSON.stringify(all)).not.toContain('secret');
    expect(await store.webhooks.get('nope')).toBeUndefined();
    expect(await store.webhooks.getDelivery('nope')).toBeUndefined();
    await expect(store.webhooks.disable('nope', 'x', iso(Date.now()))).rejects.toMatchObject({
      code: 'not-found',
    });
    for (const w of made) await store.webhooks.disable(w.id, 'done', iso(Date.now()));
  });
});
