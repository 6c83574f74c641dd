import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { startPlatform } from '../src/platform.ts';
import { DEMO_PATIENTS, startDemo } from '../src/simulate/demo.ts';
import { FIXTURE_RECORDINGS_DIR } from '../src/simulate/recordings.ts';
import { runWard, type WardProgress, type WardResult } from '../src/simulate/ward.ts';
import { backends, startTestPlatform, type TestPlatform } from './harness.ts';

/** The parts of a FHIR Observation these tests read. */
interface Obs {
  effectiveDateTime?: string;
  valueQuantity?: { value: number; unit: string; code: string };
  valueSampledData: {
    period: number;
    factor: number;
    dimensions: number;
    origin: { value: number };
    data: string;
  };
}

const PLATFORM_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = 4;

describe.each(backends)('ward simulator end to end ($name)', (backend) => {
  let t: TestPlatform;
  let result: WardResult;
  const progress: WardProgress[] = [];

  beforeAll(async () => {
    t = await startTestPlatform(backend);
    result = await runWard({
      httpUrl: t.platform.httpUrl,
      mqttUrl: t.platform.mqttUrl,
      adminToken: t.adminToken,
      patients: 2,
      durationS: SECONDS,
      dataDir: FIXTURE_RECORDINGS_DIR,
      vitalsEveryS: 2,
      idPrefix: 'ward-test',
      onProgress: (p) => progress.push(p),
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const search = async (patientId: string, code: string): Promise<Obs[]> => {
    const r = await t.api('GET', `/fhir/R4/Observation?patient=${patientId}&code=${code}&_count=1000`);
    expect(r.status).toBe(200);
    return ((r.body.entry ?? []) as { resource: Obs }[]).map((e) => e.resource);
  };

  it('sends one message per device per second and every one is acknowledged', () => {
    expect(result.patientIds).toEqual(['ward-test-patient-1', 'ward-test-patient-2']);
    expect(result.elapsedS).toBe(SECONDS);
    expect(result.sent).toBe(2 * SECONDS);
    expect(result.acknowledged).toBe(2 * SECONDS);
    expect(result.rejected).toBe(0);
    expect(result.devices.map((d) => [d.recording, d.sent, d.acknowledged])).toEqual([
      ['mitdb-101', SECONDS, SECONDS],
      ['mitdb-106', SECONDS, SECONDS],
    ]);
    expect(progress.map((p) => p.elapsedS).slice(0, SECONDS)).toEqual([1, 2, 3, 4]);
    expect(progress.at(-1)).toMatchObject({ sent: 2 * SECONDS, acknowledged: 2 * SECONDS, rejected: 0 });
  });

  it('stores each second of ECG as SampledData at the recording rate (360 Hz)', async () => {
    for (const patientId of result.patientIds) {
      const ecg = await search(patientId, 'ecg-mlii');
      expect(ecg).toHaveLength(SECONDS);
      for (const o of ecg) {
        const sd = o.valueSampledData;
        expect(sd.period).toBeCloseTo(1000 / 360, 9);
        expect(sd.dimensions).toBe(1);
        expect(sd.data.split(' ')).toHaveLength(360);
        // mitdb: gain 200 adu/mV, baseline 1024, so physical = -5.12 + 0.005 * sample.
        expect(sd.factor).toBeCloseTo(0.005, 12);
        expect(sd.origin.value).toBeCloseTo(-5.12, 9);
      }
      const starts = ecg.map((o) => Date.parse(o.effectiveDateTime ?? '')).sort((a, b) => a - b);
      expect(starts.slice(1).map((s, i) => s - starts[i]!)).toEqual([1000, 1000, 1000]);
    }
  });

  it('sends PPG and respiration when the recording has them, and vitals as they fall due', async () => {
    const [withPpg, ecgOnly] = result.patientIds as [string, string];
    for (const code of ['ppg', 'respiration']) {
      const chunks = await search(withPpg, code);
      expect(chunks).toHaveLength(SECONDS);
      for (const o of chunks) {
        expect(o.valueSampledData.period).toBeCloseTo(4, 9);
        expect(o.valueSampledData.data.split(' ')).toHaveLength(250);
      }
      expect(await search(ecgOnly, code)).toHaveLength(0);
    }
    // Vitals every 2 s for 4 s: numerics rows at seconds 0 and 2; every row has a respiratory rate.
    for (const patientId of result.patientIds) {
      const rr = await search(patientId, 'respiratory-rate');
      expect(rr).toHaveLength(SECONDS / 2);
      for (const o of rr) expect(o.valueQuantity).toMatchObject({ unit: expect.any(String), code: '/min' });
    }
  });

  it('leaves no dead letters and no security events for the simulated devices', async () => {
    const letters = await t.api('GET', '/api/v1/admin/dead-letters?limit=1000');
    expect(letters.body.items).toEqual([]);
    for (const id of result.deviceIds) {
      const events = await t.api('GET', `/api/v1/admin/security-events?device=${id}`);
      const items = events.body.items as { kind: string }[];
      expect(items.filter((e) => e.kind !== 'key-enrolled')).toEqual([]);
    }
  });

  it('takes over an existing ward on restart: re-enrols the devices and continues their sequence numbers', async () => {
    const again = await runWard({
      httpUrl: t.platform.httpUrl,
      mqttUrl: t.platform.mqttUrl,
      adminToken: t.adminToken,
      patients: 2,
      durationS: 1,
      dataDir: FIXTURE_RECORDINGS_DIR,
      idPrefix: 'ward-test',
      reuse: true,
    });
    expect(again).toMatchObject({ sent: 2, acknowledged: 2, rejected: 0 });
    const device = await t.api('GET', '/api/v1/admin/devices/ward-test-monitor-1');
    expect(device.body.highSeq).toBe(SECONDS + 1);
    expect(device.body.assignments).toHaveLength(1);
    expect(await search('ward-test-patient-1', 'ecg-mlii')).toHaveLength(SECONDS + 1);
  });
});

describe('demo mode', () => {
  let dataDir: string;
  const previousData = process.env.OPENIOMT_SHARED_DATA;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'openiomt-demo-test-'));
    process.env.OPENIOMT_SHARED_DATA = FIXTURE_RECORDINGS_DIR;
  });
  afterAll(async () => {
    if (previousData === undefined) delete process.env.OPENIOMT_SHARED_DATA;
    else process.env.OPENIOMT_SHARED_DATA = previousData;
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Starts the platform on dataDir, runs the demo for a moment, stops both; returns what the store holds. */
  async function demoSession() {
    const config = loadConfig({ flags: { httpPort: 0, mqttPort: 0, logLevel: 'silent', dataDir }, env: {} });
    const platform = await startPlatform(config, { logger: createLogger('silent') });
    try {
      const demo = await startDemo(platform);
      await new Promise((r) => setTimeout(r, 1500));
      await demo.stop();
      const devices = await Promise.all(
        Array.from({ length: DEMO_PATIENTS }, (_, i) => platform.store.devices.get(`demo-monitor-${i + 1}`)),
      );
      return {
        devices,
        patients: (await platform.store.patients.list({ limit: 100 })).items.map((p) => p.id).sort(),
        deadLetters: (await platform.store.deadLetters.list({ limit: 100 })).items,
        readings: await platform.store.readings.count(),
      };
    } finally {
      await platform.close();
    }
  }

  it('streams 4 patients, and on a restart with the same data folder takes them over instead of failing', async () => {
    const first = await demoSession();
    expect(first.patients).toEqual(['demo-patient-1', 'demo-patient-2', 'demo-patient-3', 'demo-patient-4']);
    expect(first.devices.every((d) => d?.status === 'active' && d.highSeq >= 1)).toBe(true);
    const second = await demoSession();
    expect(second.patients).toEqual(first.patients);
    for (const [i, d] of second.devices.entries())
      expect(d!.highSeq).toBeGreaterThan(first.devices[i]!.highSeq);
    expect(second.readings).toBeGreaterThan(first.readings);
    expect([...first.deadLetters, ...second.deadLetters]).toEqual([]);
  });
});

describe('openiomt simulate (CLI)', () => {
  it('documents --patients and --duration', async () => {
    const { stdout } = await promisify(execFile)('node', [
      resolve(PLATFORM_DIR, 'bin/openiomt.js'),
      'simulate',
      '--help',
    ]);
    expect(stdout).toContain('--patients');
    expect(stdout).toContain('--duration');
    expect(stdout).toContain('--mqtt-url');
  });

  it('says at once what is wrong with --url or an MQTT address where nothing listens, before provisioning anything', async () => {
    const run = (args: string[]) =>
      promisify(execFile)('node', [resolve(PLATFORM_DIR, 'bin/openiomt.js'), 'simulate', ...args], {
        env: { ...process.env, OPENIOMT_ADMIN_TOKEN: 'oiat_unused' },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (e) => ({ code: e.code as number, stderr: e.stderr as string }),
      );
    const url = await run(['--url', '127.0.0.1:8080']);
    expect(url).toEqual({
      code: 2,
      stderr: expect.stringMatching(/--url "127.0.0.1:8080" is not an http\(s\) URL/),
    });
    const started = Date.now();
    const broker = await run([
      '--url',
      'http://127.0.0.1:1',
      '--mqtt-url',
      'mqtt://127.0.0.1:1',
      '--duration',
      '60',
    ]);
    expect(broker.code).toBe(2);
    expect(broker.stderr).toMatch(/nothing answers at the MQTT broker address mqtt:\/\/127.0.0.1:1/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
