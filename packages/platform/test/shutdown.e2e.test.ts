/**
 * Stopping the platform tells the dashboards why: every open alarm stream and live stream is closed with
 * 1001 (going away), so a client knows to reconnect to the next platform rather than treat it as an error.
 */
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { backends, startTestPlatform, type TestPlatform } from './harness.ts';

/** Opens a WebSocket with the administrator token; resolves with it once open, and its close code later. */
async function connect(url: string, token: string) {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`${url}: HTTP ${res.statusCode}`)));
  });
  return { ws, closed };
}

describe.each(backends.slice(0, 1))('stopping the platform ($name)', (backend) => {
  let t: TestPlatform | undefined;
  afterAll(async () => {
    await t?.close();
  });

  it('closes the alarm and live streams with 1001 "server shutting down"', async () => {
    t = await startTestPlatform(backend);
    const patient = await t.api('POST', '/api/v1/admin/patients', { displayName: 'Grace Hopper' });
    expect(patient.status).toBe(201);
    const ws = t.platform.httpUrl.replace('http', 'ws');
    const alarm = await connect(`${ws}/api/v1/alarms/stream`, t.adminToken);
    const live = await connect(`${ws}/api/v1/live?patients=${patient.body.id}`, t.adminToken);
    const stopping = t.close();
    t = undefined;
    const expected = { code: 1001, reason: 'server shutting down' };
    expect(await alarm.closed).toEqual(expected);
    expect(await live.closed).toEqual(expected);
    await stopping;
  });
});
