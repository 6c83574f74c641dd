/**
 * RFC 7009 revocation of JWT access tokens on a real platform: a backend service's token and a person's token
 * each revoked by their own client at /oauth/token/revocation, then refused (401) at the FHIR API while other
 * tokens (the same grant's next one) still work; what must not revoke anything (another client, no or wrong
 * client authentication, garbage, a token we did not sign, an expired one, an ID token); and the table seen
 * from a second verifier on the same database, as another process would, before and after the token expires.
 */
import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backends,
  provisionDevice,
  publish,
  startTestPlatform,
  type TestPlatform,
  topicOf,
} from '../../test/harness.ts';
import { type Browser, signedInAs } from '../identity/testing.ts';
import type { KeyService } from '../security/keys/key-service.ts';
import { OAuthClients } from './clients.ts';
import { loadOrCreateOAuthKeys, oauthKeyFiles } from './keys.ts';
import { NOT_REVOKED_TTL_MS, RevokedTokens } from './revoked-tokens.ts';
import {
  assertionParams,
  authorize,
  backendKey,
  CookieJar,
  decodeJwt,
  pkce,
  REDIRECT,
  type RegisteredClient,
  registerClient,
  signJwt,
  tokenRequest,
} from './testing.ts';
import { AccessTokenVerifier } from './verify.ts';

