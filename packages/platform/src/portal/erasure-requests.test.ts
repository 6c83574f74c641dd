/**
 * Erasure on request, on a real platform with real accounts: the patient asks, an administrator rejects or
 * completes (crypto-shredding), each step recorded; completing it makes the patient's messages and the
 * reason they gave unreadable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startTestPlatform, type TestPlatform } from '../../test/harness.ts';
import { type Browser, signedInAs } from '../identity/testing.ts';

describe.each(backends)('erasure requests ($name)', (backend) => {
  let t: TestPlatform;
  let patient = '';
  let other = '';
  const as: Record<string, { id: string; browser: Browser }> = {};
  const request = () => `/api/v1/patients/${patient}/erasure-request`;

  beforeAll(async () => {
    t = await startTestPlatform(backend);
    patient = (await t.api('POST', '/api/v1/admin/patients', { identifier: 'MRN-ERASE-1' })).body.id;
    other = (await t.api('POST', '/api/v1/admin/patients', {})).body.id;
    const base = t.platform.httpUrl;
    for (const [username, roles, p] of [
      ['er.patient', ['patient'], patient],
      ['er.other', ['patient'], other],
      ['er.dr', ['clinician'], undefined],
      ['er.admin', ['administrator'], undefined],
    ] as const)
      as[username] = await signedInAs(base, t.adminToken, {
        username,
        roles: [...roles],
        ...(p ? { patientId: p } : {}),
      });
    const team = await t.api('POST', '/api/v1/admin/care-teams', { name: 'Erasure ward' });
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/members/${as['er.dr']!.id}`);
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/patients/${patient}`);
  });
  afterAll(async () => {
    await t?.close();
  });

  const admin = () => as['er.admin']!.browser;
  const events = async (kind: string) =>
    (await t.api('GET', `/api/v1/admin/security-events?kind=${kind}`)).body.items as { detail: string }[];

  it('lets only the patient ask, and asking again finds the same pending request', async () => {
    expect((await as['er.patient']!.browser.get(request())).status).toBe(404);
    const asked = await as['er.patient']!.browser.post(request(), { reason: '  I am moving abroad.  ' });
    expect(asked.status).toBe(202);
    expect(asked.json).toEqual({
      id: expect.any(String),
      patientId: patient,
      requestedAt: expect.any(String),
      status: 'pending',
      reason: 'I am moving abroad.',
    });
    const again = await as['er.patient']!.browser.post(request(), {});
    expect(again.status).toBe(202);
    expect(again.json.id).toBe(asked.json.id);
    expect((await as['er.patient']!.browser.get(request())).json).toEqual(asked.json);

    expect((await as['er.dr']!.browser.post(request(), {})).status).toBe(403);
    expect((await as['er.other']!.browser.post(request(), {})).status).toBe(403);
    expect((await as['er.other']!.browser.get(request())).status).toBe(403);
    expect((await fetch(`${t.platform.httpUrl}${request()}`, { method: 'POST' })).status).toBe(401);
    const bad = await as['er.patient']!.browser.post(request(), { reason: 42 });
    expect(bad.json.field).toBe('/reason');
    expect((await events('erasure-requested')).map((e) => e.detail)).toEqual([
      `${as['er.patient']!.id} requested erasure (request ${asked.json.id})`,
    ]);
  });

  it('shows the queue to administrators only', async () => {
    const queue = await admin().get('/api/v1/admin/erasure-requests?status=pending');
    expect(queue.status).toBe(200);
    expect(queue.json.items).toEqual([
      expect.objectContaining({
        patientId: patient,
        requestedBy: as['er.patient']!.id,
        status: 'pending',
        reason: 'I am moving abroad.',
      }),
    ]);
    expect((await t.api('GET', '/api/v1/admin/erasure-requests')).body.items).toHaveLength(1);
    expect((await as['er.dr']!.browser.get('/api/v1/admin/erasure-requests')).status).toBe(403);
    expect((await fetch(`${t.platform.httpUrl}/api/v1/admin/erasure-requests`)).status).toBe(401);
    expect((await admin().get('/api/v1/admin/erasure-requests?status=done')).json.field).toBe('/status');
  });

  it('rejects with a reason; a rejected request is closed', async () => {
    const [pending] = (await admin().get('/api/v1/admin/erasure-requests?status=pending')).json.items;
    expect((await admin().post(`/api/v1/admin/erasure-requests/${pending.id}/reject`, {})).json.field).toBe(
      '/reason',
    );
    const rejected = await admin().post(`/api/v1/admin/erasure-requests/${pending.id}/reject`, {
      reason: 'records must be kept during the ongoing treatment',
    });
    expect(rejected.status).toBe(200);
    expect(rejected.json).toMatchObject({
      status: 'rejected',
      decidedBy: as['er.admin']!.id,
      decisionReason: 'records must be kept during the ongoing treatment',
    });
    const complete = await admin().post(`/api/v1/admin/erasure-requests/${pending.id}/complete`, {
      reason: 'too late',
    });
    expect(complete.status).toBe(409);
    expect((await as['er.patient']!.browser.get(request())).json).toMatchObject({
      status: 'rejected',
      decisionReason: 'records must be kept during the ongoing treatment',
    });
    expect(await events('erasure-rejected')).toHaveLength(1);
    const unknown = await admin().post(
      '/api/v1/admin/erasure-requests/00000000-0000-4000-8000-000000000000/reject',
      {
        reason: 'x',
      },
    );
    expect(unknown.status).toBe(404);
  });

  it('completes a new request by erasing the patient: identity, messages and the reason become unreadable', async () => {
    const sent = await as['er.patient']!.browser.post(`/api/v1/patients/${patient}/messages`, {
      body: 'Please delete everything about me.',
    });
    expect(sent.status).toBe(201);
    const asked = await as['er.patient']!.browser.post(request(), { reason: 'Second try.' });
    expect(asked.json.status).toBe('pending');
    const done = await admin().post(`/api/v1/admin/erasure-requests/${asked.json.id}/complete`, {
      reason: 'identity verified at the front desk',
    });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({
      id: asked.json.id,
      status: 'completed',
      decidedBy: as['er.admin']!.id,
    });
    // The reason was sealed under the destroyed key: gone with it.
    expect(done.json.reason).toBeUndefined();
    const record = await t.api('GET', `/api/v1/admin/patients/${patient}`);
    expect(record.body.erasedAt).toEqual(expect.any(String));
    expect(record.body.identifier).toBeUndefined();
    const messages = await as['er.dr']!.browser.get(`/api/v1/patients/${patient}/messages`);
    expect(messages.status).toBe(410);
    expect((await as['er.patient']!.browser.get(request())).json).toMatchObject({ status: 'completed' });
    expect((await as['er.patient']!.browser.post(request(), {})).status).toBe(409);
    expect(await events('erasure-completed')).toHaveLength(1);
    const audit = await t.api('GET', `/api/v1/admin/audit?patient=${patient}&action=delete`);
    expect(audit.body.items[0]).toMatchObject({
      actor: as['er.admin']!.id,
      resourceType: 'Patient',
      resourceId: patient,
    });
  });
});
