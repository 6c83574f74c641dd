/**
 * SMART Backend Services and token checks at our API on a real platform, in the style of the ONC Inferno
 * tests: client credentials with private_key_jwt (and client_secret_basic), fhir-kit-client searching with
 * the token, and every token that must be refused: garbage, `alg: none`, HMAC keyed with the public key,
 * wrong audience, wrong issuer, expired, an ID token, a disabled client's token. Forged tokens are signed
 * with the server's own key (read from the data folder) so that only the one claim under test is wrong.
 */
import { createHmac, createPrivateKey, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Client as FhirKitClient } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backends,
  provisionDevice,
  publish,
  startTestPlatform,
  type TestPlatform,
  topicOf,
} from '../../test/harness.ts';
import { Browser, signedInAs } from '../identity/testing.ts';
import { oauthKeyFiles } from './keys.ts';
import {
  assertionParams,
  backendKey,
  decodeJwt,
  type RegisteredClient,
  registerClient,
  signJwt,
  tokenRequest,
} from './testing.ts';

describe.each(backends)('SMART Backend Services and token checks ($name)', (backend) => {
  let t: TestPlatform;
  let base = '';
  let fhirBase = '';
  let patientId = '';
  let key: ReturnType<typeof backendKey>;
  let service: RegisteredClient;

  beforeAll(async () => {
    t = await startTestPlatform(backend);
    base = t.platform.httpUrl;
    fhirBase = `${base}/fhir/R4`;
    const device = await provisionDevice(t, 'backend-dev');
    patientId = device.patientId;
    const mqtt = await device.connect(5);
    for (let seq = 1; seq <= 3; seq++)
      expect(await publish(mqtt, topicOf(device.id), device.sign(seq))).toBe(0);
    mqtt.end();
    key = backendKey();
    service = await registerClient(t, {
      name: 'Population analytics',
      grantTypes: ['client_credentials'],
      scope: 'system/Observation.read',
      jwks: key.jwks,
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const serviceToken = async (client = service, k = key, scope = 'system/Observation.read') =>
    tokenRequest(base, {
      grant_type: 'client_credentials',
      scope,
      ...assertionParams(base, client.client_id, k),
    });
  const observations = (token: string, path = `/Observation?patient=${patientId}`) =>
    fetch(`${fhirBase}${path}`, { headers: { authorization: `Bearer ${token}` } });

  /** The server's signing key and a token like the ones it issues, with some claims changed. */
  async function forge(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
    const jwks = JSON.parse(await readFile(oauthKeyFiles(t.platform.config.dataDir).jwksFile, 'utf8'));
    const jwk = jwks.keys[0];
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      jti: randomUUID(),
      sub: service.client_id,
      client_id: service.client_id,
      iat: now,
      exp: now + 300,
      scope: 'system/Observation.read',
      iss: `${base}/oauth`,
      aud: fhirBase,
      ...claims,
    };
    const h = { alg: 'EdDSA', typ: 'at+jwt', kid: jwk.kid, ...header };
    return {
      jwk,
      payload,
      header: h,
      token: signJwt(h, payload, createPrivateKey({ key: jwk, format: 'jwk' })),
    };
  }

  it('issues a 5-minute JWT to a backend service authenticated with private_key_jwt', async () => {
    const r = await serviceToken();
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'system/Observation.read' });
    expect(r.json.refresh_token).toBeUndefined();
    const { header, payload } = decodeJwt(r.json.access_token);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(payload).toMatchObject({ aud: fhirBase, iss: `${base}/oauth`, sub: service.client_id });
    expect((await observations(r.json.access_token)).status).toBe(200);
  });

  it('fhir-kit-client searches Observations with the token', async () => {
    const { json } = await serviceToken();
    const client = new FhirKitClient({ baseUrl: fhirBase, bearerToken: json.access_token });
    const bundle: any = await client.search({
      resourceType: 'Observation',
      searchParams: { patient: patientId },
    });
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.entry.length).toBe(3);
    expect(bundle.entry[0].resource.subject.reference).toBe(`Patient/${patientId}`);
  });

  it('gives no more than the registered scopes: asking beyond them yields nothing, other resources 403', async () => {
    const wider = await serviceToken(service, key, 'system/*.read system/Flag.read');
    expect(wider.status).toBe(200);
    expect(wider.json.scope).toBeUndefined();
    const { json } = await serviceToken();
    expect((await observations(json.access_token, `/Flag?patient=${patientId}`)).status).toBe(403);
  });

  it('refuses a client assertion signed with another key, or for another audience', async () => {
    const bad = await serviceToken(service, backendKey());
    expect(bad.status).toBe(401);
    expect(bad.json.error).toBe('invalid_client');
  });

  it('also serves a confidential client with client_secret_basic', async () => {
    const c = await registerClient(t, {
      name: 'Nightly export',
      grantTypes: ['client_credentials'],
      scope: 'system/*.read',
    });
    expect(typeof c.client_secret).toBe('string');
    const r = await tokenRequest(
      base,
      { grant_type: 'client_credentials', scope: 'system/Observation.rs' },
      {
        id: c.client_id,
        secret: c.client_secret as string,
      },
    );
    expect(r.status).toBe(200);
    expect((await observations(r.json.access_token)).status).toBe(200);
    const wrong = await tokenRequest(
      base,
      { grant_type: 'client_credentials' },
      { id: c.client_id, secret: 'nope' },
    );
    expect(wrong.status).toBe(401);
    // The secret is never shown again.
    const list = await t.api('GET', '/api/v1/admin/oauth-clients');
    expect(JSON.stringify(list.body)).not.toContain(c.client_secret as string);
  });

  it('refuses invalid tokens with 401: garbage, alg none, HMAC with the public key, ID-token type', async () => {
    const control = await forge({});
    expect((await observations(control.token)).status).toBe(200);

    expect((await observations('eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln')).status).toBe(401);
    const [h, p] = control.token.split('.');
    expect((await observations(`${h}.${p}.`)).status).toBe(401);
    const none = signJwt({ ...control.header, alg: 'none' }, control.payload);
    expect((await observations(none)).status).toBe(401);
    expect((await observations(`${none}AAAA`)).status).toBe(401);
    const hsHeader = Buffer.from(JSON.stringify({ ...control.header, alg: 'HS256' })).toString('base64url');
    const hsBody = Buffer.from(JSON.stringify(control.payload)).toString('base64url');
    const hsSig = createHmac('sha256', JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: control.jwk.x }))
      .update(`${hsHeader}.${hsBody}`)
      .digest('base64url');
    expect((await observations(`${hsHeader}.${hsBody}.${hsSig}`)).status).toBe(401);
    expect((await observations((await forge({}, { typ: 'JWT' })).token)).status).toBe(401);
    // A changed claim breaks the signature.
    const tampered = Buffer.from(JSON.stringify({ ...control.payload, scope: 'system/*.*' })).toString(
      'base64url',
    );
    expect((await observations(`${h}.${tampered}.${control.token.split('.')[2]}`)).status).toBe(401);
  });

  it('refuses a wrong audience, a wrong issuer and an expired token', async () => {
    expect((await observations((await forge({ aud: 'https://elsewhere.example/fhir' })).token)).status).toBe(
      401,
    );
    expect(
      (await observations((await forge({ aud: [fhirBase, 'https://elsewhere.example'] })).token)).status,
    ).toBe(401);
    expect((await observations((await forge({ iss: 'https://evil.example/oauth' })).token)).status).toBe(401);
    const past = Math.floor(Date.now() / 1000) - 10;
    expect((await observations((await forge({ exp: past, iat: past - 300 })).token)).status).toBe(401);
  });

  it('a disabled client: its tokens stop working at once and it gets no new ones', async () => {
    const k = backendKey();
    const c = await registerClient(t, {
      name: 'Retired feed',
      grantTypes: ['client_credentials'],
      scope: 'system/Observation.read',
      jwks: k.jwks,
    });
    const { json } = await serviceToken(c, k);
    expect((await observations(json.access_token)).status).toBe(200);
    const del = await t.api('DELETE', `/api/v1/admin/oauth-clients/${c.client_id}`);
    expect(del.status).toBe(200);
    expect(del.body.disabledAt).toBeDefined();
    expect((await observations(json.access_token)).status).toBe(401);
    expect((await serviceToken(c, k)).status).toBe(401);
    expect((await t.api('DELETE', `/api/v1/admin/oauth-clients/${randomUUID()}`)).status).toBe(404);
  });

  it('client registration is for administrators; a bad body is refused naming the field', async () => {
    const person = await signedInAs(base, t.adminToken, {
      username: 'not.admin',
      roles: ['patient'],
      patientId,
    });
    expect(
      (
        await person.browser.post('/api/v1/admin/oauth-clients', {
          name: 'x',
          grantTypes: ['client_credentials'],
          scope: 'system/*.read',
        })
      ).status,
    ).toBe(403);
    expect((await new Browser(base).get('/api/v1/admin/oauth-clients')).status).toBe(401);
    const bad = await t.api('POST', '/api/v1/admin/oauth-clients', {
      name: 'x',
      grantTypes: ['authorization_code'],
      scope: 'openid',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('/redirectUris');
    const badKey = await t.api('POST', '/api/v1/admin/oauth-clients', {
      name: 'x',
      grantTypes: ['client_credentials'],
      scope: 'system/*.read',
      jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }] },
    });
    expect(badKey.status).toBe(400);
    const list = await t.api('GET', '/api/v1/admin/oauth-clients');
    expect(list.status).toBe(200);
    expect(list.body.items.map((c: any) => c.id)).toContain(service.client_id);
  });

  it('an OAuth token never reaches the administrator API', async () => {
    const c = await registerClient(t, {
      name: 'Everything',
      grantTypes: ['client_credentials'],
      scope: 'system/*.*',
    });
    const r = await tokenRequest(
      base,
      { grant_type: 'client_credentials', scope: 'system/*.*' },
      {
        id: c.client_id,
        secret: c.client_secret as string,
      },
    );
    expect(r.status).toBe(200);
    const admin = await fetch(`${base}/api/v1/admin/oauth-clients`, {
      headers: { authorization: `Bearer ${r.json.access_token}` },
    });
    // A valid token, but not an administrator's: refused like a signed-in non-administrator.
    expect(admin.status).toBe(403);
  });
});
