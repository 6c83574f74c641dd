/**
 * Behind a proxy the platform listens on one address and is reached at another (`--public-url`): the OAuth
 * issuer and the FHIR base in `aud` are the public ones, and such a token is accepted by the FHIR API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startTestPlatform, type TestPlatform } from '../../test/harness.ts';
import { decodeJwt, registerClient, tokenRequest } from './testing.ts';

const PUBLIC = 'https://openiomt.example.org';

describe.each(backends)('OAuth behind a public URL ($name)', (backend) => {
  let t: TestPlatform;

  beforeAll(async () => {
    t = await startTestPlatform(backend, { publicUrl: PUBLIC });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('names the public issuer in discovery and the public FHIR base in the tokens it issues', async () => {
    const base = t.platform.httpUrl;
    const discovery = await (await fetch(`${base}/oauth/.well-known/openid-configuration`)).json();
    expect(discovery.issuer).toBe(`${PUBLIC}/oauth`);
    const c = await registerClient(t, {
      name: 'Nightly export',
      grantTypes: ['client_credentials'],
      scope: 'system/*.read',
    });
    const r = await tokenRequest(
      base,
      { grant_type: 'client_credentials', scope: 'system/Observation.rs' },
      { id: c.client_id, secret: c.client_secret as string },
    );
    expect(r.status).toBe(200);
    const { payload } = decodeJwt(r.json.access_token);
    expect(payload).toMatchObject({ iss: `${PUBLIC}/oauth`, aud: `${PUBLIC}/fhir/R4` });
    const search = await fetch(`${base}/fhir/R4/Observation`, {
      headers: { authorization: `Bearer ${r.json.access_token}` },
    });
    expect(search.status).toBe(200);
  });
});
