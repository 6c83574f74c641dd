import { readingsTopic, signCompactJws } from '@openiomt/core';
import { describe, expect, it } from 'vitest';
import { newKey, proof } from './harness.ts';
import { api, processTargets, startPlatformProcess } from './process.ts';
import { connectProcessDevice } from './process-devices.ts';

describe.each(processTargets())('kill -9 during a sustained stream ($name)', (target) => {
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
      const acked = new Set<number>();
      const client = await connectProcessDevice(p.mqttUrl, { id: 'crash-dev', key });
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
      // Kill in the middle: once a good number are acknowledged (sooner or later, however busy the machine).
      for (let i = 0; i < 200 && acked.size <= 50; i++) await new Promise((r) => setTimeout(r, 100));
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
