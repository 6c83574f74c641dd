import { createPublicKey, verify } from 'node:crypto';
import { parseCompactJws } from '@openiomt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFhirValidator } from '../../core/src/fhir/fhir-schema.ts';
import { vitalSignsProblems } from '../../core/src/fhir/vitalsigns-profile.ts';
import {
  backends,
  connectMqtt,
  deviceWithKey,
  newKey,
  provisionDevice,
  publish,
  startTestPlatform,
  type TestPlatform,
  topicOf,
} from './harness.ts';

describe.each(backends)('secure ingestion end to end ($name)', (backend) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  const observations = async (patientId: string) =>
    (await t.api('GET', `/fhir/R4/Observation?patient=${patientId}&_count=1000`)).body.entry ?? [];
  const deadLetters = async (deviceId: string) =>
    (await t.api('GET', `/api/v1/admin/dead-letters?device=${deviceId}`)).body.items;
  const securityEvents = async (deviceId: string) =>
    (await t.api('GET', `/api/v1/admin/security-events?device=${deviceId}`)).body.items;

  it('stores a signed MQTT 5 reading as a FHIR Observation whose Provenance re-verifies', async () => {
    const d = await provisionDevice(t, 'mqtt5-dev');
    const client = await d.connect(5);
    const jws = d.sign(1, {
      vitals: [
        { code: 'heart-rate', value: 81 },
        { code: 'spo2', value: 97 },
      ],
    });
    expect(await publish(client, topicOf(d.id), jws)).toBe(0);
    client.end();
    const entries = await observations(d.patientId);
    expect(entries.map((e: any) => e.resource.valueQuantity?.value).sort()).toEqual([81, 97]);
    const reading = await t.api('GET', `/api/v1/admin/readings/${d.id}/1`);
    expect(reading.body.jws).toBe(jws);
    const sig = reading.body.provenance.signature[0];
    const stored = Buffer.from(sig.data, 'base64').toString('ascii');
    const parsed = parseCompactJws(stored);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const key = createPublicKey({ key: { ...d.jwk }, format: 'jwk' });
    expect(verify(null, parsed.value.signingInput, key, parsed.value.signature)).toBe(true);
  });

  it('serves what it stored as valid FHIR R4: vital-signs Observations, SampledData and a Provenance', async () => {
    const d = await provisionDevice(t, 'fhir-dev');
    const client = await d.connect(5);
    const ts = new Date().toISOString();
    const content = {
      vitals: [
        { code: 'heart-rate', value: 88 },
        { code: 'respiratory-rate', value: 18 },
        { code: 'body-temperature', value: 37.9 },
        { code: 'bp-systolic', value: 131 },
        { code: 'bp-diastolic', value: 84 },
        { code: 'consciousness', value: 'A' },
      ],
      waveforms: [
        {
          code: 'ecg-ii',
          rate: 250,
          start: ts,
          factor: 0.005,
          origin: 0,
          data: [1, 5, 40, 200, 30, null, 2],
        },
      ],
      status: { battery: 64, firmware: '2.0.1' },
    };
    expect(await publish(client, topicOf(d.id), d.sign(1, content, ts))).toBe(0);
    client.end();
    const fhir = loadFhirValidator();
    const entries = (await observations(d.patientId)).map((e: any) => e.resource);
    expect(entries).toHaveLength(6); // the systolic/diastolic pair is one blood-pressure panel
    for (const o of entries) {
      expect(fhir.errors(o)).toBeUndefined();
      if (o.category[0].coding[0].code === 'vital-signs') expect(vitalSignsProblems(o)).toEqual([]);
      expect(o.subject.reference).toBe(`Patient/${d.patientId}`);
      expect(o.device.reference).toBe(`Device/${d.id}`);
    }
    const ecg = entries.find((o: any) => o.valueSampledData);
    expect(ecg.valueSampledData).toMatchObject({
      period: 4,
      factor: 0.005,
      dimensions: 1,
      data: '1 5 40 200 30 E 2',
    });
    const one = await t.api('GET', `/fhir/R4/Observation/${ecg.id}`);
    expect(one.body).toEqual(ecg);
    const provenance = (await t.api('GET', `/api/v1/admin/readings/${d.id}/1`)).body.provenance;
    expect(fhir.errors(provenance)).toBeUndefined();
    expect(provenance.target.map((r: any) => r.reference).sort()).toEqual(
      entries.map((o: any) => `Observation/${o.id}`).sort(),
    );
    const device = (await t.api('GET', `/api/v1/admin/devices/${d.id}`)).body;
    expect(device).toMatchObject({ battery: 64, firmware: '2.0.1', highSeq: 1 });
    expect(fhir.errors(device.fhir)).toBeUndefined();
  });

  it('accepts MQTT 3.1.1 too, acknowledging only what is stored', async () => {
    const d = await provisionDevice(t, 'mqtt4-dev');
    const client = await d.connect(4);
    for (let seq = 1; seq <= 20; seq++) await publish(client, topicOf(d.id), d.sign(seq));
    client.end();
    expect(await observations(d.patientId)).toHaveLength(20);
  });

  it('refuses a flipped byte anywhere in a signed message, dead-letters it and logs a security event', async () => {
    const d = await provisionDevice(t, 'flip-dev');
    const client = await d.connect(5);
    const good = d.sign(1);
    const positions = [0, 10, Math.floor(good.length / 2), good.indexOf('.') + 5, good.length - 3];
    let seq = 1;
    for (const pos of positions) {
      const jws = d.sign(seq++);
      const c = jws[pos] === 'A' ? 'B' : 'A';
      const flipped = jws.slice(0, pos) + c + jws.slice(pos + 1);
      expect(await publish(client, topicOf(d.id), flipped)).toBeGreaterThanOrEqual(0x80);
    }
    client.end();
    expect(await observations(d.patientId)).toHaveLength(0);
    const letters = await deadLetters(d.id);
    // A flip in the header can make the kid unknown, so not every letter can name the device.
    const all = (await t.api('GET', '/api/v1/admin/dead-letters?limit=1000')).body.items;
    expect(all.filter((l: any) => l.topic === topicOf(d.id)).length).toBe(positions.length);
    expect(letters.some((l: any) => l.reason === 'bad-signature')).toBe(true);
    expect(
      (await t.api('GET', '/api/v1/admin/security-events?limit=1000')).body.items.length,
    ).toBeGreaterThan(0);
  });

  it('treats an exact copy with the DUP flag as a duplicate and without it as a replay', async () => {
    const d = await provisionDevice(t, 'replay-dev');
    const client = await d.connect(5);
    const jws = d.sign(1);
    expect(await publish(client, topicOf(d.id), jws)).toBe(0);
    expect(await publish(client, topicOf(d.id), jws, { dup: true })).toBe(0);
    expect(await publish(client, topicOf(d.id), jws)).toBe(0x87);
    // A different message reusing a sequence number is a replay too.
    expect(
      await publish(client, topicOf(d.id), d.sign(1, { vitals: [{ code: 'heart-rate', value: 180 }] }), {
        dup: true,
      }),
    ).toBe(0x87);
    client.end();
    expect(await observations(d.patientId)).toHaveLength(1);
    expect((await deadLetters(d.id)).map((l: any) => l.reason)).toEqual(['replay', 'replay']);
    expect((await securityEvents(d.id)).filter((e: any) => e.kind === 'replay')).toHaveLength(2);
  });

  it("refuses a publish on another device's topic and keeps the payload as a dead letter", async () => {
    const a = await provisionDevice(t, 'acl-a');
    const b = await provisionDevice(t, 'acl-b');
    const client = await a.connect(5);
    const payload = a.sign(1);
    expect(await publish(client, topicOf(b.id), payload)).toBe(0x87);
    client.end();
    // The refusal is sent only once the dead letter is written: it is there as soon as the device hears no.
    const letters = await deadLetters(a.id);
    expect(letters).toHaveLength(1);
    expect(letters[0].reason).toBe('topic-not-allowed');
    expect(Buffer.from(letters[0].payloadBase64, 'base64').toString()).toBe(payload);
    expect(await observations(b.patientId)).toHaveLength(0);
    expect((await securityEvents(a.id)).some((e: any) => e.kind === 'topic-not-allowed')).toBe(true);
  });

  it('refuses stale timestamps and schema violations with the field at fault', async () => {
    const d = await provisionDevice(t, 'bad-input-dev', new Date(Date.now() - 30 * 86400_000).toISOString());
    const client = await d.connect(5);
    const old = new Date(Date.now() - 8 * 86400_000).toISOString();
    expect(await publish(client, topicOf(d.id), d.sign(1, undefined, old))).toBe(0x87);
    expect(await publish(client, topicOf(d.id), d.sign(2, { vitals: [{ code: 'spo2', value: 140 }] }))).toBe(
      0x99,
    );
    expect(await publish(client, topicOf(d.id), d.sign(3, { vitals: [{ code: 'pulse', value: 1 }] }))).toBe(
      0x99,
    );
    client.end();
    const letters = (await deadLetters(d.id)).sort((x: any, y: any) => x.detail.localeCompare(y.detail));
    expect(letters.map((l: any) => [l.reason, l.field]).sort()).toEqual(
      [
        ['implausible-value', '/vitals/0/value'],
        ['schema-violation', '/vitals/0/code'],
        ['stale-timestamp', '/ts'],
      ].sort(),
    );
  });

  it('refuses bad credentials at CONNECT and records the attempt', async () => {
    const d = await provisionDevice(t, 'auth-dev');
    await expect(
      connectMqtt(t.platform.mqttUrl, { username: d.id, password: 'not-a-token', protocolVersion: 5 }),
    ).rejects.toThrow();
    await expect(
      connectMqtt(t.platform.mqttUrl, { username: 'acl-a', password: d.token(), protocolVersion: 4 }),
    ).rejects.toThrow();
    const events = (await t.api('GET', '/api/v1/admin/security-events?kind=auth-failed&limit=1000')).body
      .items;
    expect(events.length).toBeGreaterThanOrEqual(2);
  });

  it('closes a revoked device session at once and refuses it afterwards', async () => {
    const d = await provisionDevice(t, 'revoke-dev');
    const client = await d.connect(5);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const r = await t.api('POST', `/api/v1/admin/devices/${d.id}/revoke`, { reason: 'lost on ward 7' });
    expect(r.status).toBe(200);
    await closed;
    client.end(true);
    await expect(d.connect(5)).rejects.toThrow();
    // Its token is signed by a revoked key: the HTTPS endpoint refuses it before looking at any message.
    const res = await fetch(`${t.platform.httpUrl}/api/v1/devices/${d.id}/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${d.token()}` },
      body: JSON.stringify({ messages: [d.sign(1)] }),
    });
    expect(res.status).toBe(401);
    expect((await securityEvents(d.id)).map((e: any) => e.kind)).toEqual(
      expect.arrayContaining(['device-revoked', 'auth-failed']),
    );
  });

  it('takes HTTPS batches; a retried batch with the same Idempotency-Key stores nothing twice', async () => {
    const d = await provisionDevice(t, 'https-dev');
    const messages = Array.from({ length: 50 }, (_, i) => d.sign(i + 1));
    const post = (key: string, authorization?: string) =>
      fetch(`${t.platform.httpUrl}/api/v1/devices/${d.id}/readings`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': key,
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ messages }),
      });
    // Only an enrolled device may post: anonymous junk must not reach the dead-letter store.
    const anonymous = await post('batch-0000');
    expect(anonymous.status).toBe(401);
    const forged = await post('batch-0000', 'Bearer not.a.token');
    expect(forged.status).toBe(401);
    expect(await deadLetters(d.id)).toHaveLength(0);
    const send = (key: string) => post(key, `Bearer ${d.token()}`).then((r) => r.json() as Promise<any>);
    const first = await send('batch-0001');
    expect(first.results.every((r: any) => r.status === 'accepted')).toBe(true);
    const retry = await send('batch-0001');
    expect(retry.results.every((r: any) => r.status === 'duplicate')).toBe(true);
    const replay = await send('batch-0002');
    expect(replay.results.every((r: any) => r.status === 'rejected' && r.reason === 'replay')).toBe(true);
    expect(await observations(d.patientId)).toHaveLength(50);
  });

  it('pins a refusal it cannot read a device from on the device whose session sent it', async () => {
    const d = await provisionDevice(t, 'stranger-key-dev');
    const stranger = deviceWithKey(t, d.id, d.patientId, newKey()); // a key never enrolled
    const client = await d.connect(5);
    expect(await publish(client, topicOf(d.id), stranger.sign(1))).toBe(0x87);
    expect(await publish(client, topicOf(d.id), 'not a JWS')).toBe(0x99);
    client.end();
    const res = await fetch(`${t.platform.httpUrl}/api/v1/devices/${d.id}/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${d.token()}` },
      body: JSON.stringify({ messages: [stranger.sign(2)] }),
    });
    expect((await res.json()).results).toEqual([
      { status: 'rejected', reason: 'unknown-key', detail: expect.any(String) },
    ]);
    expect((await deadLetters(d.id)).map((l: any) => l.reason).sort()).toEqual([
      'malformed-jws',
      'unknown-key',
      'unknown-key',
    ]);
    expect((await securityEvents(d.id)).filter((e: any) => e.kind === 'unknown-key')).toHaveLength(2);
    // A misspelt filter is refused, not answered with nothing.
    const misspelt = await t.api('GET', '/api/v1/admin/dead-letters?reason=unknwn-key');
    expect([misspelt.status, misspelt.body.field]).toEqual([400, '/reason']);
    const unknownKind = await t.api('GET', '/api/v1/admin/security-events?kind=forged');
    expect([unknownKind.status, unknownKind.body.field]).toEqual([400, '/kind']);
  });

  it('stores a batch sent out of seq order, answering in the order sent, with the seq of each refusal', async () => {
    const d = await provisionDevice(t, 'unordered-dev', new Date(Date.now() - 30 * 86400_000).toISOString());
    const old = new Date(Date.now() - 8 * 86400_000).toISOString();
    const res = await fetch(`${t.platform.httpUrl}/api/v1/devices/${d.id}/readings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${d.token()}` },
      body: JSON.stringify({ messages: [d.sign(3), d.sign(1), d.sign(4, undefined, old), d.sign(2)] }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).results.map((r: any) => [r.seq, r.status, r.reason])).toEqual([
      [3, 'accepted', undefined],
      [1, 'accepted', undefined],
      [4, 'rejected', 'stale-timestamp'],
      [2, 'accepted', undefined],
    ]);
    expect(await observations(d.patientId)).toHaveLength(3);
    expect(await securityEvents(d.id)).not.toContainEqual(expect.objectContaining({ kind: 'replay' }));
  });

  it('refuses the admin API without the administrator token', async () => {
    const res = await fetch(`${t.platform.httpUrl}/api/v1/admin/devices`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const fhir = await fetch(`${t.platform.httpUrl}/fhir/R4/Observation`);
    expect(fhir.status).toBe(401);
    expect(((await fhir.json()) as any).resourceType).toBe('OperationOutcome');
  });
});
