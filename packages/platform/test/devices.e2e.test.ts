import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backends,
  deviceWithKey,
  newKey,
  proof,
  provisionDevice,
  publish,
  startTestPlatform,
  type TestPlatform,
  topicOf,
} from './harness.ts';

describe.each(backends)('device management ($name)', (backend) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('files a reading under the patient the device was assigned to at the reading time', async () => {
    const hourAgo = Date.now() - 3600_000;
    const d = await provisionDevice(t, 'handover-dev', new Date(hourAgo).toISOString());
    const switchAt = new Date(Date.now() - 600_000).toISOString();
    expect(
      (await t.api('POST', `/api/v1/admin/devices/${d.id}/assignments/end`, { at: switchAt })).status,
    ).toBe(200);
    const second = await t.api('POST', '/api/v1/admin/patients', {});
    const assign = await t.api('POST', `/api/v1/admin/devices/${d.id}/assignments`, {
      patientId: second.body.id,
      from: switchAt,
    });
    expect(assign.status).toBe(201);
    // Overlapping an existing period is refused by the database.
    const overlap = await t.api('POST', `/api/v1/admin/devices/${d.id}/assignments`, {
      patientId: d.patientId,
      from: new Date(hourAgo + 60_000).toISOString(),
      to: new Date(hourAgo + 120_000).toISOString(),
    });
    expect(overlap.status).toBe(409);
    const client = await d.connect(5);
    // Sent now, but measured 20 minutes ago: it belongs to the first patient.
    await publish(client, topicOf(d.id), d.sign(1, undefined, new Date(Date.now() - 1200_000).toISOString()));
    await publish(client, topicOf(d.id), d.sign(2));
    client.end();
    const first = await t.api('GET', `/fhir/R4/Observation?patient=${d.patientId}`);
    const later = await t.api('GET', `/fhir/R4/Observation?patient=${second.body.id}`);
    expect(first.body.entry).toHaveLength(1);
    expect(later.body.entry).toHaveLength(1);
    const history = await t.api('GET', `/api/v1/admin/devices/${d.id}/assignments`);
    expect(history.body.map((a: any) => a.patientId)).toEqual([d.patientId, second.body.id]);
    // Each change of whose readings they are is in the audit log, against the patient it concerns.
    const audited = async (patientId: string) =>
      (await t.api('GET', `/api/v1/admin/audit?patient=${patientId}&action=update`)).body.items
        .filter((a: any) => a.resourceType === 'Device' && a.resourceId === d.id)
        .map((a: any) => a.detail.change);
    expect(await audited(d.patientId)).toEqual(expect.arrayContaining(['assign', 'end-assignment']));
    expect(await audited(second.body.id)).toEqual(['assign']);
    // Reading the device, whose history names both patients, is a read of each one's record.
    expect((await t.api('GET', `/api/v1/admin/devices/${d.id}`)).body.assignments).toHaveLength(2);
    for (const patientId of [d.patientId, second.body.id]) {
      const reads = (await t.api('GET', `/api/v1/admin/audit?patient=${patientId}&action=read`)).body.items;
      expect(reads.some((a: any) => a.resourceType === 'Device' && a.resourceId === d.id)).toBe(true);
    }
  });

  it('enrols once: a used, wrong or expired code is refused alike', async () => {
    const reg = await t.api('POST', '/api/v1/admin/devices', { id: 'enrol-once', kind: 'thermometer' });
    const key = newKey();
    const body = {
      jwk: key.jwk,
      proof: proof(key, { device: 'enrol-once', enrolmentCode: reg.body.enrolmentCode }),
    };
    expect((await t.api('POST', '/api/v1/devices/enrol-once/enrol', body)).status).toBe(201);
    const again = await t.api('POST', '/api/v1/devices/enrol-once/enrol', body);
    expect(again.status).toBe(400);
    const wrong = await t.api('POST', '/api/v1/devices/enrol-once/enrol', {
      jwk: key.jwk,
      proof: proof(key, { device: 'enrol-once', enrolmentCode: 'AAAA-BBBB-CC' }),
    });
    expect(wrong.body.detail).toBe(again.body.detail);
    // A proof signed by another key than the one enrolled proves nothing.
    const fresh = await t.api('POST', '/api/v1/admin/devices/enrol-once/enrolment-code', {});
    const other = newKey();
    const forged = await t.api('POST', '/api/v1/devices/enrol-once/enrol', {
      jwk: key.jwk,
      proof: proof(other, { device: 'enrol-once', enrolmentCode: fresh.body.enrolmentCode }),
    });
    expect(forged.status).toBe(400);
    expect(forged.body.field).toBe('/proof');
    // The refusal answers as the docs say, and each refusal is a security event naming why, not the code.
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({
      title: 'Enrolment refused',
      detail: 'enrolment code is not valid for this device',
    });
    const refusals = await t.api(
      'GET',
      '/api/v1/admin/security-events?device=enrol-once&kind=enrolment-refused',
    );
    for (const e of refusals.body.items)
      expect(e).toMatchObject({ subsystem: 'enrolment', source: expect.stringContaining('127.0.0.1') });
    // Once the code is spent, any code (the used one, a wrong one) finds none outstanding.
    expect(refusals.body.items.map((e: any) => e.detail).sort()).toEqual([
      'no enrolment code outstanding (already used, or none issued)',
      'no enrolment code outstanding (already used, or none issued)',
      'proof kid must be the RFC 7638 thumbprint of jwk',
    ]);
    // The console can filter on the enrolment subsystem: the enrolment and the refusals.
    const enrolments = await t.api(
      'GET',
      '/api/v1/admin/security-events?device=enrol-once&subsystem=enrolment',
    );
    expect(enrolments.body.items.map((e: any) => e.kind).sort()).toEqual([
      'enrolment-refused',
      'enrolment-refused',
      'enrolment-refused',
      'key-enrolled',
    ]);
  });

  it('rotates keys with an overlap window in which both keys verify', async () => {
    const d = await provisionDevice(t, 'rotate-dev');
    const next = newKey();
    const res = await t.api(
      'POST',
      `/api/v1/devices/${d.id}/keys`,
      { jwk: next.jwk, proof: proof(next, { device: d.id, rotate: true }) },
      { authorization: `Bearer ${d.token()}` },
    );
    expect(res.status).toBe(201);
    expect(res.body.kid).toBe(next.kid);
    expect(Date.parse(res.body.previousKeysValidUntil)).toBeGreaterThan(Date.now());
    const rotated = deviceWithKey(t, d.id, d.patientId, next);
    const client = await rotated.connect(5);
    expect(await publish(client, topicOf(d.id), d.sign(1))).toBe(0); // old key, inside the overlap
    expect(await publish(client, topicOf(d.id), rotated.sign(2))).toBe(0);
    client.end();
    const keys = (await t.api('GET', `/api/v1/admin/devices/${d.id}`)).body.keys;
    expect(keys).toHaveLength(2);
    // Both key events name the part of the platform that made them and the address the device asked from.
    const events = (await t.api('GET', `/api/v1/admin/security-events?device=${d.id}`)).body.items;
    expect(events.map((e: any) => [e.kind, e.subsystem, e.source])).toEqual([
      ['key-rotated', 'rotation', expect.stringContaining('127.0.0.1')],
      ['key-enrolled', 'enrolment', expect.stringContaining('127.0.0.1')],
    ]);
    // And they can be asked for by that part.
    const rotations = await t.api('GET', `/api/v1/admin/security-events?device=${d.id}&subsystem=rotation`);
    expect(rotations.body.items.map((e: any) => e.kind)).toEqual(['key-rotated']);
    // Without a valid device token, rotation is refused.
    const anon = await t.api(
      'POST',
      `/api/v1/devices/${d.id}/keys`,
      { jwk: next.jwk, proof: proof(next, { device: d.id, rotate: true }) },
      { authorization: 'Bearer x.y.z' },
    );
    expect(anon.status).toBe(401);
  });

  it('names the field at fault when an admin request is malformed', async () => {
    const bad = await t.api('POST', '/api/v1/admin/devices', { id: 'has space', kind: 'ecg-patch' });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('/id');
    const kind = await t.api('POST', '/api/v1/admin/devices', { id: 'ok-id', kind: 'toaster' });
    expect(kind.body.field).toBe('/kind');
    const dup = await t.api('POST', '/api/v1/admin/devices', { id: 'enrol-once', kind: 'ecg-patch' });
    expect(dup.status).toBe(409);
    const missing = await t.api('POST', '/api/v1/admin/devices/nope/assignments', { patientId: 'x' });
    expect(missing.status).toBe(404);
  });

  it('reports readiness and the device fleet', async () => {
    const ready = await fetch(`${t.platform.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    const fleet = await t.api('GET', '/api/v1/admin/devices?status=active&limit=2');
    expect(fleet.body.items.length).toBeLessThanOrEqual(2);
    expect(fleet.body.items.every((d: any) => d.status === 'active')).toBe(true);
    expect(fleet.body.next).toBeDefined();
  });
});
