/**
 * Test support for OAuth on a real platform: a cookie jar that follows redirects by hand (so each hop can
 * be checked), PKCE, client registration through the admin API, the authorization code flow driven as a
 * browser would (sign-in, authorize, consent page, Allow, code, token), and client assertions for
 * private_key_jwt signed with node:crypto.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import type { TestPlatform } from '../../test/harness.ts';
import { SESSION_COOKIE } from '../identity/cookies.ts';

/** A browser's cookies for one site, and fetch without automatic redirects. */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  constructor(sessionToken?: string) {
    if (sessionToken) this.cookies.set(SESSION_COOKIE, sessionToken);
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = (pair as string).indexOf('=');
      const name = (pair as string).slice(0, eq);
      const value = (pair as string).slice(eq + 1);
      const expired = attrs.some(
        (a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()),
      );
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface RegisteredClient {
  readonly client_id: string;
  readonly client_secret?: string;
  readonly [k: string]: unknown;
}

export async function registerClient(
  t: TestPlatform,
  body: Record<string, unknown>,
): Promise<RegisteredClient> {
  const r = await t.api('POST', '/api/v1/admin/oauth-clients', body);
  if (r.status !== 201) throw new Error(`register client: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export const REDIRECT = 'http://127.0.0.1:9/callback';

/** The consent page's form: its action and CSRF token. */
export function consentForm(html: string): { action: string; csrf: string } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!action || !csrf) throw new Error(`no consent form in: ${html.slice(0, 300)}`);
  return { action, csrf };
}

/**
 * Authorize → (interaction) consent page → Allow → redirect with code, as the signed-in browser. Returns
 * the code (or the error the app was sent) and the pages seen on the way.
 */
export async function authorize(
  base: string,
  jar: CookieJar,
  o: {
    clientId: string;
    scope: string;
    challenge: string;
    decision?: 'allow' | 'deny';
    extra?: Record<string, string>;
  },
): Promise<{ code?: string; error?: string; consentHtml?: string; state: string; callback: URL }> {
  const state = randomUUID();
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: o.clientId,
    redirect_uri: REDIRECT,
    scope: o.scope,
    state,
    code_challenge: o.challenge,
    code_challenge_method: 'S256',
    aud: `${base}/fhir/R4`,
    ...o.extra,
  });
  let url = `${base}/oauth/auth?${q}`;
  let consentHtml: string | undefined;
  for (let hop = 0; hop < 10; hop++) {
    if (url.startsWith(REDIRECT)) {
      const callback = new URL(url);
      const code = callback.searchParams.get('code') ?? undefined;
      const error = callback.searchParams.get('error') ?? undefined;
      return {
        ...(code ? { code } : {}),
        ...(error ? { error } : {}),
        ...(consentHtml ? { consentHtml } : {}),
        state,
        callback,
      };
    }
    const res = await jar.fetch(url);
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location') as string, url).toString();
      continue;
    }
    const html = await res.text();
    if (res.status !== 200 || !html.includes('<form'))
      throw new Error(`unexpected page ${res.status} at ${url}: ${html.slice(0, 400)}`);
    consentHtml = html;
    const form = consentForm(html);
    const post = await jar.fetch(new URL(form.action, base).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: form.csrf, decision: o.decision ?? 'allow' }).toString(),
    });
    if (post.status !== 303) throw new Error(`consent POST: ${post.status} ${await post.text()}`);
    url = new URL(post.headers.get('location') as string, base).toString();
  }
  throw new Error('too many redirects');
}

/** POST to the token endpoint (form body); client authentication by Basic header or in the body. */
export async function tokenRequest(
  base: string,
  params: Record<string, string>,
  basic?: { id: string; secret: string },
  // biome-ignore lint/suspicious/noExplicitAny: tests read token response fields directly and assert on them
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(basic
        ? {
            authorization: `Basic ${Buffer.from(`${encodeURIComponent(basic.id)}:${encodeURIComponent(basic.secret)}`).toString('base64')}`,
          }
        : {}),
    },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, json: await res.json() };
}

/** A backend service's key pair (ES256), its public JWKS for registration. */
export function backendKey(): {
  privateKey: KeyObject;
  jwks: { keys: Record<string, unknown>[] };
  kid: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomUUID();
  const jwk = {
    ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
    kid,
    alg: 'ES256',
    use: 'sig',
  };
  return { privateKey, jwks: { keys: [jwk] }, kid };
}

/** A compact JWS signed by hand (ES256, EdDSA, or a forged header for negative tests). */
export function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key?: KeyObject,
): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc(header)}.${enc(payload)}`;
  if (!key) return `${input}.`;
  const sig =
    header.alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
      : sign(null, Buffer.from(input), key);
  return `${input}.${sig.toString('base64url')}`;
}

/** The SMART Backend Services client assertion. */
export function clientAssertion(
  base: string,
  clientId: string,
  key: { privateKey: KeyObject; kid: string },
): string {
  const now = Math.floor(Date.now() / 1000);
  return signJwt(
    { alg: 'ES256', typ: 'JWT', kid: key.kid },
    { iss: clientId, sub: clientId, aud: `${base}/oauth/token`, jti: randomUUID(), iat: now, exp: now + 60 },
    key.privateKey,
  );
}

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The token request's client authentication with a fresh assertion (private_key_jwt). */
export const assertionParams = (
  base: string,
  clientId: string,
  key: { privateKey: KeyObject; kid: string },
): { client_assertion_type: string; client_assertion: string } => ({
  client_assertion_type: ASSERTION_TYPE,
  client_assertion: clientAssertion(base, clientId, key),
});

// biome-ignore lint/suspicious/noExplicitAny: tests read claims directly and assert on them
export const decodeJwt = (jwt: string): { header: any; payload: any } => {
  const [h, p] = jwt.split('.') as [string, string];
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
  };
};
