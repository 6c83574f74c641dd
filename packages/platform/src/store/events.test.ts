import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityEventsRepository } from './events.ts';
import { migrate } from './migrations.ts';
import { decodeCursor, encodeCursor } from './sql.ts';
import { type DisposableStore, openLegacyDatabase, storeBackends } from './testing.ts';
import { type DeadLetter, StoreError } from './types.ts';

describe.each(storeBackends())('dead letters, security events and credentials on $name', ({ name, open }) => {
  let store: DisposableStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  const letter = (deviceId: string, i: number): Omit<DeadLetter, 'id'> => ({
    receivedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    via: 'mqtt',
    deviceId,
    topic: `openiomt/v1/devices/${deviceId}/readings`,
    reason: i % 2 === 0 ? 'bad-signature' : 'schema-violation',
    detail: `refusal ${i}`,
    field: '/vitals/0/value',
    payloadBase64: randomBytes(16 + i).toString('base64'),
  });

  it('keeps a dead letter with its raw bytes, whatever they are', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const added = await store.deadLetters.add({
      receivedAt: '2025-02-01T10:00:00.000Z',
      via: 'https',
      reason: 'malformed-jws',
      detail: 'not a compact JWS',
      payloadBase64: all.toString('base64'),
    });
    expect(added.id).toMatch(/^[0-9a-f-]{36}$/);
    const page = await store.deadLetters.list({ reason: 'malformed-jws' });
    expect(page.items).toEqual([added]);
    expect(Buffer.from(page.items[0]!.payloadBase64, 'base64').equals(all)).toBe(true);
    await expect(store.deadLetters.add({ ...letter('x', 1), payloadBase64: '***' })).rejects.toMatchObject({
      code: 'invalid',
    });
  });

  it('lists dead letters newest first, by device and reason, page by page', async () => {
    const deviceId = `dev-${randomUUID().slice(0, 8)}`;
    const letters = Array.from({ length: 7 }, (_, i) => letter(deviceId, i));
    await store.deadLetters.addMany(letters);
    const seen: DeadLetter[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.deadLetters.list({ deviceId, limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items);
      cursor = page.next;
    } while (cursor !== undefined);
    expect(seen.map((d) => d.detail)).toEqual(letters.map((d) => d.detail).reverse());
    expect(seen[0]).toMatchObject({ ...letters[6], deviceId });
    const signatures = await store.deadLetters.list({ deviceId, reason: 'bad-signature' });
    expect(signatures.items.map((d) => d.detail)).toEqual([
      'refusal 6',
      'refusal 4',
      'refusal 2',
      'refusal 0',
    ]);
  });

  it('adds many dead letters all or none', async () => {
    const deviceId = `dev-${randomUUID().slice(0, 8)}`;
    const bad = { ...letter(deviceId, 1), via: 'carrier-pigeon' as 'mqtt' };
    await expect(store.deadLetters.addMany([letter(deviceId, 0), bad])).rejects.toThrow();
    expect((await store.deadLetters.list({ deviceId })).items).toHaveLength(0);
  });

  it('records security events and lists them by kind, newest first, with paging', async () => {
    const deviceId = `dev-${randomUUID().slice(0, 8)}`;
    const base = Date.UTC(2025, 3, 1);
    for (let i = 0; i < 5; i++)
      await store.securityEvents.add({
        kind: i < 3 ? 'bad-signature' : 'device-revoked',
        deviceId,
        source: '127.0.0.1',
        detail: `event ${i}`,
        at: new Date(base + i * 1000).toISOString(),
      });
    const now = await store.securityEvents.add({ kind: 'auth-failed', detail: 'wrong password' });
    expect(Math.abs(Date.parse(now.at) - Date.now())).toBeLessThan(60_000);
    const first = await store.securityEvents.list({ deviceId, limit: 2 });
    expect(first.items.map((e) => e.detail)).toEqual(['event 4', 'event 3']);
    const second = await store.securityEvents.list({ deviceId, limit: 2, cursor: first.next! });
    expect(second.items.map((e) => e.detail)).toEqual(['event 2', 'event 1']);
    const third = await store.securityEvents.list({ deviceId, limit: 2, cursor: second.next! });
    expect(third.items.map((e) => e.detail)).toEqual(['event 0']);
    expect(third.next).toBeUndefined();
    const revoked = await store.securityEvents.list({ deviceId, kind: 'device-revoked' });
    expect(revoked.items).toHaveLength(2);
    expect(revoked.items[0]).toMatchObject({ kind: 'device-revoked', source: '127.0.0.1', deviceId });
  });

  it('keeps the address an event came from apart from the subsystem that raised it', async () => {
    const deviceId = `dev-${randomUUID().slice(0, 8)}`;
    const at = Date.now();
    const enrolled = await store.securityEvents.add({
      at: new Date(at - 1000).toISOString(), // apart: two events of one millisecond list in id order
      kind: 'key-enrolled',
      deviceId,
      source: '192.0.2.10',
      subsystem: 'enrolment',
      detail: 'kid k1',
    });
    const detected = await store.securityEvents.add({
      at: new Date(at).toISOString(),
      kind: 'intrusion-detected',
      deviceId,
      subsystem: 'intrusion-detection',
      detail: 'forged-or-acl: 5 refusals in 60 s',
    });
    expect(enrolled).toMatchObject({ source: '192.0.2.10', subsystem: 'enrolment' });
    expect(detected.source).toBeUndefined();
    expect((await store.securityEvents.list({ deviceId })).items).toEqual([detected, enrolled]);
  });

  it('records no source rather than a word that is not an address', async () => {
    const closed = await store.securityEvents.add({ kind: 'auth-failed', source: 'unknown', detail: 'x' });
    const v6 = await store.securityEvents.add({
      kind: 'auth-failed',
      source: '::ffff:192.0.2.7',
      detail: 'y',
    });
    expect(closed.source).toBeUndefined();
    expect(v6.source).toBe('::ffff:192.0.2.7');
  });

  it(`moves the subsystem names an older version kept as the source to their own field (${name})`, async () => {
    const legacy = await openLegacyDatabase(name, '019');
    try {
      // Rows as version 018 wrote them, one column for both: [kind, source then, source and subsystem now].
      const rows = [
        ['key-enrolled', 'enrolment', [null, 'enrolment']],
        ['key-rotated', 'rotation', [null, 'rotation']],
        ['device-quarantined', 'intrusion-detection', [null, 'intrusion-detection']],
        ['intrusion-detected', 'intrusion-detection', [null, 'intrusion-detection']],
        // The address the failed-login guard blocked: it stays, and the detector is named beside it.
        ['intrusion-detected', '198.51.100.7', ['198.51.100.7', 'intrusion-detection']],
        ['device-released', '::ffff:127.0.0.1', ['::ffff:127.0.0.1', null]],
        ['auth-failed', '2001:db8::1', ['2001:db8::1', null]],
        ['login-failed', null, [null, null]],
      ] as const;
      for (const [i, [kind, source]] of rows.entries())
        await legacy.db.query(
          `INSERT INTO security_events (id, at, kind, device_id, source, detail)
           VALUES ($1, $2, $3, 'dev-old', $4, 'old')`,
          [randomUUID(), new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(), kind, source],
        );
      expect((await migrate(legacy.db)).applied).toContain('019-security-event-subsystem');
      const { items } = await securityEventsRepository(legacy.db).list({ deviceId: 'dev-old' });
      expect(items.reverse().map((e) => [e.kind, [e.source ?? null, e.subsystem ?? null]])).toEqual(
        rows.map(([kind, , now]) => [kind, now]),
      );
    } finally {
      await legacy.dispose();
    }
  });

  it('refuses any cursor it did not issue as invalid input, never as a database error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }), async (cursor) => {
        const e = await store.securityEvents.list({ cursor }).then(
          () => undefined,
          (err: unknown) => err,
        );
        // The odd random string may decode to a valid position; anything else must be a clean refusal.
        if (e !== undefined) expect(e).toMatchObject({ code: 'invalid', field: 'cursor' });
      }),
      { numRuns: 60 },
    );
    const forged = encodeCursor({ at: '2025-01-01T00:00:00.000Z', id: "x'; DROP TABLE readings; --" });
    await expect(store.deadLetters.list({ cursor: forged })).rejects.toBeInstanceOf(StoreError);
  });

  it('keeps administrator credentials by hash only', async () => {
    expect(await store.credentials.isEmpty()).toBe(true);
    await store.credentials.add({ name: 'admin', tokenHash: 'h1' });
    expect(await store.credentials.isEmpty()).toBe(false);
    expect(await store.credentials.findByHash('h1')).toBe('admin');
    expect(await store.credentials.findByHash('H1')).toBeUndefined();
    await expect(store.credentials.add({ name: 'admin', tokenHash: 'h2' })).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(store.credentials.add({ name: 'other', tokenHash: 'h1' })).rejects.toMatchObject({
      code: 'conflict',
    });
  });
});

describe('cursors', () => {
  it('round-trip any position and refuse everything that is not one', () => {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true }), fc.string({ minLength: 1 }), (d, id) => {
        const at = d.toISOString();
        if (!/^\d{4}-/.test(at)) return; // years outside 0000-9999 are not RFC 3339
        expect(decodeCursor(encodeCursor({ at, id }))).toEqual({ at, id });
      }),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          decodeCursor(s);
        } catch (e) {
          expect(e).toMatchObject({ code: 'invalid', field: 'cursor' });
        }
      }),
    );
  });
});
