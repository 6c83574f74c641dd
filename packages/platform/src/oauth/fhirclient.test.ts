/**
 * The SMART JavaScript client (fhirclient) against the real platform: a small Node web app of its own
 * (a real HTTP server on port 0) launches with `oauth2.authorize`, gets the code back at its redirect URI,
 * finishes with `ready()` (PKCE S256, token exchange) and reads the patient's Observations; and the plain
 * `client({ serverUrl, tokenResponse })` API with a token from the flow. The browser between them is a
 * cookie jar per site, signed in to the platform as the patient.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import smart from 'fhirclient';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backends,
  provisionDevice,
  publish,
  startTestPlatform,
  type TestPlatform,
  topicOf,
} from '../../test/harness.ts';
import { signedInAs } from '../identity/testing.ts';
import { CookieJar, consentForm, registerClient } from './testing.ts';

describe.each(backends)('fhirclient (SMART JS client) against the platform ($name)', (backend) => {
  let t: TestPlatform;
  let app: Server;
  let appBase = '';
  let patientId = '';
  let platformJar: CookieJar;
  let clientId = '';
  const session: Record<string, unknown> = {};
  let tokenResponse: unknown;
  // A single-user app: its server-side session is one object.
  const storage = {
    get: async (k: string) => session[k],
    set: async (k: string, v: unknown) => {
      session[k] = v;
      return v;
    },
    unset: async (k: string) => delete session[k],
  };

  beforeAll(async () => {
    t = await startTestPlatform(backend);
    const device = await provisionDevice(t, 'fhirclient-dev');
    patientId = device.patientId;
    const mqtt = await device.connect(5);
    for (let seq = 1; seq <= 2; seq++)
      expect(await publish(mqtt, topicOf(device.id), device.sign(seq))).toBe(0);
    mqtt.end();
    const patient = await signedInAs(t.platform.httpUrl, t.adminToken, {
      username: 'fhirclient.patient',
      roles: ['patient'],
      patientId,
    });
    platformJar = new CookieJar(patient.browser.cookie);

    app = createServer((req: IncomingMessage, res: ServerResponse) => {
      const api = smart(req, res, () => storage as never);
      const url = new URL(req.url ?? '/', appBase);
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/launch') {
        api
          .authorize({
            clientId,
            scope: 'openid fhirUser launch/patient patient/Observation.read',
            redirectUri: '/app',
            iss: `${t.platform.httpUrl}/fhir/R4`,
            pkceMode: 'required',
          })
          .catch((e: Error) => answer(500, { error: e.message }));
        return;
      }
      if (url.pathname === '/plain') {
        // FHIR.client({ serverUrl, tokenResponse }): the plain client API, with the token the flow gave.
        const client = api.client({ serverUrl: `${t.platform.httpUrl}/fhir/R4`, tokenResponse } as never);
        (async () => {
          const bundle: any = await client.request(`Observation?patient=${patientId}`);
          const one: any = await client.request(`Observation/${bundle.entry[0].resource.id}`);
          const flags = await client.request(`Flag?patient=${patientId}`).then(
            () => 'allowed',
            (e: Error) => e.message,
          );
          answer(200, { total: bundle.entry.length, subject: one.subject.reference, flags });
        })().catch((e: Error) => answer(500, { error: e.message }));
        return;
      }
      api
        .ready()
        .then(async (client) => {
          const bundle: any = await client.request(`Observation?patient=${client.patient.id}`);
          tokenResponse = client.state.tokenResponse;
          answer(200, { patient: client.patient.id, total: bundle.entry?.length ?? 0, state: client.state });
        })
        .catch((e: Error) => answer(500, { error: e.message }));
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appBase = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    const c = await registerClient(t, {
      name: 'fhirclient demo',
      redirectUris: [`${appBase}/app`],
      grantTypes: ['authorization_code'],
      scope: 'openid fhirUser launch/patient patient/Observation.read',
      public: true,
    });
    clientId = c.client_id;
  });
  afterAll(async () => {
    await new Promise((resolve) => app?.close(resolve));
    await t?.close();
  });

  it('launches with oauth2.authorize, finishes with ready(), reads the patient compartment', async () => {
    const appJar = new CookieJar();
    let url = `${appBase}/launch`;
    for (let hop = 0; hop < 12; hop++) {
      const jar = url.startsWith(appBase) ? appJar : platformJar;
      const res = await jar.fetch(url);
      if (res.status >= 300 && res.status < 400) {
        url = new URL(res.headers.get('location') as string, url).toString();
        continue;
      }
      const text = await res.text();
      if (url.startsWith(appBase)) {
        expect(res.status, text).toBe(200);
        const result = JSON.parse(text);
        expect(result.patient).toBe(patientId);
        expect(result.total).toBe(2);
        expect(result.state.tokenResponse.token_type).toBe('Bearer');

        // The plain client API with the token the flow produced.
        const plain = await (await fetch(`${appBase}/plain`)).json();
        expect(plain).toMatchObject({ total: 2, subject: `Patient/${patientId}` });
        expect(plain.flags).toMatch(/403|Forbidden/);
        return;
      }
      // The platform's consent page: Allow.
      const form = consentForm(text);
      const post = await platformJar.fetch(new URL(form.action, t.platform.httpUrl).toString(), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: form.csrf, decision: 'allow' }).toString(),
      });
      url = new URL(post.headers.get('location') as string, t.platform.httpUrl).toString();
    }
    throw new Error('the launch did not come back to the app');
  });
});
