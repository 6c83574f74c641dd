/**
 * Alarms end to end: a real device publishes signed readings over MQTT; the rules raise alarms that a
 * dashboard receives on the WebSocket stream; people act on them through the API; every transition is in
 * the audit trail.
 */

import { VITALS, type VitalCode } from '@openiomt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadFhirValidator } from '../../core/src/fhir/fhir-schema.ts';
import { startReceiver, waitFor } from '../src/notify/testing.ts';
import { isAlarm, openAlarmStream } from './alarm-stream-client.ts';
import {
  backends,
  provisionDevice,
  publish,
  startTestPlatform,
  type TestPlatform,
  topicOf,
} from './harness.ts';

describe.each(backends)('alarms end to end ($name)', (backend) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a breaching reading raises an alarm on the stream within a second; it is acknowledged and audited', async () => {
    const d = await provisionDevice(t, 'alarm-ox-1', undefined, 'pulse-oximeter');
    const settings = await t.api('PUT', `/api/v1/patients/${d.patientId}/alarm-settings`, {
      thresholds: [{ vital: 'spo2', direction: 'low', limit: 92, hysteresis: 2, priority: 'high' }],
    });
    expect(settings.status).toBe(200);
    const stream = await openAlarmStream(t.platform.httpUrl, t.adminToken, `?patient=${d.patientId}`);
    expect(stream.messages[0]).toEqual({ type: 'snapshot', alarms: [] });
    const client = await d.connect(5);
    expect(await publish(client, topicOf(d.id), d.sign(1, { vitals: [{ code: 'spo2', value: 97 }] }))).toBe(
      0,
    );
    expect(await publish(client, topicOf(d.id), d.sign(2, { vitals: [{ code: 'spo2', value: 88 }] }))).toBe(
      0,
    );
    const raised = await stream.next(isAlarm('threshold:spo2:low'), 1000);
    expect(raised.alarm).toMatchObject({ patientId: d.patientId, priority: 'high', state: 'active' });
    expect(raised.notifications.map((n: any) => n.kind)).toEqual(['notify']);

    const id = raised.alarm.id;
    // A misspelt field is refused by name, not dropped (the default reason would have stood in for it).
    const typo = await t.api('POST', `/api/v1/alarms/${id}/acknowledge`, { reasn: 'typo' });
    expect(typo.status).toBe(400);
    expect(typo.body.field).toBe('/reasn');
    // Snooze is in seconds, and the refusal says this alarm's maximum in seconds.
    const long = await t.api('POST', `/api/v1/alarms/${id}/snooze`, { durationS: 3600 });
    expect(long.status).toBe(400);
    expect(long.body).toMatchObject({
      field: '/durationS',
      detail: expect.stringMatching(/at most 120 s for a high alarm/),
    });
    const ack = await t.api('POST', `/api/v1/alarms/${id}/acknowledge`, { reason: 'at the bedside' });
    expect(ack.status).toBe(200);
    expect(ack.body.acknowledgedBy).toBe('admin');
    await stream.next(isAlarm('threshold:spo2:low', 'acknowledged'));
    const twice = await t.api('POST', `/api/v1/alarms/${id}/acknowledge`, {});
    expect(twice.status).toBe(409);
    expect(twice.body.detail).toBe('cannot acknowledge an acknowledged alarm');
    expect((await t.api('POST', `/api/v1/alarms/${id}/snooze`, {})).body.field).toBe('/durationS');
    // Still below the limit: resolving it now would leave the condition with no alarm.
    const early = await t.api('POST', `/api/v1/alarms/${id}/resolve`, { reason: 'reviewed' });
    expect(early.status).toBe(409);
    expect(early.body.detail).toMatch(/still present: acknowledge or snooze/);

    // Back in range: a high-priority alarm is not resolved automatically; the care team is told.
    expect(await publish(client, topicOf(d.id), d.sign(3, { vitals: [{ code: 'spo2', value: 97 }] }))).toBe(
      0,
    );
    const cleared = await stream.next((m) => isAlarm('threshold:spo2:low')(m) && !m.alarm.conditionPresent);
    expect(cleared.notifications[0].reason).toMatch(/manual resolution required/);
    const resolved = await t.api('POST', `/api/v1/alarms/${id}/resolve`, { reason: 'oxygen adjusted' });
    expect(resolved.body.state).toBe('resolved');
    client.end();
    stream.close();

    const detail = await t.api('GET', `/api/v1/alarms/${id}`);
    expect(detail.body.transitions.map((x: any) => [x.event, x.by])).toEqual([
      ['raise', 'system'],
      ['acknowledge', 'admin'],
      ['condition-cleared', 'system'],
      ['resolve', 'admin'],
    ]);
    expect(detail.body.notifications).toHaveLength(2);

    // The same alarm as FHIR: a Flag, inactive once resolved, and a Communication per notification.
    const fhir = loadFhirValidator();
    const flag = await t.api('GET', `/fhir/R4/Flag/${id}`);
    expect(fhir.errors(flag.body)).toBeUndefined();
    expect(flag.body).toMatchObject({ status: 'inactive', subject: { reference: `Patient/${d.patientId}` } });
    const flags = await t.api('GET', `/fhir/R4/Flag?patient=${d.patientId}&status=inactive`);
    expect(flags.body.entry.map((e: any) => e.resource.id)).toEqual([id]);
    const comms = await t.api('GET', `/fhir/R4/Communication?about=Flag/${id}`);
    expect(comms.body.entry).toHaveLength(2);
    for (const e of comms.body.entry) {
      expect(fhir.errors(e.resource)).toBeUndefined();
      expect(e.resource.about[0].reference).toBe(`Flag/${id}`);
    }
    expect((await t.api('GET', '/fhir/R4/Flag?status=maybe')).body.issue[0].expression).toEqual(['status']);
  });

  it('scores NEWS2 from the latest vitals and raises by its band', async () => {
    const d = await provisionDevice(t, 'alarm-mon-1', undefined, 'monitor');
    const client = await d.connect(5);
    const vitals = [
      { code: 'respiratory-rate', value: 26 },
      { code: 'spo2', value: 95 },
      { code: 'supplemental-oxygen', value: false },
      { code: 'bp-systolic', value: 105 },
      { code: 'bp-diastolic', value: 70 },
      { code: 'heart-rate', value: 95 },
      { code: 'consciousness', value: 'A' },
      { code: 'body-temperature', value: 38.5 },
    ];
    expect(await publish(client, topicOf(d.id), d.sign(1, { vitals }))).toBe(0);
    client.end();
    // RR 26 (3) + SpO2 95 (1) + SBP 105 (1) + HR 95 (1) + 38.5 C (1) = 7: high.
    let score: any;
    for (let i = 0; i < 50 && !score; i++) {
      score = (await t.api('GET', `/api/v1/patients/${d.patientId}/news2`)).body.score;
      if (!score) await new Promise((r) => setTimeout(r, 50));
    }
    expect(score).toMatchObject({ total: 7, band: 'high', complete: true, priority: 'high' });
    const open = await t.api('GET', `/api/v1/alarms?patient=${d.patientId}&state=open`);
    expect(open.body.items.map((a: any) => [a.condition, a.priority])).toEqual([['news2', 'high']]);
  });

  it('counts vitals a nurse enters: NEWS2 completed by an entered ACVPU, an alarm, the live view', async () => {
    const d = await provisionDevice(t, 'alarm-mon-2', undefined, 'monitor');
    const client = await d.connect(5);
    const vitals = [
      { code: 'respiratory-rate', value: 16 },
      { code: 'spo2', value: 97 },
      { code: 'bp-systolic', value: 125 },
      { code: 'bp-diastolic', value: 80 },
      { code: 'heart-rate', value: 72 },
      { code: 'body-temperature', value: 37 },
    ];
    expect(await publish(client, topicOf(d.id), d.sign(1, { vitals }))).toBe(0);
    client.end();
    const news2 = async (ready: (s: any) => boolean) => {
      for (let i = 0; i < 200; i++) {
        const score = (await t.api('GET', `/api/v1/patients/${d.patientId}/news2`)).body.score;
        if (score && ready(score)) return score;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('NEWS2 did not get there');
    };
    // The monitor measures neither consciousness nor oxygen delivery: incomplete, and it says which.
    const partial = await news2((s) => s.issues.length > 0);
    expect(partial.complete).toBe(false);
    expect(partial.issues.map((x: any) => x.parameter).sort()).toEqual(['air-or-oxygen', 'consciousness']);
    const stream = await openAlarmStream(t.platform.httpUrl, t.adminToken, `?patient=${d.patientId}`);
    const live = new WebSocket(
      `${t.platform.httpUrl.replace('http', 'ws')}/api/v1/live?patients=${d.patientId}`,
      {
        headers: { authorization: `Bearer ${t.adminToken}` },
      },
    );
    const liveMessages: any[] = [];
    live.on('message', (m) => liveMessages.push(JSON.parse(String(m))));
    await new Promise((r, j) => live.once('open', r).once('error', j));
    const enter = (code: VitalCode, value: Record<string, unknown>) =>
      t.api('POST', '/fhir/R4/Observation', {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [VITALS[code].codings[0]] },
        subject: { reference: `Patient/${d.patientId}` },
        effectiveDateTime: new Date().toISOString(),
        ...value,
      });
    const acvpu = await enter('consciousness', {
      valueCodeableConcept: { coding: [VITALS.consciousness.answerCodings!.V] },
    });
    expect(acvpu.status, JSON.stringify(acvpu.body)).toBe(201);
    expect((await enter('supplemental-oxygen', { valueBoolean: false })).status).toBe(201);
    // Voice scores 3 on its own: low-medium band, complete now.
    const score = await news2((s) => s.complete);
    expect(score).toMatchObject({ total: 3, band: 'low-medium', complete: true, issues: [] });
    const raised = await stream.next(isAlarm('news2'), 5000);
    expect(raised.alarm.patientId).toBe(d.patientId);
    // An entered respiratory rate reaches the live view, marked as entered.
    const rr = await enter('respiratory-rate', {
      valueQuantity: { value: 22, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    });
    expect(rr.status).toBe(201);
    await waitFor(() => liveMessages.some((m) => m.type === 'vitals' && m.entered));
    const shown = liveMessages.find((m) => m.type === 'vitals' && m.entered);
    expect(shown).toMatchObject({
      patientId: d.patientId,
      values: [{ code: 'respiratory-rate', value: 22 }],
    });
    expect(shown.deviceId).toBeUndefined();
    expect((await news2((s) => s.total === 5)).band).toBe('medium');
    live.close();
    stream.close();
  });

  it('detects a silent device within twice its reporting interval', async () => {
    const d = await provisionDevice(t, 'alarm-therm-1', undefined, 'thermometer', { expectedIntervalS: 1 });
    const stream = await openAlarmStream(t.platform.httpUrl, t.adminToken, `?patient=${d.patientId}`);
    const client = await d.connect(5);
    const body = { vitals: [{ code: 'body-temperature', value: 37 }] };
    expect(await publish(client, topicOf(d.id), d.sign(1, body))).toBe(0);
    const lastData = Date.now();
    const offline = await stream.next(isAlarm(`technical:device-offline:${d.id}`), 5000);
    // Due at 2 s after the last data; the rules' clock ticks every second.
    expect(Date.now() - lastData).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - lastData).toBeLessThan(3500);
    expect(offline.alarm.category).toBe('technical');
    expect(await publish(client, topicOf(d.id), d.sign(2, body))).toBe(0);
    await stream.next((m) => isAlarm(`technical:device-offline:${d.id}`)(m) && !m.alarm.conditionPresent);
    client.end();
    stream.close();
  });

  it('delivers each notification to a subscribed webhook, signed, once', async () => {
    const receiver = await startReceiver();
    try {
      const d = await provisionDevice(t, 'alarm-hook-1', undefined, 'pulse-oximeter');
      const hook = await t.api('POST', '/api/v1/admin/webhooks', {
        url: receiver.url,
        patientId: d.patientId,
      });
      expect(hook.status).toBe(201);
      receiver.useSecret(hook.body.secret);
      await t.api('PUT', `/api/v1/patients/${d.patientId}/alarm-settings`, {
        thresholds: [{ vital: 'spo2', direction: 'low', limit: 95, hysteresis: 2, priority: 'medium' }],
      });
      const client = await d.connect(5);
      // 93 % breaches the patient's limit but scores only 2 in NEWS2 (no NEWS2 alarm).
      expect(await publish(client, topicOf(d.id), d.sign(1, { vitals: [{ code: 'spo2', value: 93 }] }))).toBe(
        0,
      );
      client.end();
      const [delivery] = await waitFor(() => receiver.received.length > 0 && receiver.received);
      expect(delivery!.verified).toBe(true);
      const body = JSON.parse(delivery!.body);
      expect(body).toMatchObject({ type: 'alarm.notification', patientId: d.patientId });
      expect(body.data.alarm.condition).toBe('threshold:spo2:low');
      expect(body.data.notification.kind).toBe('notify');
      const deliveries = await waitFor(async () => {
        const r = await t.api('GET', `/api/v1/admin/webhooks/${hook.body.id}/deliveries?status=delivered`);
        return r.body.items.length > 0 && r.body.items;
      });
      expect(deliveries).toHaveLength(1);
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it('saves alarm settings field by field, refuses impossible limits, and detects a concurrent save', async () => {
    const d = await provisionDevice(t, 'alarm-set-1');
    const path = `/api/v1/patients/${d.patientId}/alarm-settings`;
    const call = async (method: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${t.platform.httpUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${t.adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, etag: res.headers.get('etag'), body: (await res.json()) as any };
    };
    const spo2 = { vital: 'spo2', direction: 'low', limit: 88, hysteresis: 2, priority: 'high' };
    const none = await call('GET');
    expect(none.etag).toBe('"0"');
    expect((await call('PUT', { thresholds: [spo2] }, { 'if-match': none.etag! })).status).toBe(200);
    // Scale 2 alone keeps the limits; limits alone keep Scale 2.
    const scale2 = await call('PUT', { spo2Scale2: true });
    expect(scale2.body).toMatchObject({ thresholds: [spo2], spo2Scale2: true });
    const limits = await call('PUT', { thresholds: [{ ...spo2, limit: 86 }] });
    expect(limits.body).toMatchObject({ thresholds: [{ limit: 86 }], spo2Scale2: true });
    expect((await call('PUT', {})).body).toMatchObject({ status: 400, field: '' });
    const impossible = await call('PUT', { thresholds: [{ ...spo2, limit: 150 }] });
    expect(impossible.status).toBe(400);
    expect(impossible.body.field).toBe('/thresholds/0/limit');
    // Two clinicians read the same version; the second to save is told, not obeyed.
    const read = await call('GET');
    expect(read.etag).toBe(limits.etag);
    const first = await call('PUT', { spo2Scale2: false }, { 'if-match': read.etag! });
    expect(first.status).toBe(200);
    expect(first.etag).not.toBe(read.etag);
    const second = await call('PUT', { thresholds: [] }, { 'if-match': read.etag! });
    expect(second.status).toBe(412);
    expect(second.body).toMatchObject({ field: 'If-Match', detail: expect.stringMatching(/changed since/) });
    expect((await call('GET')).body).toMatchObject({ thresholds: [{ limit: 86 }], spo2Scale2: false });
  });

  it('refuses bad settings naming the field, unknown actions, and streams without credentials', async () => {
    const d = await provisionDevice(t, 'alarm-bad-1');
    const bad = await t.api('PUT', `/api/v1/patients/${d.patientId}/alarm-settings`, {
      thresholds: [{ vital: 'heart-rate', direction: 'high', limit: 'fast', priority: 'high' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('/thresholds/0/limit');
    const unknown = await t.api('PUT', `/api/v1/patients/${d.patientId}/alarm-settings`, {
      thresholds: [{ vital: 'mood', direction: 'high', limit: 1, priority: 'high' }],
    });
    expect(unknown.body.field).toBe('/thresholds/0/vital');
    for (const limit of ['0', '1001', 'ten', '1.5', '']) {
      const list = await t.api('GET', `/api/v1/alarms?limit=${limit}`);
      expect(list.status).toBe(400);
      expect(list.body).toMatchObject({ title: 'Bad request', field: '/limit' });
    }
    expect((await t.api('GET', '/api/v1/alarms?limit=1000')).status).toBe(200);
    expect((await t.api('GET', '/api/v1/alarms?state=gone')).body.field).toBe('/state');
    // NEWS2 has one shape: the score is null until a NEWS2 parameter arrives.
    const none = await t.api('GET', `/api/v1/patients/${d.patientId}/news2`);
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ patientId: d.patientId, score: null });
    expect(typeof none.body.detail).toBe('string');
    expect(
      (await t.api('POST', '/api/v1/alarms/00000000-0000-4000-8000-000000000000/snooze', {})).status,
    ).toBe(404);
    expect(
      (await t.api('POST', '/api/v1/alarms/00000000-0000-4000-8000-000000000000/dance', {})).status,
    ).toBe(404);
    const anonymous = new WebSocket(`${t.platform.httpUrl.replace('http', 'ws')}/api/v1/alarms/stream`);
    const status = await new Promise<number>((resolve) =>
      anonymous.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(401);
  });
});
