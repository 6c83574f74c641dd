/**
 * The live dashboard API end to end: a real platform, real accounts signed in (password and TOTP), real
 * devices publishing signed readings over MQTT, the census and trends over HTTP and the live stream over a
 * real WebSocket.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  backends,
  deviceWithKey,
  newKey,
  proof,
  provisionDevice,
  publish,
  startTestPlatform,
  type TestDevice,
  type TestPlatform,
  topicOf,
} from '../../test/harness.ts';
import { type Browser, signedInPeople } from '../identity/testing.ts';

/** Registers, enrols and assigns a device to an existing patient, through the admin API. */
async function deviceFor(
  t: TestPlatform,
  id: string,
  patientId: string,
  kind: string,
  expectedIntervalS: number,
): Promise<TestDevice> {
  const reg = await t.api('POST', '/api/v1/admin/devices', { id, kind, expectedIntervalS });
  if (reg.status !== 201) throw new Error(`register: ${JSON.stringify(reg.body)}`);
  const key = newKey();
  const enrol = await t.api('POST', `/api/v1/devices/${id}/enrol`, {
    jwk: key.jwk,
    proof: proof(key, { device: id, enrolmentCode: reg.body.enrolmentCode }),
  });
  if (enrol.status !== 201) throw new Error(`enrol: ${JSON.stringify(enrol.body)}`);
  const from = new Date(Date.now() - 3600_000).toISOString();
  const assign = await t.api('POST', `/api/v1/admin/devices/${id}/assignments`, { patientId, from });
  if (assign.status !== 201) throw new Error(`assign: ${JSON.stringify(assign.body)}`);
  return deviceWithKey(t, id, patientId, key);
}

