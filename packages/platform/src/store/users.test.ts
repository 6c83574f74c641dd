import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DisposableStore, storeBackends } from './testing.ts';
import { StoreError } from './types.ts';

const T0 = Date.parse('2025-03-01T08:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const policy = { threshold: 3, baseS: 60, maxS: 200 };

describe.each(storeBackends())('users and sessions on $name', ({ open }) => {
  let store: DisposableStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => store?.dispose());

  let n = 0;
  const newUser = (over: Record<string, unknown> = {}) =>
    store.users.create({
      username: `user${++n}`,
      roles: ['nurse'],
      setupTokenHash: `hash-${n}`,
      setupExpiresAt: at(3600_000),
      at: at(0),
      ...over,
    });

  it('the database itself refuses unknown roles, misplaced patient ids and non-normalised usernames', async () => {
    const patient = await store.patients.create({});
    const refused = async (over: Record<string, unknown>, field: string) => {
      const e = await newUser(over).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(StoreError);
      expect((e as StoreError).field).toBe(field);
    };
    await refused({ roles: ['surgeon'] }, 'roles');
    await refused({ roles: [] }, 'roles');
    await refused({ roles: ['patient'] }, 'patientId');
    await refused({ roles: ['nurse'], patientId: patient.id }, 'patientId');
    await refused({ roles: ['patient'], patientId: 'missing' }, 'patientId');
    await refused({ username: 'Upper' }, 'username');
    const p = await newUser({ roles: ['patient', 'caregiver'], patientId: patient.id });
    expect(p).toMatchObject({ roles: ['patient', 'caregiver'], patientId: patient.id, passwordSet: false });
    await refused({ username: p.username }, 'username');
  });

  it('counts failures and locks at each multiple of the threshold, doubling up to the cap', async () => {
    const u = await newUser();
    const locks: (number | undefined)[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await store.users.recordFailure(u.id, at(0), policy);
      expect(r.failedLogins).toBe(i + 1);
      if (r.lockedNow) locks.push((Date.parse(r.lockedUntil!) - T0) / 1000);
    }
    expect(locks).toEqual([60, 120, 200, 200]);
    await store.users.clearFailures(u.id);
    expect(await store.users.get(u.id)).toMatchObject({ failedLogins: 0 });
    expect((await store.users.get(u.id))?.lockedUntil).toBeUndefined();
  });

  it('uses each TOTP time step once, even when two uses race', async () => {
    const u = await newUser();
    expect(await store.users.startTotp(u.id, 'sealed')).toBe(true);
    expect(await store.users.confirmTotp(u.id, 100, at(0))).toBe(true);
    expect(await store.users.startTotp(u.id, 'another')).toBe(false); // confirmed: only a reset replaces it
    const raced = await Promise.all([store.users.useTotpStep(u.id, 101), store.users.useTotpStep(u.id, 101)]);
    expect(raced.filter(Boolean)).toHaveLength(1);
    expect(await store.users.useTotpStep(u.id, 100)).toBe(false);
    expect(await store.users.useTotpStep(u.id, 102)).toBe(true);
    const reset = await store.users.resetTotp(u.id);
    expect(reset.totpEnrolledAt).toBeUndefined();
    expect((await store.users.record(u.id))?.totpSecret).toBeUndefined();
  });

  it('consumes a set-up token once and only before it expires', async () => {
    const u = await newUser({ setupTokenHash: 'once' });
    expect(await store.users.completeSetup('once', '$argon2id$x', at(3600_000))).toBeUndefined(); // expired
    expect((await store.users.completeSetup('once', '$argon2id$x', at(1000)))?.passwordSet).toBe(true);
    expect(await store.users.completeSetup('once', '$argon2id$y', at(2000))).toBeUndefined();
    expect((await store.users.record(u.id))?.passwordHash).toBe('$argon2id$x');
  });

  it('revokes one or all sessions of a user and prunes ended ones', async () => {
    const u = await newUser();
    const session = (id: string) =>
      store.sessions.create({
        id: id.repeat(64),
        userId: u.id,
        createdAt: at(0),
        idleExpiresAt: at(900_000),
        absoluteExpiresAt: at(43_200_000),
      });
    await session('a');
    await session('b');
    await session('c');
    expect(await store.sessions.revoke('a'.repeat(64), at(1000))).toBe(true);
    expect(await store.sessions.revoke('a'.repeat(64), at(2000))).toBe(false);
    expect(await store.sessions.revokeAllOf(u.id, at(3000))).toBe(2);
    expect((await store.sessions.get('b'.repeat(64)))?.revokedAt).toBe(at(3000));
    expect(await store.sessions.get('not-a-hash')).toBeUndefined();
    expect(await store.sessions.prune(at(2000))).toBe(1);
    expect(await store.sessions.prune(at(10_000_000))).toBe(2);
  });
});
