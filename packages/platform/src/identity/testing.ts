/**
 * Test support: the identity routes on a real HTTP server (127.0.0.1, port 0) over a real store, a clock the
 * test moves, and a minimal browser that keeps the session cookie from Set-Cookie and sends it back.
 */
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../http/app.ts';
import { createLogger } from '../log.ts';
import { ensureAdminCredential } from '../security/admin-credential.ts';
import type { KeyService } from '../security/keys/key-service.ts';
import { memoryKeyService } from '../security/keys/master-key-file.ts';
import type { Store } from '../store/types.ts';
import { SESSION_COOKIE } from './cookies.ts';
import type { IdentityOptions } from './options.ts';
import { type IdentityHandle, identityRoutes } from './routes.ts';
import { totpCode } from './totp.ts';

export interface Harness {
  readonly base: string;
  readonly app: FastifyInstance;
  readonly handle: IdentityHandle;
  readonly adminToken: string;
  /** The clock the identity service reads; tests move it. */
  readonly clock: { now: number };
  close(): Promise<void>;
}

export async function startIdentityServer(
  store: Store,
  o: {
    options?: IdentityOptions;
    keys?: KeyService;
    rateLimitMax?: number;
    /** The platform's public address (names the passkey relying party). */
    publicUrl?: string;
    extraRoutes?: (app: FastifyInstance, h: IdentityHandle) => void;
  } = {},
): Promise<Harness> {
  const clock = { now: Date.now() };
  const adminToken = (await ensureAdminCredential(store)) ?? '';
  const app = await createHttpApp({ logger: createLogger('silent') });
  const handle = identityRoutes(app, {
    store,
    keys: o.keys ?? memoryKeyService(),
    options: { now: () => clock.now, ...o.options },
    authRateLimit: { max: o.rateLimitMax ?? 10_000, timeWindowMs: 60_000 },
    ...(o.publicUrl !== undefined ? { publicUrl: o.publicUrl } : {}),
  });
  o.extraRoutes?.(app, handle);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { base, app, handle, adminToken, clock, close: () => app.close() };
}

export interface Answer {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response fields directly and assert on them
  readonly json: any;
  readonly setCookie: string[];
}

/** A browser's view: one cookie jar for this site, the CSRF header on by default. */
export class Browser {
  cookie: string | undefined;

  constructor(private readonly base: string) {}

  async request(
    method: string,
    path: string,
    body?: unknown,
    o: { csrf?: boolean; bearer?: string; cookie?: string } = {},
  ): Promise<Answer> {
    const cookie = o.cookie ?? this.cookie;
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(o.csrf === false ? {} : { 'x-requested-with': 'fetch' }),
        ...(cookie !== undefined ? { cookie: `${SESSION_COOKIE}=${cookie}` } : {}),
        ...(o.bearer !== undefined ? { authorization: `Bearer ${o.bearer}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const setCookie = res.headers.getSetCookie();
    for (const line of setCookie) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const [name, value] = (pair as string).split('=') as [string, string];
      if (name !== SESSION_COOKIE) continue;
      this.cookie = value === '' || attrs.includes('Max-Age=0') ? undefined : value;
    }
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined, setCookie };
  }

  post = (path: string, body: unknown = {}, o?: { csrf?: boolean; bearer?: string; cookie?: string }) =>
    this.request('POST', path, body, o);
  get = (path: string, o?: { bearer?: string; cookie?: string }) => this.request('GET', path, undefined, o);
}

/** An account made through the admin API with the administrator token, its password set through set-up. */
export async function provisionAccount(
  h: Pick<Harness, 'base' | 'adminToken'>,
  a: { username: string; roles: string[]; patientId?: string; password?: string },
): Promise<{ id: string; username: string; password: string }> {
  const admin = new Browser(h.base);
  const made = await admin.post(
    '/api/v1/admin/users',
    { username: a.username, roles: a.roles, ...(a.patientId ? { patientId: a.patientId } : {}) },
    { bearer: h.adminToken },
  );
  if (made.status !== 201)
    throw new Error(`create ${a.username}: ${made.status} ${JSON.stringify(made.json)}`);
  const password = a.password ?? 'plum velvet river lantern';
  const set = await new Browser(h.base).post('/api/v1/auth/setup', { token: made.json.setupToken, password });
  if (set.status !== 200) throw new Error(`setup ${a.username}: ${set.status} ${JSON.stringify(set.json)}`);
  return { id: made.json.user.id, username: made.json.user.username, password };
}

/**
 * A person fully signed in on a running platform: the account is made with the administrator token, its
 * password set, and (staff) an authenticator enrolled with a real TOTP code. Returns their browser.
 */
export async function signedInAs(
  base: string,
  adminToken: string,
  a: { username: string; roles: string[]; patientId?: string },
): Promise<{ id: string; browser: Browser }> {
  const u = await provisionAccount({ base, adminToken }, a);
  const browser = new Browser(base);
  const login = await browser.post('/api/v1/auth/login', { username: a.username, password: u.password });
  if (login.json?.next === 'totp-enrol') {
    const { secret } = (await browser.post('/api/v1/auth/totp/enrol')).json;
    const done = await browser.post('/api/v1/auth/totp/confirm', {
      code: await totpCode(secret, Date.now()),
    });
    if (done.status !== 200) throw new Error(`totp confirm: ${done.status} ${JSON.stringify(done.json)}`);
  } else if (login.status !== 200 || !login.json?.signedIn) {
    throw new Error(`login ${a.username}: ${login.status} ${JSON.stringify(login.json)}`);
  }
  return { id: u.id, browser };
}

/** People to sign in: username, roles, and the patient record of a patient's own account. */
export type PersonSpec = readonly [username: string, roles: readonly string[], patientId?: string];

/** Several people signed in (see signedInAs), by username, one after another. */
export async function signedInPeople(
  base: string,
  adminToken: string,
  people: readonly PersonSpec[],
): Promise<Record<string, { id: string; browser: Browser }>> {
  const signed: Record<string, { id: string; browser: Browser }> = {};
  for (const [username, roles, patientId] of people)
    signed[username] = await signedInAs(base, adminToken, {
      username,
      roles: [...roles],
      ...(patientId ? { patientId } : {}),
    });
  return signed;
}
