import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatformChild } from './platform-process.ts';
const dir = await mkdtemp(join(tmpdir(), 'bench-'));
let t0 = performance.now();
const child = await startPlatformChild({ flags: process.argv[2] ? { databaseUrl: process.argv[2] } : { dataDir: dir } });
console.log('start', Math.round(performance.now() - t0));
const h = { authorization: `Bearer ${child.adminToken}`, 'content-type': 'application/json' };
for (const [path, body] of [['/api/v1/admin/patients', {}]] as const) {
  for (let i = 0; i < 5; i++) {
    t0 = performance.now();
    const r = await fetch(child.httpUrl + path, { method: 'POST', headers: h, body: JSON.stringify(body) });
    await r.text();
    console.log(path, r.status, (performance.now() - t0).toFixed(1));
  }
}
for (let i = 0; i < 5; i++) {
  t0 = performance.now();
  const r = await fetch(child.httpUrl + '/api/v1/admin/devices', { method: 'POST', headers: h, body: JSON.stringify({ id: 'x' + i, kind: 'ecg-patch' }) });
  await r.text();
  console.log('dev', r.status, (performance.now() - t0).toFixed(1));
}
for (let i = 0; i < 5; i++) {
  t0 = performance.now();
  const r = await fetch(child.httpUrl + '/api/v1/admin/devices?limit=10', { headers: h });
  await r.text();
  console.log('get', r.status, (performance.now() - t0).toFixed(1));
}
await child.stop();
