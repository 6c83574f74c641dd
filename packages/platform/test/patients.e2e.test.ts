/** The administrator's patient API: identity fields in, found by identifier, erased with a reason. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startTestPlatform, type TestPlatform } from './harness.ts';

describe.each(backends)('patient identity over the admin API ($name)', (backend) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('registers every identifying field and shows them in the FHIR Patient', async () => {
    const r = await t.api('POST', '/api/v1/admin/patients', {
      identifier: 'MRN-1001',
      displayName: 'Grace Hopper',
      birthDate: '1906-12-09',
      phone: '+1 (555) 010-1906',
      email: 'grace@example.org',
      address: '1 Navy Yard, Washington',
    });
    expect(r.status).toBe(201);
    const read = await t.api('GET', `/api/v1/admin/patients/${r.body.id}`);
    expect(read.body).toMatchObject({
      identifier: 'MRN-1001',
      displayName: 'Grace Hopper',
      birthDate: '1906-12-09',
    });
    expect(read.body.fhir).toMatchObject({
      name: [{ text: 'Grace Hopper' }],
      birthDate: '1906-12-09',
      telecom: [
        { system: 'phone', value: '+1 (555) 010-1906' },
        { system: 'email', value: 'grace@example.org' },
      ],
      address: [{ text: '1 Navy Yard, Washington' }],
    });
    const listed = await t.api('GET', '/api/v1/admin/patients?limit=1000');
    expect(listed.body.items.find((p: { id: string }) => p.id === r.body.id)).toMatchObject({
      displayName: 'Grace Hopper',
    });
    const found = await t.api('POST', '/api/v1/admin/patients/search', { identifier: 'MRN-1001' });
    expect(found.body.items.map((p: { id: string }) => p.id)).toEqual([r.body.id]);
    // Made, read, listed and found: each disclosure of the identity is in the audit log, never the identifier.
    const audit = (await t.api('GET', `/api/v1/admin/audit?patient=${r.body.id}`)).body.items.filter(
      (a: any) => a.resourceType === 'Patient',
    );
    expect(audit.map((a: any) => a.action).sort()).toEqual(['create', 'read', 'search', 'search']);
    expect(JSON.stringify(audit)).not.toContain('MRN-1001');
  });

  it('refuses malformed identity fields, naming the field', async () => {
    for (const [body, field] of [
      [{ birthDate: '1906-13-09' }, '/birthDate'],
      [{ birthDate: '2999-01-01' }, '/birthDate'],
      [{ email: 'not-an-address' }, '/email'],
      [{ phone: 'call me' }, '/phone'],
      [{ displayName: 'x'.repeat(257) }, '/displayName'],
      [{ address: 42 }, '/address'],
    ] as const) {
      const r = await t.api('POST', '/api/v1/admin/patients', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.field).toBe(field);
    }
    const search = await t.api('POST', '/api/v1/admin/patients/search', {});
    expect(search).toMatchObject({ status: 400, body: { field: '/identifier' } });
  });

  it('erases only with a reason; an unknown patient is 404; erasing twice is harmless', async () => {
    const p = (await t.api('POST', '/api/v1/admin/patients', { displayName: 'To be forgotten' })).body;
    expect((await t.api('POST', `/api/v1/admin/patients/${p.id}/erase`, {})).status).toBe(400);
    expect((await t.api('POST', `/api/v1/admin/patients/nobody-here/erase`, { reason: 'x' })).status).toBe(
      404,
    );
    const erased = await t.api('POST', `/api/v1/admin/patients/${p.id}/erase`, { reason: 'request ER-7' });
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ id: p.id, erasedAt: expect.any(String) });
    expect(erased.body.displayName).toBeUndefined();
    expect(erased.body.fhir.name).toBeUndefined();
    expect(erased.body.fhir.identifier).toHaveLength(1);
    const again = await t.api('POST', `/api/v1/admin/patients/${p.id}/erase`, { reason: 'again' });
    expect(again.body.erasedAt).toBe(erased.body.erasedAt);
    const unauthorised = await fetch(`${t.platform.httpUrl}/api/v1/admin/patients/${p.id}/erase`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'no token' }),
    });
    expect(unauthorised.status).toBe(401);
  });
});
