import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import { relyingPartyOf } from './relying-party.ts';
import { type Lies, SoftAuthenticator } from './soft-authenticator.ts';
import { Browser, type Harness, provisionAccount, startIdentityServer } from './testing.ts';
import { totpCode } from './totp.ts';

const ORIGIN = 'https://openiomt.test';
const P = '/api/v1/auth/passkeys';

/** A browser with a whole cookie jar (the passkey sign-in cookie as well as the session). */
class Jar {
  readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}
  async send(method: string, path: string, body?: unknown, o: { csrf?: boolean } = {}) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(o.csrf === false ? {} : { 'x-requested-with': 'test' }),
        ...(this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const setCookie = res.headers.getSetCookie();
    for (const line of setCookie) {
      const [name, value = ''] = (line.split(';')[0] as string).split('=');
      if (value === '' || line.includes('Max-Age=0')) this.cookies.delete(name as string);
      else this.cookies.set(name as string, value);
    }
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : undefined) as any, setCookie };
  }
  post = (path: string, body: unknown = {}, o?: { csrf?: boolean }) => this.send('POST', path, body, o);
  get = (path: string) => this.send('GET', path);
}

describe.each(storeBackends())('passkeys on $name', ({ open }) => {
  let store: DisposableStore;
  let h: Harness;

  beforeAll(async () => {
    store = await open();
    h = await startIdentityServer(store, { publicUrl: ORIGIN });
  });
  afterAll(async () => {
    await h?.close();
    await store?.dispose();
  });

  /** A clinician through password and TOTP enrolment: a full session in a jar. */
  async function clinician(username: string) {
    const u = await provisionAccount(h, { username, roles: ['clinician'] });
    const jar = new Jar(h.base);
    expect((await jar.post('/api/v1/auth/login', { username, password: u.password })).json.next).toBe(
      'totp-enrol',
    );
    const { secret } = (await jar.post('/api/v1/auth/totp/enrol')).json;
    const done = await jar.post('/api/v1/auth/totp/confirm', { code: await totpCode(secret, h.clock.now) });
    expect(done.status).toBe(200);
    return { u, jar };
  }

  async function addPasskey(jar: Jar, auth: SoftAuthenticator, name?: string, lies?: Lies) {
    const options = (await jar.post(`${P}/register/options`)).json;
    return jar.post(`${P}/register/verify`, {
      response: auth.create(options, lies),
      ...(name ? { name } : {}),
    });
  }

  async function passkeySignIn(auth: SoftAuthenticator, lies?: Lies) {
    const jar = new Jar(h.base);
    const options = (await jar.post(`${P}/login/options`)).json;
    return { jar, answer: await jar.post(`${P}/login/verify`, { response: auth.get(options, lies) }) };
  }

  it('hands registration options only to a full session: resident key, user verification, no attestation', async () => {
    expect((await new Jar(h.base).post(`${P}/register/options`)).status).toBe(401);
    const u = await provisionAccount(h, { username: 'pending.pk', roles: ['nurse'] });
    const pending = new Browser(h.base);
    await pending.post('/api/v1/auth/login', { username: u.username, password: u.password });
    expect((await pending.post(`${P}/register/options`)).status).toBe(401);

    const { u: c, jar } = await clinician('opts.clin');
    const r = await jar.post(`${P}/register/options`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      rp: { id: 'openiomt.test', name: 'OpenIoMT' },
      user: { name: 'opts.clin', id: Buffer.from(c.id.replace(/-/g, ''), 'hex').toString('base64url') },
      attestation: 'none',
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      excludeCredentials: [],
    });
    expect(r.json.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(r.json.pubKeyCredParams.map((p: { alg: number }) => p.alg)).toContain(-7);

    const auth = new SoftAuthenticator(ORIGIN);
    const added = await addPasskey(jar, auth);
    expect(added.status).toBe(201);
    const again = await jar.post(`${P}/register/options`);
    expect(again.json.excludeCredentials).toEqual([
      { id: added.json.id, type: 'public-key', transports: ['internal'] },
    ]);
  });

  it('adds, lists and signs in with a passkey alone: a full session for staff, no password, no code', async () => {
    const { u, jar } = await clinician('pk.clin');
    const auth = new SoftAuthenticator(ORIGIN);
    const added = await addPasskey(jar, auth, 'Work laptop');
    expect(added.status).toBe(201);
    expect(added.json).toEqual({
      id: expect.any(String),
      name: 'Work laptop',
      createdAt: expect.any(String),
    });
    const listed = await jar.get(P);
    expect(listed.json.passkeys).toEqual([
      expect.objectContaining({ id: added.json.id, name: 'Work laptop', deviceType: 'singleDevice' }),
    ]);
    expect(listed.json.passkeys[0].lastUsedAt).toBeUndefined();

    const fresh = new Jar(h.base);
    const options = await fresh.post(`${P}/login/options`);
    expect(options.status).toBe(200);
    expect(options.json).toMatchObject({ rpId: 'openiomt.test', userVerification: 'required' });
    expect(options.json.allowCredentials ?? []).toEqual([]);
    expect(options.setCookie[0]).toMatch(
      /^openiomt_passkey=oipk_[A-Za-z0-9_-]{43}; Path=\/api\/v1\/auth\/passkeys\/login; Max-Age=300; HttpOnly; SameSite=Strict; Secure$/,
    );
    const signedIn = await fresh.post(`${P}/login/verify`, { response: auth.get(options.json) });
    expect(signedIn.status).toBe(200);
    expect(signedIn.json).toMatchObject({ signedIn: true });
    expect(signedIn.json.next).toBeUndefined();
    expect(fresh.cookies.has('openiomt_passkey')).toBe(false);
    expect(fresh.cookies.get('openiomt_session')).toMatch(/^oiss_/);
    const me = await fresh.get('/api/v1/auth/me');
    expect(me.json).toMatchObject({ userId: u.id, roles: ['clinician'], mfa: true });
    expect((await jar.get(P)).json.passkeys[0].lastUsedAt).toBe(new Date(h.clock.now).toISOString());
    // A passkey is both factors: one login record, by passkey.
    const logins = (await store.audit.list({ actor: u.id, action: 'login' })).items;
    expect(logins.map((r) => r.detail?.method).sort()).toEqual(['passkey', 'password+totp-enrolment']);
    expect(logins.find((r) => r.detail?.method === 'passkey')).toMatchObject({
      actorRole: 'clinician',
      outcome: 'success',
      source: '127.0.0.1',
    });
    const events = await store.securityEvents.list({ kind: 'passkey-added' });
    expect(events.items.some((e) => e.detail.startsWith(`user ${u.id}: passkey`))).toBe(true);
  });

  it('uses a challenge once, and only from the browser it was given to, before it expires', async () => {
    const { jar } = await clinician('once.clin');
    const auth = new SoftAuthenticator(ORIGIN);
    const options = (await jar.post(`${P}/register/options`)).json;
    const response = auth.create(options);
    expect((await jar.post(`${P}/register/verify`, { response })).status).toBe(201);
    const replayed = await jar.post(`${P}/register/verify`, { response });
    expect(replayed.status).toBe(400);
    expect(replayed.json.field).toBe('/response');

    const first = await passkeySignIn(auth);
    expect(first.answer.status).toBe(200);
    // The same assertion again, with the cookie put back: the challenge is spent.
    const thief = new Jar(h.base);
    const opts = await thief.post(`${P}/login/options`);
    const assertion = auth.get(opts.json);
    const token = thief.cookies.get('openiomt_passkey') as string;
    expect((await thief.post(`${P}/login/verify`, { response: assertion })).status).toBe(200);
    thief.cookies.set('openiomt_passkey', token);
    thief.cookies.delete('openiomt_session');
    expect((await thief.post(`${P}/login/verify`, { response: assertion })).status).toBe(401);

    // Another browser's cookie does not fit this challenge.
    const a = new Jar(h.base);
    const b = new Jar(h.base);
    const forA = (await a.post(`${P}/login/options`)).json;
    await b.post(`${P}/login/options`);
    expect((await b.post(`${P}/login/verify`, { response: auth.get(forA) })).status).toBe(401);

    // Five minutes later the challenge is gone.
    const late = new Jar(h.base);
    const lateOptions = (await late.post(`${P}/login/options`)).json;
    h.clock.now += 301_000;
    expect((await late.post(`${P}/login/verify`, { response: auth.get(lateOptions) })).status).toBe(401);
  });

  it('refuses another origin, a missing user verification and a counter that went backwards, all alike', async () => {
    const { u, jar } = await clinician('lies.clin');
    const auth = new SoftAuthenticator(ORIGIN);
    const wrongOrigin = await addPasskey(jar, new SoftAuthenticator(ORIGIN), undefined, {
      origin: 'https://openiomt.test.evil.example',
    });
    expect(wrongOrigin.status).toBe(400);
    expect(wrongOrigin.json.detail).toMatch(/origin/i);
    expect((await addPasskey(jar, auth)).status).toBe(201);

    const wrongPassword = await new Browser(h.base).post('/api/v1/auth/login', {
      username: 'lies.clin',
      password: 'not the password at all',
    });
    const phished = await passkeySignIn(auth, { origin: 'https://openiomt-login.example' });
    expect(phished.answer.status).toBe(401);
    expect(phished.answer.json).toEqual(wrongPassword.json);
    expect((await passkeySignIn(auth, { noUserVerification: true })).answer.status).toBe(401);

    expect((await passkeySignIn(auth, { counter: 10 })).answer.status).toBe(200);
    const cloned = await passkeySignIn(auth, { counter: 7 });
    expect(cloned.answer.status).toBe(401);
    expect(cloned.answer.json).toEqual(wrongPassword.json);
    expect(cloned.jar.cookies.has('openiomt_session')).toBe(false);
    const failed = await store.securityEvents.list({ kind: 'login-failed' });
    expect(failed.items.some((e) => e.detail.includes(`user ${u.id}`) && /counter/i.test(e.detail))).toBe(
      true,
    );
    expect((await passkeySignIn(auth, { counter: 11 })).answer.status).toBe(200);
  });

  it('removes a passkey (only its owner can), after which it signs no one in', async () => {
    const { jar } = await clinician('rm.clin');
    const { jar: other } = await clinician('rm.other');
    const auth = new SoftAuthenticator(ORIGIN);
    const { id } = (await addPasskey(jar, auth, 'Phone')).json;
    expect((await other.send('DELETE', `${P}/${id}`)).status).toBe(404);
    expect((await jar.send('DELETE', `${P}/${id}`, undefined, { csrf: false })).status).toBe(403);
    expect((await jar.send('DELETE', `${P}/${id}`)).status).toBe(204);
    expect((await jar.get(P)).json.passkeys).toEqual([]);
    expect((await passkeySignIn(auth)).answer.status).toBe(401);
    expect((await jar.send('DELETE', `${P}/${id}`)).status).toBe(404);
  });

  it('respects disabled and locked accounts; resetting the second factor removes the passkeys', async () => {
    const { u, jar } = await clinician('dis.clin');
    const auth = new SoftAuthenticator(ORIGIN);
    expect((await addPasskey(jar, auth)).status).toBe(201);
    const admin = new Browser(h.base);
    await store.db.query('UPDATE users SET locked_until = $2 WHERE id = $1', [
      u.id,
      new Date(h.clock.now + 60_000).toISOString(),
    ]);
    expect((await passkeySignIn(auth)).answer.status).toBe(401);
    await store.db.query('UPDATE users SET locked_until = NULL WHERE id = $1', [u.id]);
    expect((await passkeySignIn(auth)).answer.status).toBe(200);

    const { jar: j2 } = await clinician('reset.clin');
    const auth2 = new SoftAuthenticator(ORIGIN);
    expect((await addPasskey(j2, auth2)).status).toBe(201);
    const reset = await store.users.recordByUsername('reset.clin');
    await admin.post(`/api/v1/admin/users/${reset?.user.id}/reset-mfa`, {}, { bearer: h.adminToken });
    expect((await passkeySignIn(auth2)).answer.status).toBe(401);

    expect(
      (await admin.post(`/api/v1/admin/users/${u.id}/disable`, {}, { bearer: h.adminToken })).status,
    ).toBe(200);
    expect((await passkeySignIn(auth)).answer.status).toBe(401);
  });

  it('needs the CSRF header on every passkey POST and checks the body', async () => {
    expect((await new Jar(h.base).post(`${P}/login/options`, {}, { csrf: false })).status).toBe(403);
    const { jar } = await clinician('body.clin');
    const r = await jar.post(`${P}/register/verify`, { response: 'nope' });
    expect(r.status).toBe(400);
    expect(r.json.field).toBe('/response');
    const named = await addPasskey(jar, new SoftAuthenticator(ORIGIN), 'x'.repeat(65));
    expect(named.status).toBe(400);
    expect(named.json.field).toBe('/name');
    expect((await new Jar(h.base).post(`${P}/login/verify`, { response: { id: 'x' } })).status).toBe(401);
  });
});