/** A WebSocket client of the live stream that collects messages, or the HTTP status that refused it. */
function openLive(t: TestPlatform, query: string, cookie?: string) {
  const url = `${t.platform.httpUrl.replace('http', 'ws')}/api/v1/live?${query}`;
  const ws = new WebSocket(url, cookie ? { headers: { cookie: `openiomt_session=${cookie}` } } : {});
  const messages: any[] = [];
  const waiters: { test: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    messages.push(m);
    for (const w of [...waiters])
      if (w.test(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
  });
  const opened = new Promise<{ status: number; body?: any }>((resolve) => {
    ws.once('open', () => resolve({ status: 101 }));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }),
      );
    });
    ws.once('error', () => resolve({ status: 0 }));
  });
  return {
    ws,
    messages,
    opened,
    next(test: (m: any) => boolean, timeoutMs = 10_000): Promise<any> {
      const seen = messages.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching message; got ${messages.map((m) => m.type).join(',')}`)),
          timeoutMs,
        );
        waiters.push({
          test,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
  };
}

describe.each(backends)('live dashboard API ($name)', (backend) => {
  let t: TestPlatform;
  let a: TestDevice;
  let a2: TestDevice;
  let b: TestDevice;
  /** In the care team, but withholds vital signs from staff (consent). */
  let c: TestDevice;
  let client: MqttClient;
  const as: Record<string, { id: string; browser: Browser }> = {};
  /** Start of a minute a few minutes back: the readings' vitals are measured in it and the next. */
  const minute = Math.floor(Date.now() / 60_000) * 60_000 - 4 * 60_000;
  const iso = (offsetS: number) => new Date(minute + offsetS * 1000).toISOString();

  beforeAll(async () => {
    t = await startTestPlatform(backend);
    const patient = await t.api('POST', '/api/v1/admin/patients', { displayName: 'Ada Lovelace' });
    expect(patient.status).toBe(201);
    a = await deviceFor(t, 'live-dev-a', patient.body.id, 'ecg-patch', 1);
    a2 = await deviceFor(t, 'live-dev-a2', patient.body.id, 'pulse-oximeter', 60);
    b = await provisionDevice(t, 'live-dev-b');
    c = await provisionDevice(t, 'live-dev-c');
    Object.assign(
      as,
      await signedInPeople(t.platform.httpUrl, t.adminToken, [
        ['dr.in', ['clinician']],
        ['dr.out', ['clinician']],
        ['pat.c', ['patient'], c.patientId],
      ]),
    );
    const team = await t.api('POST', '/api/v1/admin/care-teams', { name: 'Ward 9' });
    expect(team.status).toBe(201);
    expect(
      (await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/members/${as['dr.in']!.id}`)).status,
    ).toBe(200);
    expect(
      (await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/patients/${a.patientId}`)).status,
    ).toBe(200);
    expect(
      (await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/patients/${c.patientId}`)).status,
    ).toBe(200);
    const consent = await as['pat.c']!.browser.request('PUT', `/api/v1/patients/${c.patientId}/consent`, {
      restrictions: [{ categories: ['vital-signs'] }],
      researchUse: false,
    });
    expect(consent.status).toBe(200);
    client = await a.connect();
  });
  afterAll(async () => {
    client?.end(true);
    await t?.close();
  });

  const send = async (seq: number, content: Record<string, unknown>) =>
    expect(await publish(client, topicOf(a.id), a.sign(seq, content))).toBe(0);

  it('streams vitals, waveforms (only to waveform watchers), NEWS2 and device status', async () => {
    const cookie = as['dr.in']!.browser.cookie;
    const withWaves = openLive(t, `patients=${a.patientId}&waveforms=${a.patientId}`, cookie);
    const plain = openLive(t, `patients=${a.patientId}`, cookie);
    expect((await withWaves.opened).status).toBe(101);
    expect((await plain.opened).status).toBe(101);
    expect(await withWaves.next((m) => m.type === 'hello')).toEqual({
      type: 'hello',
      patients: [a.patientId],
      waveforms: [a.patientId],
      withheld: [],
    });
    // The current status of the patient's devices follows the hello.
    await withWaves.next((m) => m.type === 'device' && m.deviceId === a2.id && m.status === 'never');

    await send(1, {
      vitals: [
        { code: 'heart-rate', value: 60, at: iso(10) },
        { code: 'spo2', value: 96, at: iso(10) },
        { code: 'respiratory-rate', value: 22, at: iso(10) },
        { code: 'bp-systolic', value: 100, at: iso(10) },
        { code: 'body-temperature', value: 38.5, at: iso(10) },
        { code: 'consciousness', value: 'A', at: iso(10) },
        { code: 'supplemental-oxygen', value: false, at: iso(10) },
      ],
      waveforms: [
        {
          code: 'ecg-ii',
          rate: 250,
          start: new Date().toISOString(),
          factor: 0.005,
          origin: 0,
          data: [0, 100, null, -40],
        },
      ],
    });
    const vitals = await withWaves.next((m) => m.type === 'vitals');
    expect(vitals).toMatchObject({ patientId: a.patientId, deviceId: a.id, at: iso(10) });
    expect(vitals.values).toContainEqual({ code: 'heart-rate', value: 60, unit: '/min' });
    expect(vitals.values.map((v: any) => v.code).sort()).toEqual(
      ['body-temperature', 'bp-systolic', 'heart-rate', 'respiratory-rate', 'spo2'].sort(),
    );
    const wave = await withWaves.next((m) => m.type === 'waveform');
    expect(wave).toMatchObject({
      patientId: a.patientId,
      deviceId: a.id,
      code: 'ecg-ii',
      rateHz: 250,
      unit: 'mV',
      samples: [0, 0.5, null, -0.2],
    });
    // RR 22 (2) + SpO2 96 (0) + air (0) + SBP 100 (2) + pulse 60 (0) + alert (0) + 38.5 °C (1) = 5: medium.
    const news2 = await withWaves.next((m) => m.type === 'news2');
    expect(news2).toMatchObject({
      patientId: a.patientId,
      score: { total: 5, band: 'medium', complete: true, missing: [] },
    });
    await withWaves.next((m) => m.type === 'device' && m.deviceId === a.id && m.status === 'online');
    await plain.next((m) => m.type === 'vitals');
    await plain.next((m) => m.type === 'news2');
    // Expected every second: after two silent seconds the device is stale.
    await withWaves.next((m) => m.type === 'device' && m.deviceId === a.id && m.status === 'stale');
    expect(plain.messages.some((m) => m.type === 'waveform')).toBe(false);
    withWaves.ws.close();
    plain.ws.close();
  });

  it("withholds the vital signs a patient's consent refuses, but still shows their devices", async () => {
    const live = openLive(t, `patients=${a.patientId},${c.patientId}`, as['dr.in']!.browser.cookie);
    expect((await live.opened).status).toBe(101);
    expect((await live.next((m) => m.type === 'hello')).withheld).toEqual([c.patientId]);
    const cClient = await c.connect();
    expect(
      await publish(cClient, topicOf(c.id), c.sign(1, { vitals: [{ code: 'heart-rate', value: 88 }] })),
    ).toBe(0);
    cClient.end(true);
    await live.next((m) => m.type === 'device' && m.deviceId === c.id && m.status === 'online');
    // A later reading of the other patient arrives after anything the first could have caused.
    // (Diastolic pressure: no NEWS2 parameter, so the later NEWS2 checks stay as they are.)
    await send(2, { vitals: [{ code: 'bp-diastolic', value: 70 }] });
    await live.next((m) => m.type === 'vitals' && m.patientId === a.patientId);
    // Its device's status at connect (never) and when it sent (online); nothing measured.
    expect(live.messages.filter((m) => m.patientId === c.patientId).map((m) => m.status ?? m.type)).toEqual([
      'never',
      'online',
    ]);
    live.ws.close();
  });

  it('refuses a live stream before the upgrade: 401 anonymous, 403 outside care, 400 bad parameters', async () => {
    expect((await openLive(t, `patients=${a.patientId}`).opened).status).toBe(401);
    const outside = await openLive(t, `patients=${a.patientId}`, as['dr.out']!.browser.cookie).opened;
    expect(outside.status).toBe(403);
    expect(outside.body.detail).toBe('the patient is not in any of your care teams');
    const mixed = await openLive(t, `patients=${a.patientId},${b.patientId}`, as['dr.in']!.browser.cookie)
      .opened;
    expect(mixed.status).toBe(403);
    const bad = await openLive(
      t,
      `patients=${a.patientId}&waveforms=${b.patientId}`,
      as['dr.in']!.browser.cookie,
    ).opened;
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('/waveforms');
  });

  it('gives trends per bucket with the right count, average, minimum and maximum', async () => {
    await send(3, { vitals: [{ code: 'heart-rate', value: 80, at: iso(40) }] });
    await send(4, { vitals: [{ code: 'heart-rate', value: 100, at: iso(70) }] });
    const q = `codes=heart-rate,spo2&from=${iso(0)}&to=${iso(120)}&bucket=60`;
    const res = await as['dr.in']!.browser.get(`/api/v1/patients/${a.patientId}/trends?${q}`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      patientId: a.patientId,
      from: iso(0),
      to: iso(120),
      bucketSeconds: 60,
      series: {
        'heart-rate': [
          { t: iso(0), n: 2, avg: 70, min: 60, max: 80 },
          { t: iso(60), n: 1, avg: 100, min: 100, max: 100 },
        ],
        spo2: [{ t: iso(0), n: 1, avg: 96, min: 96, max: 96 }],
      },
    });
    const day = await as['dr.in']!.browser.get(`/api/v1/patients/${a.patientId}/trends?codes=news2`);
    expect(day.json.bucketSeconds).toBe(300);
    // NEWS2 was 5, then 6 when the pulse of 100 came (each change is a trend point).
    const news2 = day.json.series.news2 as any[];
    expect(news2.reduce((n, p) => n + p.n, 0)).toBe(2);
    expect(Math.min(...news2.map((p) => p.min))).toBe(5);
    expect(Math.max(...news2.map((p) => p.max))).toBe(6);
    const audit = await t.api('GET', `/api/v1/admin/audit?patient=${a.patientId}&action=read`);
    expect(audit.body.items.some((r: any) => r.detail?.query === 'trends')).toBe(true);
  });

  it('refuses bad trend parameters naming the field, strangers with 403 and anonymous with 401', async () => {
    const get = (q: string, who = 'dr.in') =>
      as[who]!.browser.get(`/api/v1/patients/${a.patientId}/trends?${q}`);
    for (const [q, field] of [
      ['codes=heart-rate,nonsense', '/codes'],
      ['from=yesterday', '/from'],
      ['to=2026-13-01T00:00:00Z', '/to'],
      ['bucket=7', '/bucket'],
      [`from=${iso(-40 * 86_400)}`, '/from'],
    ]) {
      const res = await get(q as string);
      expect(res.status).toBe(400);
      expect(res.json.field).toBe(field);
    }
    expect((await get('', 'dr.out')).status).toBe(403);
    expect((await fetch(`${t.platform.httpUrl}/api/v1/patients/${a.patientId}/trends`)).status).toBe(401);
  });

  it('lists the care team patients in the census with NEWS2, vitals, alarms and device status', async () => {
    const res = await as['dr.in']!.browser.get('/api/v1/census');
    expect(res.status).toBe(200);
    expect(Date.parse(res.json.generatedAt)).toBeGreaterThan(0);
    expect(res.json.items).toHaveLength(1);
    const row = res.json.items[0];
    expect(row).toMatchObject({
      patientId: a.patientId,
      displayName: 'Ada Lovelace',
      news2: { total: 6, band: 'medium', complete: true, missing: [] },
    });
    expect(row.news2.at).toBe(iso(70));
    expect(row.vitals['heart-rate']).toEqual({ value: 100, unit: '/min', at: iso(70) });
    expect(row.vitals.spo2).toEqual({ value: 96, unit: '%', at: iso(10) });
    expect(row.vitals.consciousness).toBeUndefined();
    // NEWS2 5-6 is a medium alarm.
    expect(row.alarms.medium).toBeGreaterThanOrEqual(1);
    expect(row.alarms.total).toBe(row.alarms.high + row.alarms.medium + row.alarms.low);
    const devices = Object.fromEntries(row.devices.map((d: any) => [d.id, d]));
    expect(devices[a.id]).toMatchObject({ kind: 'ecg-patch', expectedIntervalS: 1 });
    // It sent moments ago and is expected every second: online or already stale, depending on timing.
    expect(['online', 'stale']).toContain(devices[a.id].status);
    expect(Date.parse(devices[a.id].lastSeenAt)).toBeGreaterThan(minute);
    expect(devices[a2.id]).toEqual({
      id: a2.id,
      kind: 'pulse-oximeter',
      expectedIntervalS: 60,
      status: 'never',
    });
    // One audit record for the census, naming no patient.
    const audit = await t.api('GET', `/api/v1/admin/audit?actor=${as['dr.in']!.id}&action=search`);
    const census = audit.body.items.filter((r: any) => r.detail?.query === 'census');
    expect(census).toHaveLength(1);
    expect(census[0].patientId).toBeUndefined();
    expect(census[0].detail.count).toBe(1);
  });

  it('shows nobody to a clinician outside the care team, everyone to a service, and refuses anonymous', async () => {
    const outside = await as['dr.out']!.browser.get('/api/v1/census');
    expect(outside.status).toBe(200);
    expect(outside.json.items).toEqual([]);
    const service = await t.api('GET', '/api/v1/census');
    // A service is bound by its scopes, not by consent (the access policy).
    expect(service.body.items.map((r: any) => r.patientId).sort()).toEqual(
      [a.patientId, b.patientId, c.patientId].sort(),
    );
    // Most urgent first: the patient with an open alarm.
    expect(service.body.items[0].patientId).toBe(a.patientId);
    expect((await fetch(`${t.platform.httpUrl}/api/v1/census`)).status).toBe(401);
  });
});
