import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleKey } from './sample-readings.ts';
import { type DisposableStore, storeBackends } from './testing.ts';
import { StoreError } from './types.ts';

const uid = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const inHours = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();

async function refusal(p: Promise<unknown>): Promise<StoreError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StoreError);
  return e as StoreError;
}

describe.each(storeBackends())('patients, devices and assignments on $name', ({ open }) => {
  let store: DisposableStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  const activeDevice = async () => {
    const id = uid('dev');
    const { enrolmentCode } = await store.devices.register({ id, kind: 'ecg-patch' });
    const key = sampleKey();
    await store.devices.enrol(id, enrolmentCode, key.jwk);
    return { id, key };
  };

  describe('patients', () => {
    it('creates, reads back and refuses a second patient with the same id', async () => {
      const id = uid('pat');
      const p = await store.patients.create({ id, displayName: 'Bed 4' });
      expect(p).toMatchObject({ id, displayName: 'Bed 4' });
      expect(p.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(await store.patients.get(id)).toEqual(p);
      expect(await store.patients.get(uid('none'))).toBeUndefined();
      expect((await refusal(store.patients.create({ id }))).code).toBe('conflict');
    });

    it('pages through every patient exactly once', async () => {
      for (let i = 0; i < 5; i++) await store.patients.create({});
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.patients.list({ limit: 2, ...(cursor ? { cursor } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((p) => p.id));
        cursor = page.next;
      } while (cursor !== undefined);
      const all = await store.patients.list({ limit: 1000 });
      expect(seen).toEqual(all.items.map((p) => p.id));
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('refuses a bad cursor and a bad limit as invalid input', async () => {
      expect(await refusal(store.patients.list({ cursor: 'not-a-cursor' }))).toMatchObject({
        code: 'invalid',
        field: 'cursor',
      });
      expect(await refusal(store.patients.list({ limit: 0 }))).toMatchObject({
        code: 'invalid',
        field: 'limit',
      });
    });
  });

  describe('enrolment', () => {
    it('issues a readable one-time code and makes the device active with the key', async () => {
      const id = uid('dev');
      const reg = await store.devices.register({ id, kind: 'pulse-oximeter', expectedIntervalS: 5 });
      expect(reg.enrolmentCode).toMatch(/^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{2}$/);
      expect(Date.parse(reg.enrolmentExpiresAt) - Date.now()).toBeGreaterThan(23 * 3600_000);
      expect(reg.device).toMatchObject({ id, status: 'registered', expectedIntervalS: 5, highSeq: 0 });
      const { rows } = await store.db.query<{ hash: Uint8Array }>(
        'SELECT enrolment_code_hash AS hash FROM devices WHERE id = $1',
        [id],
      );
      // Only a SHA-256 hash is kept, never the code itself.
      expect(rows[0]?.hash).toHaveLength(32);
      expect(Buffer.from(rows[0]!.hash).toString('utf8')).not.toContain(reg.enrolmentCode.slice(0, 4));
      const key = sampleKey();
      const stored = await store.devices.enrol(id, reg.enrolmentCode, key.jwk);
      expect(stored).toMatchObject({ kid: key.kid, deviceId: id, jwk: key.jwk });
      expect((await store.devices.get(id))?.status).toBe('active');
      expect(await store.devices.keyByKid(key.kid)).toEqual(stored);
    });

    it('accepts the code only once', async () => {
      const id = uid('dev');
      const { enrolmentCode } = await store.devices.register({ id, kind: 'thermometer' });
      await store.devices.enrol(id, enrolmentCode, sampleKey().jwk);
      const again = await refusal(store.devices.enrol(id, enrolmentCode, sampleKey().jwk));
      expect(again.code).toBe('enrolment-invalid');
    });

    it('accepts the code typed in lower case without dashes; a wrong code does not use it up', async () => {
      const id = uid('dev');
      const { enrolmentCode } = await store.devices.register({ id, kind: 'bp-cuff' });
      expect((await refusal(store.devices.enrol(id, 'AAAA-AAAA-AA', sampleKey().jwk))).code).toBe(
        'enrolment-invalid',
      );
      const typed = enrolmentCode.replaceAll('-', '').toLowerCase();
      await expect(store.devices.enrol(id, typed, sampleKey().jwk)).resolves.toMatchObject({ deviceId: id });
    });

    it('refuses an expired code, an unknown device and a revoked device with the same generic error', async () => {
      const expired = uid('dev');
      const a = await store.devices.register({ id: expired, kind: 'wearable' });
      await store.db.query(
        `UPDATE devices SET enrolment_expires_at = now() - interval '1 second' WHERE id = $1`,
        [expired],
      );
      const revoked = uid('dev');
      const b = await store.devices.register({ id: revoked, kind: 'wearable' });
      await store.devices.revoke(revoked, 'lost');
      const errors = [
        await refusal(store.devices.enrol(expired, a.enrolmentCode, sampleKey().jwk)),
        await refusal(store.devices.enrol(uid('nobody'), a.enrolmentCode, sampleKey().jwk)),
        await refusal(store.devices.enrol(revoked, b.enrolmentCode, sampleKey().jwk)),
      ];
      for (const e of errors)
        expect({ code: e.code, message: e.message }).toEqual({
          code: 'enrolment-invalid',
          message: errors[0]!.message,
        });
      expect((await store.devices.get(expired))?.status).toBe('registered');
    });

    it('refuses a duplicate device id, a malformed id and a key that is not Ed25519', async () => {
      const id = uid('dev');
      await store.devices.register({ id, kind: 'ecg-patch' });
      expect((await refusal(store.devices.register({ id, kind: 'ecg-patch' }))).code).toBe('conflict');
      expect(await refusal(store.devices.register({ id: 'has space', kind: 'x' }))).toMatchObject({
        code: 'invalid',
        field: 'id',
      });
      const { enrolmentCode } = await store.devices.newEnrolmentCode(id);
      const bad = { kty: 'EC', crv: 'P-256', x: 'abc' } as never;
      expect(await refusal(store.devices.enrol(id, enrolmentCode, bad))).toMatchObject({ field: 'jwk' });
    });

    it('re-enrolment with a fresh code replaces the lost key', async () => {
      const { id, key } = await activeDevice();
      const { enrolmentCode } = await store.devices.newEnrolmentCode(id, 60);
      const fresh = sampleKey();
      await store.devices.enrol(id, enrolmentCode, fresh.jwk);
      expect((await store.devices.keyByKid(key.kid))?.revokedAt).toBeDefined();
      expect((await store.devices.keyByKid(fresh.kid))?.revokedAt).toBeUndefined();
    });
  });

  describe('keys and revocation', () => {
    it('rotation keeps older keys valid until the overlap ends, never extending an earlier end', async () => {
      const { id, key: k1 } = await activeDevice();
      const k2 = sampleKey();
      const until1 = inHours(1);
      await store.devices.rotateKey(id, k2.jwk, until1);
      const k3 = sampleKey();
      const until2 = inHours(2);
      await store.devices.rotateKey(id, k3.jwk, until2);
      const byKid = new Map((await store.devices.keys(id)).map((k) => [k.kid, k]));
      expect(byKid.get(k1.kid)?.notAfter).toBe(until1);
      expect(byKid.get(k2.kid)?.notAfter).toBe(until2);
      expect(byKid.get(k3.kid)?.notAfter).toBeUndefined();
      expect([...byKid.values()].every((k) => k.revokedAt === undefined)).toBe(true);
    });

    it('refuses rotation of an unknown or not yet enrolled device', async () => {
      expect((await refusal(store.devices.rotateKey(uid('none'), sampleKey().jwk, inHours(1)))).code).toBe(
        'not-found',
      );
      const id = uid('dev');
      await store.devices.register({ id, kind: 'x' });
      expect((await refusal(store.devices.rotateKey(id, sampleKey().jwk, inHours(1)))).code).toBe('conflict');
      expect(await refusal(store.devices.rotateKey(id, sampleKey().jwk, 'tomorrow'))).toMatchObject({
        field: 'overlapUntil',
      });
    });

    it('revocation marks the device and every key, and forbids a new enrolment code', async () => {
      const { id, key } = await activeDevice();
      await store.devices.rotateKey(id, sampleKey().jwk, inHours(1));
      const revoked = await store.devices.revoke(id, 'reported stolen');
      expect(revoked).toMatchObject({ id, status: 'revoked', revokedReason: 'reported stolen' });
      expect(revoked.revokedAt).toBeDefined();
      const keys = await store.devices.keys(id);
      expect(keys).toHaveLength(2);
      expect(keys.every((k) => k.revokedAt !== undefined)).toBe(true);
      expect((await store.devices.keyByKid(key.kid))?.revokedAt).toBe(keys[0]?.revokedAt);
      expect((await refusal(store.devices.newEnrolmentCode(id))).code).toBe('conflict');
      expect((await refusal(store.devices.revoke(uid('none'), 'x'))).code).toBe('not-found');
      // Revoked once: a second revocation is refused and leaves the first reason and time.
      const again = await refusal(store.devices.revoke(id, 'found again'));
      expect(again.code).toBe('conflict');
      expect(again.message).toContain(`revoked already at ${revoked.revokedAt}`);
      expect(await store.devices.get(id)).toMatchObject({
        revokedReason: 'reported stolen',
        revokedAt: revoked.revokedAt,
      });
    });

    it('lists devices by status', async () => {
      const { id } = await activeDevice();
      const revoked = await activeDevice();
      await store.devices.revoke(revoked.id, 'retired');
      const active = await store.devices.list({ status: 'active', limit: 1000 });
      expect(active.items.map((d) => d.id)).toContain(id);
      expect(active.items.every((d) => d.status === 'active')).toBe(true);
      const gone = await store.devices.list({ status: 'revoked', limit: 1000 });
      expect(gone.items.map((d) => d.id)).toContain(revoked.id);
    });
  });

  describe('assignments', () => {
    const t = (minutes: number) => new Date(Date.UTC(2025, 0, 1, 8, minutes)).toISOString();

    it('refuses an unknown device or patient, naming which', async () => {
      const { id } = await activeDevice();
      const patient = await store.patients.create({});
      expect(
        await refusal(store.assignments.assign({ deviceId: uid('none'), patientId: patient.id })),
      ).toMatchObject({ code: 'not-found', field: 'deviceId' });
      expect(await refusal(store.assignments.assign({ deviceId: id, patientId: uid('none') }))).toMatchObject(
        {
          code: 'not-found',
          field: 'patientId',
        },
      );
    });

    it('keeps the history and answers patientAt with from inclusive, to exclusive', async () => {
      const { id } = await activeDevice();
      const p1 = await store.patients.create({});
      const p2 = await store.patients.create({});
      await store.assignments.assign({ deviceId: id, patientId: p1.id, from: t(0), to: t(60) });
      await store.assignments.assign({ deviceId: id, patientId: p2.id, from: t(60) });
      const history = await store.assignments.history(id);
      expect(history.map((a) => [a.patientId, a.from, a.to])).toEqual([
        [p1.id, t(0), t(60)],
        [p2.id, t(60), undefined],
      ]);
      expect(
        await store.assignments.patientAt(id, new Date(Date.parse(t(0)) - 1).toISOString()),
      ).toBeUndefined();
      expect(await store.assignments.patientAt(id, t(0))).toBe(p1.id);
      expect(await store.assignments.patientAt(id, new Date(Date.parse(t(60)) - 1).toISOString())).toBe(
        p1.id,
      );
      expect(await store.assignments.patientAt(id, t(60))).toBe(p2.id);
      expect(await store.assignments.patientAt(id, '2030-01-01T00:00:00+02:00')).toBe(p2.id);
    });

    it('refuses overlapping periods, and the database itself refuses them', async () => {
      const { id } = await activeDevice();
      const p1 = await store.patients.create({});
      const p2 = await store.patients.create({});
      await store.assignments.assign({ deviceId: id, patientId: p1.id, from: t(0), to: t(60) });
      expect(
        await refusal(store.assignments.assign({ deviceId: id, patientId: p2.id, from: t(30), to: t(90) })),
      ).toMatchObject({ code: 'conflict' });
      expect(
        await refusal(store.assignments.assign({ deviceId: id, patientId: p2.id, from: t(-30) })),
      ).toMatchObject({ code: 'conflict' });
      const direct = store.db.query(
        `INSERT INTO device_assignments (id, device_id, patient_id, from_at, to_at, created_at)
         VALUES ($1, $2, $3, $4, NULL, now())`,
        [randomUUID(), id, p2.id, t(59)],
      );
      await expect(direct).rejects.toMatchObject({ code: '23P01' });
      expect(await store.assignments.history(id)).toHaveLength(1);
    });

    it('refuses concurrent overlapping assignments: exactly one wins', async () => {
      const { id } = await activeDevice();
      const patients = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(() => store.patients.create({})));
      const results = await Promise.allSettled(
        patients.map((p) => store.assignments.assign({ deviceId: id, patientId: p.id, from: t(0) })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected') expect((r.reason as StoreError).code).toBe('conflict');
    });

    it('ends the current assignment; an end before the start is refused', async () => {
      const { id } = await activeDevice();
      const p = await store.patients.create({});
      await store.assignments.assign({ deviceId: id, patientId: p.id, from: t(0) });
      expect(await refusal(store.assignments.end(id, t(-1)))).toMatchObject({ code: 'invalid', field: 'at' });
      const ended = await store.assignments.end(id, t(10));
      expect(ended).toMatchObject({ patientId: p.id, from: t(0), to: t(10) });
      expect(await store.assignments.patientAt(id, t(10))).toBeUndefined();
      expect(await store.assignments.end(id)).toBeUndefined();
      expect(
        await refusal(store.assignments.assign({ deviceId: id, patientId: p.id, from: t(20), to: t(20) })),
      ).toMatchObject({ code: 'invalid', field: 'to' });
    });
  });
});