describe.each(backends)('revoking JWT access tokens, RFC 7009 ($name)', (backend) => {
  let t: TestPlatform;
  let base = '';
  let fhirBase = '';
  let patientId = '';
  let key: ReturnType<typeof backendKey>;
  let service: RegisteredClient;
  let confidential: RegisteredClient;
  let app: RegisteredClient;
  let patient: { id: string; browser: Browser };

  beforeAll(async () => {
    t = await startTestPlatform(backend);
    base = t.platform.httpUrl;
    fhirBase = `${base}/fhir/R4`;
    const device = await provisionDevice(t, 'revocation-dev');
    patientId = device.patientId;
    const mqtt = await device.connect(5);
    expect(await publish(mqtt, topicOf(device.id), device.sign(1))).toBe(0);
    mqtt.end();
    key = backendKey();
    service = await registerClient(t, {
      name: 'Population analytics',
      grantTypes: ['client_credentials'],
      scope: 'system/Observation.read',
      jwks: key.jwks,
    });
    confidential = await registerClient(t, {
      name: 'Nightly export',
      grantTypes: ['client_credentials'],
      scope: 'system/Observation.read',
    });
    app = await registerClient(t, {
      name: 'My Vitals App',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'openid fhirUser launch/patient offline_access patient/*.read',
      public: true,
    });
    patient = await signedInAs(base, t.adminToken, {
      username: 'revoking.patient',
      roles: ['patient'],
      patientId,
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const assertion = () => assertionParams(base, service.client_id, key);
  const serviceToken = async (): Promise<string> => {
    const r = await tokenRequest(base, {
      grant_type: 'client_credentials',
      scope: 'system/Observation.read',
      ...assertion(),
    });
    expect(r.status).toBe(200);
    return r.json.access_token;
  };
  const basic = (c: RegisteredClient, secret = c.client_secret as string) => ({
    authorization: `Basic ${Buffer.from(`${c.client_id}:${secret}`).toString('base64')}`,
  });
  const revoke = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${base}/oauth/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params).toString(),
    });
  const fhirStatus = async (token: string) =>
    (
      await fetch(`${fhirBase}/Observation?patient=${patientId}`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).status;
  const rowsOf = async (jti?: string) =>
    (
      await t.platform.store.db.query<{ jti: string; client_id: string; expires_at: string }>(
        `SELECT jti, client_id, expires_at FROM revoked_tokens ${jti ? 'WHERE jti = $1' : ''}`,
        jti ? [jti] : [],
      )
    ).rows;

  /** A verifier of its own on the same database and keys: what another platform process would see. */
  async function secondVerifier(now?: () => number): Promise<AccessTokenVerifier> {
    const keys = await loadOrCreateOAuthKeys(t.platform.config.dataDir);
    const { store } = t.platform;
    const v = new AccessTokenVerifier({
      publicKeys: keys.publicKeys,
      db: store.db,
      users: store.users,
      clients: new OAuthClients(store.db, store.keys as KeyService),
      requireMfaForStaff: false,
      ...(now ? { now } : {}),
    });
    v.setEndpoints(`${base}/oauth`, fhirBase);
    return v;
  }

  /** A token signed with the server's own key, like the service's, with some claims changed. */
  async function forge(claims: Record<string, unknown>): Promise<string> {
    const jwks = JSON.parse(await readFile(oauthKeyFiles(t.platform.config.dataDir).jwksFile, 'utf8'));
    const jwk = jwks.keys[0];
    const now = Math.floor(Date.now() / 1000);
    return signJwt(
      { alg: 'EdDSA', typ: 'at+jwt', kid: jwk.kid },
      {
        jti: randomUUID(),
        sub: service.client_id,
        client_id: service.client_id,
        iat: now,
        exp: now + 300,
        scope: 'system/Observation.read',
        iss: `${base}/oauth`,
        aud: fhirBase,
        ...claims,
      },
      createPrivateKey({ key: jwk, format: 'jwk' }),
    );
  }

  async function personTokens() {
    const p = pkce();
    const got = await authorize(base, new CookieJar(patient.browser.cookie), {
      clientId: app.client_id,
      scope: 'openid launch/patient offline_access patient/*.read',
      challenge: p.challenge,
    });
    expect(got.error).toBeUndefined();
    const first = await tokenRequest(base, {
      grant_type: 'authorization_code',
      code: got.code as string,
      redirect_uri: REDIRECT,
      client_id: app.client_id,
      code_verifier: p.verifier,
    });
    expect(first.status).toBe(200);
    const second = await tokenRequest(base, {
      grant_type: 'refresh_token',
      refresh_token: first.json.refresh_token,
      client_id: app.client_id,
    });
    expect(second.status).toBe(200);
    return { first: first.json, second: second.json };
  }

  it('a backend service revokes its own token: 200, then 401 at the API, remembered until its exp', async () => {
    const token = await serviceToken();
    const other = await serviceToken();
    expect(await fhirStatus(token)).toBe(200);
    const res = await revoke({ token, token_type_hint: 'access_token', ...assertion() });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(await fhirStatus(token)).toBe(401);
    // Only that token: the service's other token, and new ones, still work.
    expect(await fhirStatus(other)).toBe(200);
    expect(await fhirStatus(await serviceToken())).toBe(200);
    const { jti, exp } = decodeJwt(token).payload;
    expect(await rowsOf(jti)).toEqual([
      { jti, client_id: service.client_id, expires_at: new Date(exp * 1000).toISOString() },
    ]);
    // Revoking it again is harmless.
    expect((await revoke({ token, ...assertion() })).status).toBe(200);
    expect(await rowsOf(jti)).toHaveLength(1);
  });

  it("a person's token is revoked alone: the grant's next token and its refresh token still work", async () => {
    const { first, second } = await personTokens();
    expect(decodeJwt(first.access_token).payload.grant_id).toBe(
      decodeJwt(second.access_token).payload.grant_id,
    );
    expect(await fhirStatus(first.access_token)).toBe(200);
    const res = await revoke({ token: first.access_token, client_id: app.client_id });
    expect(res.status).toBe(200);
    expect(await fhirStatus(first.access_token)).toBe(401);
    expect(await fhirStatus(second.access_token)).toBe(200);
    const refreshed = await tokenRequest(base, {
      grant_type: 'refresh_token',
      refresh_token: second.refresh_token,
      client_id: app.client_id,
    });
    expect(refreshed.status).toBe(200);
    expect(await fhirStatus(refreshed.json.access_token)).toBe(200);
  });

  it('another client cannot revoke a token; without (valid) client authentication nothing happens', async () => {
    const token = await serviceToken();
    const { jti } = decodeJwt(token).payload;
    // A confidential client is told, as oidc-provider tells it for another client's refresh token.
    const byConfidential = await revoke({ token }, basic(confidential));
    expect(byConfidential.status).toBe(400);
    expect(await byConfidential.json()).toMatchObject({ error: 'invalid_request' });
    // A public client proves nothing by naming its id: a plain 200.
    expect((await revoke({ token, client_id: app.client_id })).status).toBe(200);
    // The library's own client authentication still decides first.
    expect((await revoke({ token }, basic(confidential, 'wrong-secret'))).status).toBe(401);
    expect((await revoke({ token, client_id: service.client_id })).status).toBe(401);
    expect((await revoke({ token })).status).toBe(400);
    expect(await fhirStatus(token)).toBe(200);
    expect(await rowsOf(jti)).toEqual([]);
  });

  it('garbage, a token we did not sign, an expired token and an ID token: 200, nothing recorded', async () => {
    const before = (await rowsOf()).length;
    const { privateKey } = generateKeyPairSync('ed25519');
    const ours = decodeJwt(await serviceToken()).header;
    const notOurs = signJwt(
      ours,
      { jti: randomUUID(), client_id: service.client_id, iss: `${base}/oauth`, exp: 9e9 },
      privateKey,
    );
    const past = Math.floor(Date.now() / 1000) - 10;
    const expired = await forge({ exp: past, iat: past - 300 });
    const wrongIssuer = await forge({ iss: 'https://evil.example/oauth' });
    const { first } = await personTokens();
    for (const token of [
      'not-a-token',
      'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln',
      notOurs,
      expired,
      wrongIssuer,
    ]) {
      const res = await revoke({ token, ...assertion() });
      expect(res.status, token).toBe(200);
    }
    expect((await revoke({ token: first.id_token, client_id: app.client_id })).status).toBe(200);
    expect(await rowsOf()).toHaveLength(before);
  });

  it('a token without a jti is refused at the API', async () => {
    const token = await forge({ jti: undefined });
    expect(decodeJwt(token).payload.jti).toBeUndefined();
    expect(await fhirStatus(token)).toBe(401);
    expect(await (await secondVerifier()).verify(token)).toEqual({
      ok: false,
      reason: 'the token has no jti',
    });
  });

  it('another process sees a revocation from the table; after the exp the row is ignored, then deleted', async () => {
    const token = await serviceToken();
    const { jti, exp } = decodeJwt(token).payload;
    let clock = Date.now();
    const other = await secondVerifier(() => clock);
    expect((await other.verify(token)).ok).toBe(true);
    expect((await revoke({ token, ...assertion() })).status).toBe(200);
    // "Not revoked" was cached a moment ago; the table is asked again once that is older than the TTL.
    clock += NOT_REVOKED_TTL_MS - 1;
    expect((await other.verify(token)).ok).toBe(true);
    clock += 1;
    expect(await other.verify(token)).toEqual({ ok: false, reason: 'the token was revoked' });
    expect(await (await secondVerifier(() => clock)).verify(token)).toEqual({
      ok: false,
      reason: 'the token was revoked',
    });

    const afterExpiry = exp * 1000 + 1000;
    expect(await new RevokedTokens(t.platform.store.db, () => afterExpiry).isRevoked(jti)).toBe(false);
    expect(await rowsOf(jti)).toHaveLength(1);
    // The next revocation, made after the token's expiry, deletes the row.
    await new RevokedTokens(t.platform.store.db, () => afterExpiry).revoke({
      jti: randomUUID(),
      clientId: service.client_id,
      expiresAt: afterExpiry + 300_000,
    });
    expect(await rowsOf(jti)).toEqual([]);
  });

  it('property: revoking any other input records nothing and never throws', async () => {
    const verifier = await secondVerifier();
    const before = (await rowsOf()).length;
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const jwtShaped = fc
      .tuple(fc.jsonValue(), fc.jsonValue(), fc.string({ maxLength: 90 }))
      .map(([h, p, s]) => `${b64(h)}.${b64(p)}.${Buffer.from(s).toString('base64url')}`);
    const { kid } = decodeJwt(await serviceToken()).header;
    // Our own header and kid, any claims, any 64-byte signature: the signature check is what refuses these.
    const ourHeader = fc
      .tuple(
        fc.record({ jti: fc.string(), client_id: fc.constant(service.client_id), exp: fc.integer() }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
      )
      .map(
        ([p, sig]) =>
          `${b64({ alg: 'EdDSA', typ: 'at+jwt', kid })}.${b64(p)}.${Buffer.from(sig).toString('base64url')}`,
      );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), jwtShaped, ourHeader), async (input) => {
        expect(await verifier.revoke(input, service.client_id)).toBe('not-our-token');
      }),
      { numRuns: 200 },
    );
    expect(await rowsOf()).toHaveLength(before);
  });
});
