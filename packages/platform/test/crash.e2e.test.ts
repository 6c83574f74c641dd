import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceTokenClaims, readingsTopic, signCompactJws } from '@openiomt/core';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, POSTGRES_URL_ENV } from '../src/store/testing.ts';
import { newKey, proof } from './harness.ts';
import { startPlatformProcess } from './process.ts';

type Target = {
  name: string;
  setup(): Promise<{ args: string[]; env: Record<string, string>; cleanup(): Promise<void> }>;
};

const targets: Target[] = [
  {
    name: 'pglite',
    async setup() {
      const dir = await mkdtemp(join(tmpdir(), 'openiomt-crash-'));
      return { args: ['--data-dir', dir], env: {}, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
];
const pgUrl = process.env[POSTGRES_URL_ENV];
if (pgUrl) {
  targets.push({
    name: 'postgres',
    async setup() {
      const db = await createTestDatabase(pgUrl);
      const dir = await mkdtemp(join(tmpdir(), 'openiomt-crash-'));
      return {
        args: ['--data-dir', dir],
        env: { DATABASE_URL: db.url },
        cleanup: async () => {
          await db.drop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  });
}

async function api(base: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe.each(targets)('kill -9 during a sustained stream ($name)', (target) => {
  it('stores every message the broker acknowledged exactly once after restart', async () => {
    const env = await target.setup();
    let p = await startPlatformProcess(env.args, env.env);
    const token = p.adminToken as string;
    try {
      const patient = await api(p.httpUrl, token, 'POST', '/api/v1/admin/patients', {});
      const reg = await api(p.httpUrl, token, 'POST', '/api/v1/admin/devices', {
        id: 'crash-dev',
        kind: 'monitor',
      });
      const key = newKey();
      await api(p.httpUrl, token, 'POST', '/api/v1/devices/crash-dev/enrol', {
        jwk: key.jwk,
        proof: proof(key, { device: 'crash-dev', enrolmentCode: reg.body.enrolmentCode }),
      });
      await api(p.httpUrl, token, 'POST', '/api/v1/admin/devices/crash-dev/assignments', {
        patientId: patient.body.id,
        from: new Date(Date.now() - 60_000).toISOString(),
      });
      const sign = (seq: number) =>
        signCompactJws(
          {
            v: 1,
            device: 'crash-dev',
            seq,
            ts: new Date().toISOString(),
            vitals: [{ code: 'heart-rate', value: 60 + (seq % 40) }],
          },
          key.privateKey,
          key.kid,
        );
      const password = () =>
        signCompactJws(deviceTokenClaims('crash-dev', Date.now()), key.privateKey, key.kid, 'JWT');
      const acked = new Set<number>();
      const client = mqtt.connect(p.mqttUrl, {
        username: 'crash-dev',
        password: password(),
        protocolVersion: 5,
        reconnectPeriod: 0,
      });
      await new Promise((resolve, reject) => {
        client.once('connect', resolve);
        client.once('error', reject);
      });
      client.on('error', () => undefined);
      // A sustained stream with many messages in flight; kill -9 the platform in the middle of it.
      let seq = 0;
      const pump = setInterval(() => {
        for (let i = 0; i < 20; i++) {
          const s = ++seq;
          client.publish(readingsTopic('crash-dev'), sign(s), { qos: 1 }, (err) => {
            if (!err) acked.add(s);
          });
        }
      }, 5);
      await new Promise((r) => setTimeout(r, 1500));
      p.child.kill('SIGKILL');
      await p.exited;
      clearInterval(pump);
      client.end(true);
      expect(acked.size).toBeGreaterThan(50);

      p = await startPlatformProcess(env.args, env.env);
      const device = await api(p.httpUrl, token, 'GET', '/api/v1/admin/devices/crash-dev');
      expect(device.status).toBe(200);
      const highSeq = device.body.highSeq as number;
      expect(highSeq).toBeGreaterThanOrEqual(Math.max(...acked));
      // Every acknowledged message is stored, and stored once (one Observation each).
      const obs = await api(p.httpUrl, token, 'GET', `/fhir/R4/Observation?device=crash-dev&_count=1000`);
      let entries = obs.body.entry as any[];
      let next = obs.body.link.find((l: any) => l.relation === 'next')?.url as string | undefined;
      while (next) {
        const page = await fetch(next, { headers: { authorization: `Bearer ${token}` } }).then(
          (r) => r.json() as Promise<any>,
        );
        entries = entries.concat(page.entry ?? []);
        next = page.link.find((l: any) => l.relation === 'next')?.url;
      }
      const seqs = entries.map((e) => Number((e.resource.identifier[0].value as string).split('/')[1]));
      expect(new Set(seqs).size).toBe(seqs.length);
      for (const s of acked) expect(seqs).toContain(s);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
      await env.cleanup();
    }
  });
});
