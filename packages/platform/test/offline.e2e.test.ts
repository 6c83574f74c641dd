import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceClient } from '@openiomt/device-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backends,
  newKey,
  proof,
  provisionDevice,
  sdkKey,
  startTestPlatform,
  type TestPlatform,
} from './harness.ts';
import { FlakyLink } from './link.ts';

const HOUR_S = 3600;

describe.each(backends)('store-and-forward through an outage ($name)', (backend) => {
  let t: TestPlatform;
  let dir: string;
  beforeAll(async () => {
    t = await startTestPlatform(backend);
    dir = await mkdtemp(join(tmpdir(), 'openiomt-offline-'));
  });
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers an hour of readings made offline, in order, once, across a second cut mid-flush', async () => {
    const id = 'offline-dev';
    const d = await provisionDevice(
      t,
      id,
      new Date(Date.now() - 2 * HOUR_S * 1000).toISOString(),
      'wearable',
    );

    const stored: number[] = [];
    t.platform.bus.subscribe('reading.stored', (e) => {
      if (e.deviceId === id) stored.push(e.seq);
    });
    const mqttUrl = new URL(t.platform.mqttUrl);
    const link = new FlakyLink({ host: mqttUrl.hostname, port: Number(mqttUrl.port) });
    const url = await link.open();
    link.cut(); // the device starts out of reach
    // A simulated hour: one reading per second of device time, ending now.
    let deviceTime = Date.now() - HOUR_S * 1000;
    const device = await DeviceClient.open({
      deviceId: id,
      key: sdkKey(d),
      dataDir: join(dir, id),
      clock: () => deviceTime,
      transport: { kind: 'mqtt', url, protocolVersion: 5, reconnect: { minMs: 50, maxMs: 200 } },
    });
    for (let s = 0; s < HOUR_S; s++) {
      await device.send({
        vitals: [
          { code: 'heart-rate', value: 60 + (s % 50) },
          { code: 'steps', value: s },
        ],
      });
      deviceTime += 1000;
    }
    expect(stored).toHaveLength(0);
    link.restore();
    // Cut the link again while the backlog drains: resends must carry DUP and store nothing twice.
    while (stored.length < 1000) await new Promise((r) => setTimeout(r, 20));
    link.cut();
    await new Promise((r) => setTimeout(r, 300));
    link.restore();
    await device.flushed();
    await device.close();
    await link.close();

    expect(stored).toHaveLength(HOUR_S);
    expect(stored).toEqual(Array.from({ length: HOUR_S }, (_, i) => i + 1));
    const dev = await t.api('GET', `/api/v1/admin/devices/${id}`);
    expect(dev.body.highSeq).toBe(HOUR_S);
    const letters = await t.api('GET', `/api/v1/admin/dead-letters?device=${id}`);
    expect(letters.body.items).toHaveLength(0);
  });

  it('delivers over HTTPS batches with the SDK, authenticated by device tokens', async () => {
    const id = 'https-sdk-dev';
    const d = await provisionDevice(t, id, new Date(Date.now() - 60_000).toISOString(), 'bp-cuff');
    const device = await DeviceClient.open({
      deviceId: id,
      key: sdkKey(d),
      dataDir: join(dir, id),
      transport: { kind: 'http', baseUrl: t.platform.httpUrl },
    });
    for (let i = 0; i < 120; i++)
      await device.send({
        vitals: [
          { code: 'bp-systolic', value: 110 + (i % 30) },
          { code: 'bp-diastolic', value: 70 },
        ],
      });
    await device.flushed();
    await device.close();
    const dev = await t.api('GET', `/api/v1/admin/devices/${id}`);
    expect(dev.body.highSeq).toBe(120);
    const panels = await t.api('GET', `/fhir/R4/Observation?patient=${d.patientId}&_count=1000`);
    expect(panels.body.entry).toHaveLength(120);
    expect((await t.api('GET', `/api/v1/admin/dead-letters?device=${id}`)).body.items).toHaveLength(0);
  });

  it('keeps readings while its device token is refused (HTTPS 401) and delivers them once enrolled', async () => {
    const id = 'late-enrol-dev';
    const patient = await t.api('POST', '/api/v1/admin/patients', {});
    const reg = await t.api('POST', '/api/v1/admin/devices', { id, kind: 'thermometer' });
    await t.api('POST', `/api/v1/admin/devices/${id}/assignments`, {
      patientId: patient.body.id,
      from: new Date(Date.now() - 60_000).toISOString(),
    });
    const key = newKey();
    const errors: string[] = [];
    const device = await DeviceClient.open({
      deviceId: id,
      key: sdkKey(key),
      dataDir: join(dir, id),
      transport: {
        kind: 'http',
        baseUrl: t.platform.httpUrl,
        retry: { minMs: 50, maxMs: 200 },
        onError: (e) => errors.push(e.message),
      },
    });
    for (let i = 0; i < 20; i++)
      await device.send({ vitals: [{ code: 'body-temperature', value: 36.5 + i / 20 }] });
    while (errors.length < 2) await new Promise((r) => setTimeout(r, 20));
    expect((await t.api('GET', `/api/v1/admin/devices/${id}`)).body.highSeq).toBe(0);
    // Not yet enrolled: the platform refused the token, not the readings, so they wait in the outbox.
    const enrol = await t.api('POST', `/api/v1/devices/${id}/enrol`, {
      jwk: key.jwk,
      proof: proof(key, { device: id, enrolmentCode: reg.body.enrolmentCode }),
    });
    expect(enrol.status).toBe(201);
    await device.flushed();
    await device.close();
    expect((await t.api('GET', `/api/v1/admin/devices/${id}`)).body.highSeq).toBe(20);
  });
});
