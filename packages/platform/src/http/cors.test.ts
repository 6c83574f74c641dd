/**
 * CORS on a real platform: a browser SMART app registered with a redirect URI on https://app.example may
 * call the FHIR API and the token endpoints from that origin, never with credentials; other origins, the
 * web app's own API and the authorization page get nothing. Then the same from a real Chromium page served
 * on another origin.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startTestPlatform, type TestPlatform } from '../../test/harness.ts';
import { launchChromium } from '../../test/web/browser.ts';
import {
  ASSERTION_TYPE,
  assertionParams,
  backendKey,
  clientAssertion,
  type RegisteredClient,
  registerClient,
} from '../oauth/testing.ts';
import { CORS_MAX_AGE_S } from './cors.ts';

const APP = 'https://app.example';
const EXTRA = 'https://extra.example';
const EVIL = 'https://evil.example';

const preflight = (url: string, origin: string, method = 'GET', headers = 'authorization, accept') =>
  fetch(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });

const acao = (r: Response) => r.headers.get('access-control-allow-origin');

describe.each(backends)('CORS for browser SMART apps ($name)', (backend) => {
  let t: TestPlatform;
  let base = '';
  let patientId = '';
  let app: RegisteredClient;
  let service: RegisteredClient;
  const key = backendKey();

  beforeAll(async () => {
    t = await startTestPlatform(backend, { corsOrigins: [EXTRA] });
    base = t.platform.httpUrl;
    const patient = await t.api('POST', '/api/v1/admin/patients', {});
    patientId = patient.body.id;
    app = await registerClient(t, {
      name: 'Vitals in the browser',
      grantTypes: ['authorization_code'],
      redirectUris: [`${APP}/launch`],
      scope: 'openid patient/*.read',
      public: true,
    });
    service = await registerClient(t, {
      name: 'Ward board',
      grantTypes: ['client_credentials'],
      scope: 'system/Observation.read',
      jwks: key.jwks,
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A token from /oauth/token, asked from `origin` as a browser app would (a form POST). */
  const token = (origin: string) =>
    fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'system/Observation.read',
        ...assertionParams(base, service.client_id, key),
      }).toString(),
    });

  it('answers a preflight from a registered app origin to the FHIR API', async () => {
    const r = await preflight(`${base}/fhir/R4/Observation`, APP);
    expect(r.status).toBe(204);
    expect(acao(r)).toBe(APP);
    expect(r.headers.get('vary')).toMatch(/\bOrigin\b/);
    expect(r.headers.get('access-control-allow-methods')).toBe('GET, POST, PUT, DELETE');
    const allowHeaders = r.headers.get('access-control-allow-headers')?.toLowerCase().split(/,\s*/);
    expect(allowHeaders).toEqual(expect.arrayContaining(['authorization', 'content-type', 'if-match']));
    expect(r.headers.get('access-control-max-age')).toBe(String(CORS_MAX_AGE_S));
    expect(r.headers.get('access-control-allow-credentials')).toBeNull();
    // The transaction endpoint is the FHIR base itself.
    expect(acao(await preflight(`${base}/fhir/R4`, APP, 'POST', 'authorization, content-type'))).toBe(APP);
  });

  it('lets the app get a token and read with it, never with credentials', async () => {
    const tr = await token(APP);
    expect(tr.status).toBe(200);
    // Our headers, not oidc-provider's: it would refuse this confidential client's request from a browser.
    expect(acao(tr)).toBe(APP);
    expect(tr.headers.get('access-control-allow-credentials')).toBeNull();
    const { access_token } = (await tr.json()) as { access_token: string };
    const r = await fetch(`${base}/fhir/R4/Observation?patient=${patientId}`, {
      headers: { origin: APP, authorization: `Bearer ${access_token}` },
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { resourceType: string }).resourceType).toBe('Bundle');
    expect(acao(r)).toBe(APP);
    expect(r.headers.get('vary')).toMatch(/\bOrigin\b/);
    expect(r.headers.get('access-control-allow-credentials')).toBeNull();
    expect(r.headers.get('access-control-expose-headers')).toBe(
      'Location, ETag, Content-Location, WWW-Authenticate',
    );
  });

  it('keeps the headers on a refusal, so the app can read the 401 challenge', async () => {
    const r = await fetch(`${base}/fhir/R4/Observation?patient=${patientId}`, { headers: { origin: APP } });
    expect(r.status).toBe(401);
    expect(acao(r)).toBe(APP);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(r.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/);
  });

  it('refuses a preflight from an unregistered origin with a problem saying what to do', async () => {
    const r = await preflight(`${base}/fhir/R4/Observation`, EVIL);
    expect(r.status).toBe(403);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(acao(r)).toBeNull();
    const body = (await r.json()) as { detail: string };
    expect(body.detail).toContain(`origin ${EVIL} is not registered`);
    expect(body.detail).toContain('--cors-origin');
    // Its actual requests are served (no browser will let it read them) but carry no CORS headers.
    const get = await fetch(`${base}/fhir/R4/Observation?patient=${patientId}`, {
      headers: { origin: EVIL, authorization: `Bearer ${t.adminToken}` },
    });
    expect(get.status).toBe(200);
    expect(acao(get)).toBeNull();
    expect(acao(await token(EVIL))).toBeNull();
    expect((await preflight(`${base}/oauth/token`, EVIL, 'POST', 'content-type')).status).toBe(403);
    // The literal "null" origin (sandboxed frames, file: pages) is never an app's.
    expect((await preflight(`${base}/fhir/R4/Observation`, 'null')).status).toBe(403);
  });

  it('answers the token endpoints’ preflights for the app, with its own method and headers', async () => {
    for (const path of ['/oauth/token', '/oauth/token/revocation', '/oauth/token/introspection']) {
      const r = await preflight(`${base}${path}`, APP, 'POST', 'content-type, x-not-allowed');
      expect(r.status).toBe(204);
      expect(acao(r)).toBe(APP);
      expect(r.headers.get('access-control-allow-methods')).toBe('POST');
      // Our list, not an echo of whatever was asked.
      expect(r.headers.get('access-control-allow-headers')).not.toMatch(/x-not-allowed/i);
      expect(r.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('serves the public documents to any origin with *', async () => {
    for (const path of ['/fhir/R4/metadata', '/fhir/R4/.well-known/smart-configuration', '/oauth/jwks']) {
      const r = await fetch(`${base}${path}`, { headers: { origin: EVIL } });
      expect(r.status).toBe(200);
      expect(acao(r)).toBe('*');
      expect(r.headers.get('access-control-allow-credentials')).toBeNull();
      const p = await preflight(`${base}${path}`, EVIL);
      expect(p.status).toBe(204);
      expect(acao(p)).toBe('*');
    }
    // Without Origin too: a shared cache may keep one copy for everyone.
    expect(acao(await fetch(`${base}/fhir/R4/.well-known/smart-configuration`))).toBe('*');
    // Otherwise requests without Origin are untouched.
    const plain = await fetch(`${base}/fhir/R4/Observation?patient=${patientId}`, {
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(plain.status).toBe(200);
    expect(acao(plain)).toBeNull();
    expect(plain.headers.get('vary') ?? '').not.toMatch(/Origin/);
  });

  it('never answers CORS on the web app’s API, the authorization page or the web app', async () => {
    const api = await fetch(`${base}/api/v1/admin/patients`, {
      headers: { origin: APP, authorization: `Bearer ${t.adminToken}` },
    });
    expect(api.status).toBe(200);
    expect(acao(api)).toBeNull();
    expect(acao(await preflight(`${base}/api/v1/admin/patients`, APP))).toBeNull();
    expect(acao(await preflight(`${base}/api/v1/session`, APP, 'POST', 'content-type'))).toBeNull();
    const auth = await fetch(
      `${base}/oauth/auth?${new URLSearchParams({ client_id: app.client_id, response_type: 'code' })}`,
      { headers: { origin: APP }, redirect: 'manual' },
    );
    expect(acao(auth)).toBeNull();
    expect(acao(await preflight(`${base}/oauth/auth`, APP))).toBeNull();
    const root = await fetch(`${base}/`, { headers: { origin: APP } });
    expect(acao(root)).toBeNull();
  });

  it('allows an origin the operator configured (--cors-origin)', async () => {
    const r = await preflight(`${base}/fhir/R4/Observation`, EXTRA);
    expect(r.status).toBe(204);
    expect(acao(r)).toBe(EXTRA);
    expect(acao(await token(EXTRA))).toBe(EXTRA);
  });

  it('follows registration and disabling at once', async () => {
    const LATE = 'https://late.example:8443';
    expect((await preflight(`${base}/fhir/R4/Observation`, LATE)).status).toBe(403);
    const late = await registerClient(t, {
      name: 'Late app',
      grantTypes: ['authorization_code'],
      redirectUris: [`${LATE}/cb`],
      scope: 'openid patient/*.read',
      public: true,
    });
    const allowed = await preflight(`${base}/fhir/R4/Observation`, LATE);
    expect(allowed.status).toBe(204);
    expect(acao(allowed)).toBe(LATE);
    const off = await t.api('DELETE', `/api/v1/admin/oauth-clients/${late.client_id}`);
    expect(off.status).toBe(200);
    const refused = await preflight(`${base}/fhir/R4/Observation`, LATE);
    expect(refused.status).toBe(403);
    expect(acao(refused)).toBeNull();
    // The other clients' origins stay.
    expect((await preflight(`${base}/fhir/R4/Observation`, APP)).status).toBe(204);
  });

  it('works from a real browser page on another origin, and credentials never pass', async () => {
    // The app: a blank page on http://localhost:<port>, a loopback redirect URI registered for it.
    const appServer: Server = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>SMART app</title>'),
    );
    await new Promise<void>((ok) => appServer.listen(0, '127.0.0.1', ok));
    const port = (appServer.address() as AddressInfo).port;
    await registerClient(t, {
      name: 'Browser app',
      grantTypes: ['authorization_code'],
      redirectUris: [`http://localhost:${port}/callback`],
      scope: 'openid patient/*.read',
      public: true,
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const calls = async (appUrl: string) => {
        await page.goto(appUrl);
        return page.evaluate(
          async ({ base, patientId, assertion, adminToken, type }) => {
            const attempt = async (f: () => Promise<unknown>) => {
              try {
                return await f();
              } catch {
                return 'blocked';
              }
            };
            const tokenResult = await attempt(async () => {
              const r = await fetch(`${base}/oauth/token`, {
                method: 'POST',
                body: new URLSearchParams({
                  grant_type: 'client_credentials',
                  scope: 'system/Observation.read',
                  client_assertion_type: type,
                  client_assertion: assertion,
                }),
              });
              return ((await r.json()) as { access_token: string }).access_token;
            });
            const token = typeof tokenResult === 'string' && tokenResult !== 'blocked' ? tokenResult : '';
            const search = `${base}/fhir/R4/Observation?patient=${patientId}`;
            return {
              token: tokenResult === 'blocked' ? 'blocked' : 'read',
              read: await attempt(async () => {
                const r = await fetch(search, { headers: { authorization: `Bearer ${token}` } });
                return ((await r.json()) as { resourceType: string }).resourceType;
              }),
              challenge: await attempt(async () => {
                const r = await fetch(search);
                return `${r.status} ${r.headers.get('www-authenticate')}`;
              }),
              withCredentials: await attempt(async () => {
                const r = await fetch(search, {
                  credentials: 'include',
                  headers: { authorization: `Bearer ${token}` },
                });
                return r.status;
              }),
              adminApi: await attempt(async () => {
                const r = await fetch(`${base}/api/v1/admin/patients`, {
                  headers: { authorization: `Bearer ${adminToken}` },
                });
                return r.status;
              }),
            };
          },
          {
            base,
            patientId,
            assertion: clientAssertion(base, service.client_id, key),
            adminToken: t.adminToken,
            type: ASSERTION_TYPE,
          },
        );
      };
      expect(await calls(`http://localhost:${port}/`)).toEqual({
        token: 'read',
        read: 'Bundle',
        challenge: '401 Bearer realm="openiomt"',
        withCredentials: 'blocked',
        adminApi: 'blocked',
      });
      // The same page on an origin no client registered (127.0.0.1 is not localhost to a browser).
      const other = await calls(`http://127.0.0.1:${port}/`);
      expect(other).toMatchObject({ read: 'blocked', challenge: 'blocked', adminApi: 'blocked' });
    } finally {
      await browser.close();
      await new Promise((ok) => appServer.close(ok));
    }
  });
});
