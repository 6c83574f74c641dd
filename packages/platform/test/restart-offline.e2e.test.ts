/**
 * A restart is not a device going offline. Two devices report every second or two; the platform stops
 * for longer than twice their intervals and starts again. The device that comes straight back raises no
 * device-offline alarm (the platform's own downtime is not its silence); the one that stays silent is
 * found once the reconnect grace (here 3 s; longer than twice its interval) has passed since the platform
 * listened again, and the alarm says so.
 */
import { readingsTopic, signCompactJws } from '@openiomt/core';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { api, type PlatformProcess, processTargets, startPlatformProcess } from './process.ts';
import { connectProcessDevice, type ProcessDevice, provisionProcessDevice } from './process-devices.ts';

type Device = ProcessDevice;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const provision = (p: PlatformProcess, token: string, id: string, expectedIntervalS: number) =>
  provisionProcessDevice(p, token, id, { expectedIntervalS });
const connect = (p: PlatformProcess, d: Device) => connectProcessDevice(p.mqttUrl, d);

/** A normal temperature every 300 ms until stopped. */
function report(client: MqttClient, d: Device): () => void {
  const send = () => {
    const msg = { v: 1, device: d.id, seq: ++d.seq, ts: new Date().toISOString(), vitals: [] as unknown[] };
    msg.vitals.push({ code: 'body-temperature', value: 37 });
    client.publish(readingsTopic(d.id), signCompactJws(msg, d.key.privateKey, d.key.kid), { qos: 1 });
  };
  send();
  const timer = setInterval(send, 300);
  return () => clearInterval(timer);
}

const offlineAlarms = async (p: PlatformProcess, token: string, d: Device) =>
  (await api(p.httpUrl, token, 'GET', `/api/v1/alarms?patient=${d.patientId}&limit=100`)).body.items.filter(
    (a: any) => a.condition === `technical:device-offline:${d.id}`,
  );

describe.each(processTargets())('a restart of the platform ($name)', (target) => {
  it('raises no device-offline alarm for a device that comes back, and still finds one that does not', async () => {
    const env = await target.setup();
    const args = [...env.args, '--reconnect-grace-s', '3'];
    let p = await startPlatformProcess(args, env.env);
    const token = p.adminToken as string;
    try {
      const back = await provision(p, token, 'restart-back', 2);
      const silent = await provision(p, token, 'restart-silent', 1);
      const clients = await Promise.all([connect(p, back), connect(p, silent)]);
      const stops = [report(clients[0]!, back), report(clients[1]!, silent)];
      await sleep(1500);
      for (const stop of stops) stop();
      for (const c of clients) c.end();
      const lastData = Date.now();
      p.child.kill('SIGTERM');
      await p.exited;
      // Down for longer than twice either interval (a start takes a few seconds more).
      await sleep(4500);
      p = await startPlatformProcess(args, env.env);
      const ready = Date.now();
      expect(ready - lastData).toBeGreaterThan(4 * 1000);
      back.seq += 1000;
      const again = await connect(p, back);
      const stop = report(again, back);

      let alarm: any;
      for (let i = 0; i < 100 && !alarm; i++) {
        [alarm] = await offlineAlarms(p, token, silent);
        if (!alarm) await sleep(100);
      }
      stop();
      again.end();
      expect(alarm).toBeDefined();
      // The 3-s reconnect grace after the platform listened (it listens just before it says it is ready),
      // on the rules' 1-s clock; not at once for the downtime, nor at twice its 1-s interval.
      expect(alarm.raisedAt - ready).toBeGreaterThan(2000);
      expect(alarm.raisedAt - ready).toBeLessThan(3000 + 2500);
      const detail = await api(p.httpUrl, token, 'GET', `/api/v1/alarms/${alarm.id}`);
      expect(detail.body.transitions[0].reason).toMatch(
        /^no data for \d+ s \(expected every 1 s\), [34] s of it since the platform started listening$/,
      );
      expect(await offlineAlarms(p, token, back)).toEqual([]);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
      await env.cleanup();
    }
  }, 120_000);
});