describe('the passkey relying party', () => {
  it('takes a configured public URL only when it is an https host name (http for localhost)', () => {
    expect(relyingPartyOf('https://ward.example.org')).toEqual({
      rpId: 'ward.example.org',
      origin: 'https://ward.example.org',
    });
    expect(relyingPartyOf('http://localhost:8080')).toEqual({
      rpId: 'localhost',
      origin: 'http://localhost:8080',
    });
    for (const bad of [
      'http://ward.example.org',
      'https://ward.example.org/app',
      'https://10.0.0.4',
      'https://[::1]',
      'not a url',
      'ftp://x.example',
    ])
      expect(() => relyingPartyOf(bad), bad).toThrow();
  });

  it('without one, trusts the Host header only for localhost', async () => {
    const { open } = storeBackends()[0] as ReturnType<typeof storeBackends>[number];
    const store = await open();
    const h = await startIdentityServer(store);
    const port = new URL(h.base).port;
    const post = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: `${P}/login/options`,
            headers: { host, 'x-requested-with': 'test', 'content-type': 'application/json' },
          },
          (res) => {
            let body = '';
            res.on('data', (c) => {
              body += c;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end('{}');
      });
    try {
      const ok = await post(`localhost:${port}`);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body).rpId).toBe('localhost');
      for (const host of [`127.0.0.1:${port}`, 'ward.example.org', 'localhost.evil.example'])
        expect((await post(host)).status, host).toBe(409);
    } finally {
      await h.close();
      await store.dispose();
    }
  });
});
