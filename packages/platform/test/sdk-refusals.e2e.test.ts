/**
 * The SDK against a real platform that refuses messages it cannot read: an oversize message comes back
 * over HTTPS without seq (its signature is never checked), and over MQTT a packet above the broker's
 * Maximum Packet Size would make it drop the connection. Either way the message is reported to onRejected
 * and removed, and the readings behind it are delivered.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceClient, type DeviceTransportOptions } from '@openiomt/device-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, provisionDevice, sdkKey, startTestPlatform, type TestPlatform } from './harness.ts';

const MAX_MESSAGE_BYTES = 4096; // the broker's maximum packet size is this plus 1 KiB of framing

const small = (i: number) => ({ vitals: [{ code: 'heart-rate' as const, value: 60 + i }] });
/** A signed reading of about 9 KB: above both the message limit and the broker's packet limit. */
const big = () => ({
  waveforms: [
    {
      code: 'ecg-ii' as const,
      rate: 250,
      start: new Date().toISOString(),
      factor: 0.005,
      origin: 0,
      data: Array.from({ length: 1500 }, (_, i) => 1000 + (i % 97)),
    },
  ],
});

describe.each(backends)('SDK and refused messages ($name)', (backend) => {
  let t: TestPlatform;
  let dir: string;
  beforeAll(async () => {
    t = await startTestPlatform(backend, { maxMessageBytes: MAX_MESSAGE_BYTES });
    dir = await mkdtemp(join(tmpdir(), 'openiomt-sdk-refusals-'));
  });
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  type Rejected = (seq: number | undefined, reason: string) => void;

  /** Sends small, big, small; returns what was reported to onRejected once everything is acknowledged. */
  async function run(id: string, transport: (onRejected: Rejected) => DeviceTransportOptions) {
    const d = await provisionDevice(t, id, new Date(Date.now() - 60_000).toISOString());
    const rejected: [number | undefined, string][] = [];
    const device = await DeviceClient.open({
      deviceId: id,
      key: sdkKey(d),
      dataDir: join(dir, id),
      transport: transport((seq, reason) => rejected.push([seq, reason])),
    });
    await device.send(small(1));
    await device.send(big());
    await device.send(small(3));
    await device.flushed(); // never resolved before: the big one was retried forever
    await device.close();
    const stored = await t.api('GET', `/api/v1/admin/devices/${id}`);
    expect(stored.body.highSeq).toBe(3);
    const panels = await t.api('GET', `/fhir/R4/Observation?patient=${d.patientId}&_count=100`);
    expect(panels.body.entry).toHaveLength(2);
    return rejected;
  }

  it('HTTPS: an oversize message has no seq in its result; it is reported and the rest delivered', async () => {
    const rejected = await run('refusals-https', (onRejected) => ({
      kind: 'http',
      baseUrl: t.platform.httpUrl,
      retry: { minMs: 20, maxMs: 100 },
      onRejected,
    }));
    expect(rejected).toEqual([[2, expect.stringMatching(/^oversize/)]]);
    // Dead-lettered once, not at every retry.
    const letters = await t.api('GET', '/api/v1/admin/dead-letters?device=refusals-https');
    expect(letters.body.items).toHaveLength(1);
  });

  it('MQTT: a message above the announced maximum packet size is not sent but reported', async () => {
    const rejected = await run('refusals-mqtt', (onRejected) => ({
      kind: 'mqtt',
      url: t.platform.mqttUrl,
      protocolVersion: 5,
      reconnect: { minMs: 20, maxMs: 100 },
      onRejected,
    }));
    expect(rejected).toEqual([
      [2, expect.stringMatching(/^oversize: packet of \d+ bytes exceeds the broker's maximum of 5120/)],
    ]);
    const events = await t.api('GET', '/api/v1/admin/security-events?device=refusals-mqtt');
    expect(JSON.stringify(events.body)).not.toMatch(/protocol-violation/);
  });
});
