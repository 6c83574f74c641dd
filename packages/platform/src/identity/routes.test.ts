import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import { Browser, type Harness, provisionAccount, startIdentityServer } from './testing.ts';
import { totpCode } from './totp.ts';

const LOGIN = '/api/v1/auth/login';
const ME = '/api/v1/auth/me';
const MIN = 60_000;

describe.each(storeBackends())('sign-in over HTTP on $name', ({ open }) => {
  let store: DisposableStore;
  let h: Harness;

  beforeAll(async () => {
    store = await open();
    h = await startIdentityServer(store, {
      extraRoutes: (app, handle) => {
        // Stand-ins for the routes the authorization work will put behind authenticate.
        app.get('/test/whoami', async (req) => ({ subject: (await handle.authenticate(req)) ?? null }));
        app.post('/test/change', async (req) => ({ subject: (await handle.authenticate(req)) ?? null }));
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await store?.dispose();
  });

  /** Signs a staff member in through enrolment; returns their browser and authenticator secret. */
  async function enrolledStaff(username: string, roles = ['clinician']) {
    const u = await provisionAccount(h, { username, roles });
    const b = new Browser(h.base);
    expect((await b.post(LOGIN, { username, password: u.password })).json.next).toBe('totp-enrol');
    const { secret } = (await b.post('/api/v1/auth/totp/enrol')).json;
    expect(
      (await b.post('/api/v1/auth/totp/confirm', { code: await totpCode(secret, h.clock.now) })).status,
    ).toBe(200);
    return { u, b, secret: secret as string };
  }

  it('a patient sets a password, signs in (no second factor needed), sees who they are and signs out', async () => {
    const patient = await store.patients.create({});
    const u = await provisionAccount(h, { username: 'Pat.One', roles: ['patient'], patientId: patient.id });
    expect(u.username).toBe('pat.one');
    const b = new Browser(h.base);
    const r = await b.post(LOGIN, { username: 'PAT.ONE', password: u.password });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ signedIn: true });
    expect(r.json.next).toBeUndefined();
    const [cookie] = r.setCookie;
    expect(cookie).toMatch(
      /^openiomt_session=oiss_[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$/,
    );

    const me = await b.get(ME);
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({
      kind: 'user',
      userId: u.id,
      roles: ['patient'],
      patientId: patient.id,
      mfa: false,
    });
    expect(me.json.sessionId).toBeUndefined();

    const out = await b.post('/api/v1/auth/logout');
    expect(out.status).toBe(204);
    expect(out.setCookie[0]).toMatch(/^openiomt_session=; Path=\/; Max-Age=0/);
    expect(b.cookie).toBeUndefined();
    expect((await b.get(ME, { cookie: cookie!.split(';')[0]!.split('=')[1]! })).status).toBe(401);
  });

  it('staff cannot complete sign-in without a second factor; enrolment with a real TOTP code completes it', async () => {
    const u = await provisionAccount(h, { username: 'clin.enrol', roles: ['clinician'] });
    const b = new Browser(h.base);
    const r = await b.post(LOGIN, { username: 'clin.enrol', password: u.password });
    expect(r.json).toMatchObject({ signedIn: false, next: 'totp-enrol' });
    const pending = b.cookie!;

    // Password alone gives nothing: not me, not any route behind authenticate, not sign-out everywhere.
    const me = await b.get(ME);
    expect(me.status).toBe(401);
    expect(me.json.type).toBe('urn:openiomt:auth:totp-enrol');
    expect((await b.get('/test/whoami')).json.subject).toBeNull();
    expect((await b.post('/api/v1/auth/logout-everywhere')).status).toBe(401);
    expect((await b.post('/api/v1/auth/mfa', { code: '123456' })).status).toBe(409);

    const enrol = await b.post('/api/v1/auth/totp/enrol');
    expect(enrol.status).toBe(201);
    expect(enrol.json.uri).toBe(
      `otpauth://totp/OpenIoMT:clin.enrol?secret=${enrol.json.secret}&issuer=OpenIoMT`,
    );
    const wrong = await b.post('/api/v1/auth/totp/confirm', { code: '000000' });
    expect(wrong.status).toBe(400);
    expect(wrong.json.field).toBe('/code');
    expect((await b.post('/api/v1/auth/totp/confirm', { code: 'abc' })).json.field).toBe('/code');

    const done = await b.post('/api/v1/auth/totp/confirm', {
      code: await totpCode(enrol.json.secret, h.clock.now),
    });
    expect(done.status).toBe(200);
    expect(done.json.signedIn).toBe(true);
    expect(b.cookie).not.toBe(pending); // a new token after the second factor
    expect((await b.get(ME, { cookie: pending })).status).toBe(401);
    expect((await b.get(ME)).json).toMatchObject({
      userId: u.id,
      roles: ['clinician'],
      mfa: true,
      totpEnrolled: true,
    });
    expect((await b.get('/test/whoami')).json.subject).toMatchObject({ userId: u.id, mfa: true });
    // Enrolled once; a second enrolment needs an administrator's reset.
    expect((await b.post('/api/v1/auth/totp/enrol')).status).toBe(409);
  });

  it('an enrolled staff member signs in with password then a code; a reused code is refused', async () => {
    const { u, secret } = await enrolledStaff('nurse.mfa', ['nurse']);
    h.clock.now += 30_000;
    const code = await totpCode(secret, h.clock.now);
    const b = new Browser(h.base);
    expect((await b.post(LOGIN, { username: 'nurse.mfa', password: u.password })).json).toMatchObject({
      signedIn: false,
      next: 'mfa',
    });
    expect((await b.get(ME)).json.type).toBe('urn:openiomt:auth:mfa');
    expect((await b.post('/api/v1/auth/mfa', { code: '12 34' })).json.field).toBe('/code');
    const ok = await b.post('/api/v1/auth/mfa', { code: `${code.slice(0, 3)} ${code.slice(3)}` });
    expect(ok.status).toBe(200);
    expect((await b.get(ME)).json).toMatchObject({ userId: u.id, mfa: true });

    // Someone who saw the code (and knows the password) cannot use it again within its window.
    const thief = new Browser(h.base);
    await thief.post(LOGIN, { username: 'nurse.mfa', password: u.password });
    const replay = await thief.post('/api/v1/auth/mfa', { code });
    expect(replay.status).toBe(401);
    expect(replay.json.title).toBe('Second factor refused');
    // The next time step's code works (and one step of clock drift either way is accepted).
    h.clock.now += 30_000;
    const late = await totpCode(secret, h.clock.now);
    expect((await thief.post('/api/v1/auth/mfa', { code: late })).status).toBe(200);
  });

  it('accepts a code one step old (clock drift) but not two', async () => {
    const { u, secret } = await enrolledStaff('drift.one');
    h.clock.now += 5 * MIN;
    const b = new Browser(h.base);
    await b.post(LOGIN, { username: 'drift.one', password: u.password });
    expect(
      (await b.post('/api/v1/auth/mfa', { code: await totpCode(secret, h.clock.now - 60_000) })).status,
    ).toBe(401);
    expect(
      (await b.post('/api/v1/auth/mfa', { code: await totpCode(secret, h.clock.now - 30_000) })).status,
    ).toBe(200);
  });

  it('a pending sign-in expires if the second factor does not follow within 10 minutes', async () => {
    const u = await provisionAccount(h, { username: 'slow.staff', roles: ['researcher'] });
    const b = new Browser(h.base);
    await b.post(LOGIN, { username: 'slow.staff', password: u.password });
    h.clock.now += 10 * MIN + 1000;
    expect((await b.post('/api/v1/auth/totp/enrol')).status).toBe(401);
  });

  it('a session ends after 15 idle minutes; activity slides it', async () => {
    const u = await provisionAccount(h, { username: 'idle.carer', roles: ['caregiver'] });
    const b = new Browser(h.base);
    await b.post(LOGIN, { username: 'idle.carer', password: u.password });
    h.clock.now += 14 * MIN;
    expect((await b.get(ME)).status).toBe(200);
    h.clock.now += 14 * MIN;
    const me = await b.get(ME);
    expect(me.status).toBe(200);
    expect(Date.parse(me.json.idleExpiresAt)).toBe(h.clock.now + 15 * MIN);
    h.clock.now += 15 * MIN;
    expect((await b.get(ME)).status).toBe(401);
  });

  it('a session ends 12 hours after sign-in however active it is', async () => {
    const u = await provisionAccount(h, { username: 'busy.carer', roles: ['caregiver'] });
    const b = new Browser(h.base);
    const start = h.clock.now;
    await b.post(LOGIN, { username: 'busy.carer', password: u.password });
    while (h.clock.now + 14 * MIN < start + 12 * 3600_000) {
      h.clock.now += 14 * MIN;
      expect((await b.get(ME)).status).toBe(200);
    }
    const me = await b.get(ME);
    expect(Date.parse(me.json.idleExpiresAt)).toBeLessThanOrEqual(start + 12 * 3600_000);
    h.clock.now = start + 12 * 3600_000;
    expect((await b.get(ME)).status).toBe(401);
  });

  it('sign-out everywhere ends every session of that person and no one else', async () => {
    const u = await provisionAccount(h, { username: 'two.devices', roles: ['caregiver'] });
    const other = await provisionAccount(h, { username: 'bystander', roles: ['caregiver'] });
    const phone = new Browser(h.base);
    const laptop = new Browser(h.base);
    const someoneElse = new Browser(h.base);
    await phone.post(LOGIN, { username: 'two.devices', password: u.password });
    await laptop.post(LOGIN, { username: 'two.devices', password: u.password });
    await someoneElse.post(LOGIN, { username: 'bystander', password: other.password });
    const r = await phone.post('/api/v1/auth/logout-everywhere');
    expect(r.status).toBe(200);
    expect(r.json.revoked).toBe(2);
    expect((await laptop.get(ME)).status).toBe(401);
    expect((await phone.get(ME)).status).toBe(401);
    expect((await someoneElse.get(ME)).status).toBe(200);
  });

  it('CSRF: cookie-authenticated changes need X-Requested-With; reads and Bearer clients do not', async () => {
    const u = await provisionAccount(h, { username: 'csrf.carer', roles: ['caregiver'] });
    const b = new Browser(h.base);
    const noHeader = await b.post(LOGIN, { username: 'csrf.carer', password: u.password }, { csrf: false });
    expect(noHeader.status).toBe(403);
    expect(b.cookie).toBeUndefined();
    await b.post(LOGIN, { username: 'csrf.carer', password: u.password });

    const forged = await b.post('/test/change', {}, { csrf: false });
    expect(forged.status).toBe(403);
    expect(forged.json.detail).toMatch(/X-Requested-With/);
    expect((await b.post('/api/v1/auth/logout-everywhere', {}, { csrf: false })).status).toBe(403);
    expect((await b.post('/test/change')).json.subject).toMatchObject({ userId: u.id });
    expect((await b.request('GET', '/test/whoami', undefined, { csrf: false })).json.subject.userId).toBe(
      u.id,
    );
    const api = new Browser(h.base);
    const admin = await api.post('/test/change', {}, { csrf: false, bearer: h.adminToken });
    expect(admin.json.subject).toEqual({
      kind: 'service',
      userId: 'admin',
      roles: [],
      mfa: true,
      scopes: ['system/*.*'],
    });
  });

  it('a wrong Bearer token is refused and recorded, not retried as the cookie', async () => {
    const u = await provisionAccount(h, { username: 'bearer.mix', roles: ['caregiver'] });
    const b = new Browser(h.base);
    await b.post(LOGIN, { username: 'bearer.mix', password: u.password });
    expect((await b.get('/test/whoami', { bearer: 'oiat_not-a-token' })).json.subject).toBeNull();
    const events = await store.securityEvents.list({ kind: 'admin-auth-failed' });
    expect(events.items[0]?.detail).toBe('GET /test/whoami');
  });

  it('keeps the TOTP secret sealed and bound to its account', async () => {
    const one = await enrolledStaff('sealed.one');
    const two = await enrolledStaff('sealed.two');
    const { rows } = await store.db.query<{ username: string; totp_secret: string }>(
      "SELECT username, totp_secret FROM users WHERE username IN ('sealed.one', 'sealed.two') ORDER BY username",
    );
    expect(JSON.stringify(rows)).not.toContain(one.secret);
    expect(JSON.stringify(rows)).not.toContain(two.secret);
    // Copying one account's sealed secret onto another does not give the copier a working second factor.
    await store.db.query("UPDATE users SET totp_secret = $1 WHERE username = 'sealed.two'", [
      rows[0]!.totp_secret,
    ]);
    h.clock.now += 30_000;
    const b = new Browser(h.base);
    await b.post(LOGIN, { username: 'sealed.two', password: two.u.password });
    const r = await b.post('/api/v1/auth/mfa', { code: await totpCode(one.secret, h.clock.now) });
    expect(r.status).not.toBe(200);
    expect(b.cookie).toBeDefined();
    expect((await b.get(ME)).status).toBe(401);
  });

  it('keeps only hashes: no session token, set-up token or password in the database', async () => {
    const admin = new Browser(h.base);
    const made = await admin.post(
      '/api/v1/admin/users',
      { username: 'stored.check', roles: ['caregiver'] },
      { bearer: h.adminToken },
    );
    const setupToken: string = made.json.setupToken;
    const password = 'orchid compass thunder mellow';
    const dbBefore = JSON.stringify((await store.db.query('SELECT * FROM users')).rows);
    expect(dbBefore).not.toContain(setupToken);
    expect(dbBefore).toContain(createHash('sha256').update(setupToken).digest('hex'));
    await new Browser(h.base).post('/api/v1/auth/setup', { token: setupToken, password });
    const b = new Browser(h.base);
    await b.post(LOGIN, { username: 'stored.check', password });
    const token = b.cookie!;
    const users = JSON.stringify((await store.db.query('SELECT * FROM users')).rows);
    const sessions = JSON.stringify((await store.db.query('SELECT * FROM sessions')).rows);
    expect(users).not.toContain(password);
    expect(sessions).not.toContain(token);
    expect(sessions).not.toContain(token.slice(5)); // not even without its prefix
    const { rows } = await store.db.query<{ id: string }>('SELECT id FROM sessions WHERE id = $1', [
      createHash('sha256').update(token).digest('hex'),
    ]);
    expect(rows).toHaveLength(1);
    const { rows: hashes } = await store.db.query<{ password_hash: string }>(
      "SELECT password_hash FROM users WHERE username = 'stored.check'",
    );
    expect(hashes[0]?.password_hash).toMatch(/^\$argon2id\$v=19\$m=47104,t=1,p=1\$/);
  });
});
