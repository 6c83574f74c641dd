import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import { Browser, type Harness, provisionAccount, startIdentityServer } from './testing.ts';
import { totpCode } from './totp.ts';

const LOGIN = '/api/v1/auth/login';
const MIN = 60_000;

describe.each(storeBackends())('set-up, throttling and lockout on $name', ({ open }) => {
  let store: DisposableStore;
  let h: Harness;

  beforeAll(async () => {
    store = await open();
    h = await startIdentityServer(store);
  });
  afterAll(async () => {
    await h?.close();
    await store?.dispose();
  });

  const login = (username: string, password: string) =>
    new Browser(h.base).post(LOGIN, { username, password });

  it('set-up refuses weak passwords naming the field, then works once and only once', async () => {
    const admin = new Browser(h.base);
    const made = await admin.post(
      '/api/v1/admin/users',
      { username: 'new.person', roles: ['caregiver'] },
      { bearer: h.adminToken },
    );
    expect(made.status).toBe(201);
    expect(made.json.setupPath).toBe(`/setup#token=${made.json.setupToken}`);
    expect(Date.parse(made.json.setupExpiresAt)).toBe(h.clock.now + 24 * 3600_000);
    expect(made.json.user).toMatchObject({ username: 'new.person', passwordSet: false });
    const token = made.json.setupToken;
    const b = new Browser(h.base);
    for (const [password, why] of [
      ['too short', /at least 12/],
      ['password1234', /most common/],
      ['new.person is my name', /username/],
      ['111111111111111', /repeated character/],
    ] as const) {
      const r = await b.post('/api/v1/auth/setup', { token, password });
      expect(r.status).toBe(400);
      expect(r.json.field).toBe('/password');
      expect(r.json.detail).toMatch(why);
    }
    // No account can sign in before it has a password, and the answer is the generic one.
    expect((await login('new.person', 'anything at all here')).json.title).toBe('Sign-in failed');
    const ok = await b.post('/api/v1/auth/setup', { token, password: 'granite meadow falcon drift' });
    expect(ok.json).toEqual({ userId: made.json.user.id, username: 'new.person', next: 'login' });
    const again = await b.post('/api/v1/auth/setup', { token, password: 'another fine passphrase' });
    expect(again.status).toBe(400);
    expect(again.json.field).toBe('/token');
    expect((await login('new.person', 'granite meadow falcon drift')).status).toBe(200);
  });

  it('a set-up link expires after 24 hours', async () => {
    const admin = new Browser(h.base);
    const made = await admin.post(
      '/api/v1/admin/users',
      { username: 'late.person', roles: ['caregiver'] },
      { bearer: h.adminToken },
    );
    h.clock.now += 24 * 3600_000;
    const r = await new Browser(h.base).post('/api/v1/auth/setup', {
      token: made.json.setupToken,
      password: 'granite meadow falcon drift',
    });
    expect(r.status).toBe(400);
    expect(r.json.field).toBe('/token');
  });

  it('locks after 5 failures, for 15 minutes then 30, answering exactly as for an unknown account', async () => {
    const u = await provisionAccount(h, { username: 'locky', roles: ['caregiver'] });
    const unknown = await login('no.such.person', 'some wrong password');
    expect(unknown.status).toBe(401);
    const badFormat = await login('x', 'some wrong password');
    expect(badFormat).toEqual(unknown);

    for (let i = 0; i < 5; i++) expect(await login('locky', `wrong guess ${i}`)).toEqual(unknown);
    const locked = await store.users.get(u.id);
    expect(locked?.failedLogins).toBe(5);
    expect(Date.parse(locked!.lockedUntil!)).toBe(h.clock.now + 15 * MIN);
    // Even the right password is refused while locked, with the same answer.
    expect(await login('LOCKY', u.password)).toEqual(unknown);
    expect((await store.users.get(u.id))?.failedLogins).toBe(5); // attempts while locked do not count

    h.clock.now += 15 * MIN;
    for (let i = 0; i < 5; i++) expect(await login('locky', `wrong again ${i}`)).toEqual(unknown);
    expect(Date.parse((await store.users.get(u.id))!.lockedUntil!)).toBe(h.clock.now + 30 * MIN);
    h.clock.now += 30 * MIN;
    expect((await login('locky', u.password)).status).toBe(200);
    expect((await store.users.get(u.id))?.failedLogins).toBe(0);

    const events = (await store.securityEvents.list({ limit: 100 })).items;
    const lockouts = events.filter((e) => e.kind === 'account-locked');
    expect(lockouts.map((e) => e.detail)).toEqual([
      expect.stringMatching(new RegExp(`^user ${u.id}: locked until `)),
      expect.stringMatching(new RegExp(`^user ${u.id}: locked until `)),
    ]);
    const failed = events.filter((e) => e.kind === 'login-failed');
    // The unknown-account path ran (with its dummy Argon2id verification) and is recorded without the name.
    expect(failed.filter((e) => e.detail === 'unknown account')).toHaveLength(2);
    for (const e of events) {
      expect(e.detail).not.toMatch(/no\.such\.person|wrong guess|wrong again|some wrong password/);
      expect(e.source).toBe('127.0.0.1');
    }
  });

  it('a disabled account gets the same answer as an unknown one', async () => {
    const u = await provisionAccount(h, { username: 'leaver', roles: ['caregiver'] });
    const unknown = await login('nobody.else', u.password);
    await new Browser(h.base).post(`/api/v1/admin/users/${u.id}/disable`, {}, { bearer: h.adminToken });
    expect(await login('leaver', u.password)).toEqual(unknown);
  });

  it('five wrong second-factor codes lock the account and end the pending sign-in', async () => {
    const u = await provisionAccount(h, { username: 'mfa.guesser', roles: ['clinician'] });
    const owner = new Browser(h.base);
    await owner.post(LOGIN, { username: 'mfa.guesser', password: u.password });
    const { secret } = (await owner.post('/api/v1/auth/totp/enrol')).json;
    await owner.post('/api/v1/auth/totp/confirm', { code: await totpCode(secret, h.clock.now) });
    // Someone with the password but not the authenticator guesses codes.
    const thief = new Browser(h.base);
    await thief.post(LOGIN, { username: 'mfa.guesser', password: u.password });
    const right = await totpCode(secret, h.clock.now + 30_000);
    const valid = new Set(
      await Promise.all([-30_000, 0, 30_000].map((d) => totpCode(secret, h.clock.now + d))),
    );
    const guesses: string[] = [];
    for (let n = 0; guesses.length < 5; n++)
      if (!valid.has(String(n).padStart(6, '0'))) guesses.push(String(n).padStart(6, '0'));
    for (const g of guesses) expect((await thief.post('/api/v1/auth/mfa', { code: g })).status).toBe(401);
    expect((await store.users.get(u.id))?.lockedUntil).toBeDefined();
    h.clock.now += 30_000;
    expect((await thief.post('/api/v1/auth/mfa', { code: right })).status).toBe(401);
  });

  it('rate-limits the sign-in endpoints per client address', async () => {
    const tight = await startIdentityServer(store, { rateLimitMax: 3 });
    try {
      const b = new Browser(tight.base);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await b.post(LOGIN, { username: 'whoever', password: 'x' })).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      await tight.close();
    }
  });
});
