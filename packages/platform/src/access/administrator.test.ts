/**
 * Every administrator route answers alike on a real platform: no or a bad credential is 401 with a Bearer
 * challenge and an `admin-auth-failed` security event; a signed-in clinician (second factor passed, not an
 * administrator) is 403 with an `access-denied` event. Also the device revocation reason's length limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, provisionDevice, startTestPlatform, type TestPlatform } from '../../test/harness.ts';
import { type Browser, signedInAs } from '../identity/testing.ts';

const ADMIN_ROUTES = [
  '/api/v1/admin/devices',
  '/api/v1/admin/users',
  '/api/v1/admin/erasure-requests',
  '/api/v1/admin/webhooks',
  '/api/v1/admin/audit',
  '/api/v1/admin/oauth-clients',
];

describe.each(backends)('administrator routes ($name)', (backend) => {
  let t: TestPlatform;
  let clinician: Browser;

  beforeAll(async () => {
    t = await startTestPlatform(backend);
    clinician = (
      await signedInAs(t.platform.httpUrl, t.adminToken, { username: 'adm.dr', roles: ['clinician'] })
    ).browser;
  });
  afterAll(async () => {
    await t?.close();
  });

  const events = async (kind: 'admin-auth-failed' | 'access-denied') =>
    (await t.platform.store.securityEvents.list({ kind })).items.length;

  it('answers 401 with a challenge to no or a bad credential, recording admin-auth-failed', async () => {
    for (const path of ADMIN_ROUTES) {
      const before = await events('admin-auth-failed');
      const anonymous = await fetch(`${t.platform.httpUrl}${path}`);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.headers.get('www-authenticate'), path).toBe('Bearer realm="openiomt"');
      const refused = await fetch(`${t.platform.httpUrl}${path}`, {
        headers: { authorization: 'Bearer nope' },
      });
      expect(refused.status, path).toBe(401);
      expect(refused.headers.get('www-authenticate'), path).toBe(
        'Bearer realm="openiomt", error="invalid_token"',
      );
      expect(await events('admin-auth-failed'), path).toBeGreaterThan(before);
    }
  });

  it('answers 403 to a signed-in non-administrator, recording access-denied', async () => {
    for (const path of ADMIN_ROUTES) {
      const before = await events('access-denied');
      const r = await clinician.get(path);
      expect(r.status, path).toBe(403);
      expect(r.json).toMatchObject({ status: 403, title: 'Forbidden' });
      expect(await events('access-denied'), path).toBe(before + 1);
    }
    // The FHIR face of the audit log answers the same, as an OperationOutcome.
    const fhir = await clinician.get('/fhir/R4/AuditEvent');
    expect(fhir.status).toBe(403);
    expect(fhir.json.resourceType).toBe('OperationOutcome');
  });

  it('limits a revocation reason to 500 characters, naming /reason', async () => {
    const d = await provisionDevice(t, 'revoke-reason-1');
    const long = await t.api('POST', `/api/v1/admin/devices/${d.id}/revoke`, { reason: 'x'.repeat(501) });
    expect(long.status).toBe(400);
    expect(long.body.field).toBe('/reason');
    const ok = await t.api('POST', `/api/v1/admin/devices/${d.id}/revoke`, { reason: 'x'.repeat(500) });
    expect(ok.status).toBe(200);
  });
});
