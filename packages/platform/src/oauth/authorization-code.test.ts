/**
 * SMART App Launch (standalone) on a real platform, in the style of the ONC Inferno tests: discovery, the
 * authorization code flow with PKCE as a browser drives it (platform sign-in, consent page, Allow), the
 * token response (patient context, ID token with fhirUser, refresh token), the token at the FHIR API, and
 * what must be refused: no PKCE, another patient's data, wrong scopes, revoked grants, refresh after
 * revocation, denied consent.
 */
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
import {
  authorize,
  CookieJar,
  decodeJwt,
  pkce,
  REDIRECT,
  type RegisteredClient,
  registerClient,
  tokenRequest,
} from './testing.ts';

describe.each(backends)('SMART standalone launch, authorization code + PKCE ($name)', (backend) => {
  let t: TestPlatform;
  let base = '';
  let fhirBase = '';
  let patientId = '';
  let otherPatientId = '';
  let app: RegisteredClient;
  let patient: { id: string; browser: Browser };

  beforeAll(async () => {
    t = await startTestPlatform(backend);
    base = t.platform.httpUrl;
    fhirBase = `${base}/fhir/R4`;
    for (const [id, into] of [
      ['smart-dev-1', 'mine'],
      ['smart-dev-2', 'other'],
    ] as const) {
      const device = await provisionDevice(t, id);
      const mqtt = await device.connect(5);
      expect(await publish(mqtt, topicOf(device.id), device.sign(1))).toBe(0);
      mqtt.end();
      if (into === 'mine') patientId = device.patientId;
      else otherPatientId = device.patientId;
    }
    patient = await signedInAs(base, t.adminToken, {
      username: 'smart.patient',
      roles: ['patient'],
      patientId,
    });
    app = await registerClient(t, {
      name: 'My Vitals App',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'openid fhirUser launch/patient offline_access patient/*.read',
      public: true,
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const jarOf = (b: Browser) => new CookieJar(b.cookie);

  async function fullFlow(scope: string) {
    const p = pkce();
    const jar = jarOf(patient.browser);
    const got = await authorize(base, jar, { clientId: app.client_id, scope, challenge: p.challenge });
    expect(got.error).toBeUndefined();
    const token = await tokenRequest(base, {
      grant_type: 'authorization_code',
      code: got.code as string,
      redirect_uri: REDIRECT,
      client_id: app.client_id,
      code_verifier: p.verifier,
    });
    return { got, token, jar };
  }

  it('publishes the SMART configuration beside the FHIR base', async () => {
    const res = await fetch(`${fhirBase}/.well-known/smart-configuration`);
    expect(res.status).toBe(200);
    const c: any = await res.json();
    expect(c.authorization_endpoint).toBe(`${base}/oauth/auth`);
    expect(c.token_endpoint).toBe(`${base}/oauth/token`);
    expect(c.code_challenge_methods_supported).toEqual(['S256']);
    expect(c.capabilities).toEqual(
      expect.arrayContaining(['launch-standalone', 'context-standalone-patient', 'permission-offline']),
    );
    const oidc: any = await (await fetch(`${base}/oauth/.well-known/openid-configuration`)).json();
    expect(oidc.issuer).toBe(`${base}/oauth`);
    expect(oidc.jwks_uri).toBe(c.jwks_uri);
  });

  it('runs the whole flow: consent page, code, token with patient context, ID token with fhirUser', async () => {
    const { got, token } = await fullFlow(
      'openid fhirUser launch/patient offline_access patient/Observation.read',
    );
    expect(got.consentHtml).toContain('My Vitals App');
    expect(got.consentHtml).not.toContain('<script');
    expect(got.callback.searchParams.get('state')).toBe(got.state);
    expect(token.status).toBe(200);
    expect(token.json).toMatchObject({ token_type: 'Bearer', expires_in: 300, patient: patientId });
    expect(typeof token.json.refresh_token).toBe('string');
    const at = decodeJwt(token.json.access_token);
    expect(at.header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(at.payload).toMatchObject({
      iss: `${base}/oauth`,
      aud: fhirBase,
      sub: patient.id,
      client_id: app.client_id,
    });
    expect(at.payload.scope.split(' ')).toContain('patient/Observation.read');
    expect(at.payload.exp - at.payload.iat).toBe(300);
    const id = decodeJwt(token.json.id_token);
    expect(id.payload.fhirUser).toBe(`${fhirBase}/Patient/${patientId}`);

    const mine = await fetch(`${fhirBase}/Observation?patient=${patientId}`, {
      headers: { authorization: `Bearer ${token.json.access_token}` },
    });
    expect(mine.status).toBe(200);
    expect(((await mine.json()) as any).entry.length).toBeGreaterThan(0);
  });

  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  it('requires PKCE (S256): no challenge is refused, a wrong verifier gets no token', async () => {
    const jar = jarOf(patient.browser);
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: app.client_id,
      redirect_uri: REDIRECT,
      scope: 'openid patient/*.read',
      state: 's1',
    });
    const res = await jar.fetch(`${base}/oauth/auth?${q}`);
    const to = new URL(res.headers.get('location') as string);
    expect(to.searchParams.get('error')).toBe('invalid_request');
    expect(to.searchParams.get('error_description')).toMatch(/PKCE/);

    const p = pkce();
    const got = await authorize(base, jar, {
      clientId: app.client_id,
      scope: 'openid patient/*.read',
      challenge: p.challenge,
    });
    const token = await tokenRequest(base, {
      grant_type: 'authorization_code',
      code: got.code as string,
      redirect_uri: REDIRECT,
      client_id: app.client_id,
      code_verifier: pkce().verifier,
    });
    expect(token.status).toBe(400);
    expect(token.json.error).toBe('invalid_grant');
  });

  it('sends a browser that is not signed in to the platform sign-in, with next pointing back', async () => {
    const p = pkce();
    const jar = new CookieJar();
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: app.client_id,
      redirect_uri: REDIRECT,
      scope: 'openid patient/*.read',
      state: 's2',
      code_challenge: p.challenge,
      code_challenge_method: 'S256',
    });
    const first = await jar.fetch(`${base}/oauth/auth?${q}`);
    const interaction = first.headers.get('location') as string;
    expect(interaction).toMatch(/^\/oauth\/interaction\/[\w-]+$/);
    const page = await jar.fetch(`${base}${interaction}`);
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe(`/?next=${encodeURIComponent(interaction)}`);
  });

  it('refuses a consent form without the right CSRF token', async () => {
    const p = pkce();
    const jar = jarOf(patient.browser);
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: app.client_id,
      redirect_uri: REDIRECT,
      scope: 'openid patient/*.read',
      state: 's3',
      code_challenge: p.challenge,
      code_challenge_method: 'S256',
    });
    const interaction = (await jar.fetch(`${base}/oauth/auth?${q}`)).headers.get('location') as string;
    const post = await jar.fetch(`${base}${interaction}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf=forged&decision=allow',
    });
    expect(post.status).toBe(403);
  });

  it('answers access_denied to the app when the person denies', async () => {
    const got = await authorize(base, jarOf(patient.browser), {
      clientId: app.client_id,
      scope: 'openid patient/*.read',
      challenge: pkce().challenge,
      decision: 'deny',
    });
    expect(got.code).toBeUndefined();
    expect(got.error).toBe('access_denied');
  });

  it("refuses another patient's data, and data outside the token's scopes (403)", async () => {
    const { token } = await fullFlow('openid launch/patient patient/Observation.read');
    const at = token.json.access_token as string;
    const other = await fetch(`${fhirBase}/Observation?patient=${otherPatientId}`, bearer(at));
    expect(other.status).toBe(403);
    const flags = await fetch(`${fhirBase}/Flag?patient=${patientId}`, bearer(at));
    expect(flags.status).toBe(403);
    // The same person in the browser (no token scopes) may see their alarms: the token narrowed it.
    expect((await patient.browser.get(`/fhir/R4/Flag?patient=${patientId}`)).status).toBe(200);
  });

  it('rotates refresh tokens; a revoked grant ends the access token and refresh at once', async () => {
    const { token } = await fullFlow('openid offline_access patient/*.read');
    const first = token.json.refresh_token as string;
    const refreshed = await tokenRequest(base, {
      grant_type: 'refresh_token',
      refresh_token: first,
      client_id: app.client_id,
    });
    expect(refreshed.status).toBe(200);
    const second = refreshed.json.refresh_token as string;
    expect(second).not.toBe(first);
    const at = refreshed.json.access_token as string;
    expect((await fetch(`${fhirBase}/Observation?patient=${patientId}`, bearer(at))).status).toBe(200);

    const introspect = async (tok: string) =>
      (
        await fetch(`${base}/oauth/token/introspection`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: tok, client_id: app.client_id }).toString(),
        })
      ).json() as Promise<any>;
    expect((await introspect(second)).active).toBe(true);

    const revoked = await fetch(`${base}/oauth/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: second,
        token_type_hint: 'refresh_token',
        client_id: app.client_id,
      }).toString(),
    });
    expect(revoked.status).toBe(200);
    expect((await introspect(second)).active).toBe(false);
    const after = await fetch(`${fhirBase}/Observation?patient=${patientId}`, bearer(at));
    expect(after.status).toBe(401);
    const again = await tokenRequest(base, {
      grant_type: 'refresh_token',
      refresh_token: second,
      client_id: app.client_id,
    });
    expect(again.status).toBe(400);
    expect(again.json.error).toBe('invalid_grant');
  });

  it('a staff token: consent-restricted data is refused and the refusal audited', async () => {
    const nurse = await signedInAs(base, t.adminToken, { username: 'smart.nurse', roles: ['nurse'] });
    const team = await t.api('POST', '/api/v1/admin/care-teams', { name: 'SMART ward' });
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/members/${nurse.id}`);
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/patients/${patientId}`);
    const ward = await registerClient(t, {
      name: 'Ward Board',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code'],
      scope: 'openid fhirUser user/Observation.read',
      public: true,
    });
    const p = pkce();
    const got = await authorize(base, new CookieJar(nurse.browser.cookie), {
      clientId: ward.client_id,
      scope: 'openid fhirUser user/Observation.read',
      challenge: p.challenge,
    });
    const token = await tokenRequest(base, {
      grant_type: 'authorization_code',
      code: got.code as string,
      redirect_uri: REDIRECT,
      client_id: ward.client_id,
      code_verifier: p.verifier,
    });
    expect(token.status).toBe(200);
    expect(token.json.patient).toBeUndefined();
    expect(decodeJwt(token.json.id_token).payload.fhirUser).toBe(`${fhirBase}/Practitioner/${nurse.id}`);
    const at = token.json.access_token as string;
    expect((await fetch(`${fhirBase}/Observation?patient=${patientId}`, bearer(at))).status).toBe(200);

    const consent = await patient.browser.request('PUT', `/api/v1/patients/${patientId}/consent`, {
      restrictions: [{ categories: ['vital-signs', 'waveforms', 'activity'] }],
      researchUse: false,
    });
    expect(consent.status).toBe(200);
    const refused = await fetch(`${fhirBase}/Observation?patient=${patientId}`, bearer(at));
    expect(refused.status).toBe(403);
    const audit = await t.api('GET', `/api/v1/admin/audit?patientId=${patientId}&limit=1000`);
    expect(
      audit.body.items.some(
        (e: any) => e.actor === nurse.id && e.outcome === 'denied' && e.resourceType === 'Observation',
      ),
    ).toBe(true);
    await patient.browser.request('PUT', `/api/v1/patients/${patientId}/consent`, {
      restrictions: [],
      researchUse: false,
    });
  });
});
