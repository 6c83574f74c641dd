import pg from 'pg';
import { sampleKey, sampleReading } from './sample-readings.ts';
import { openPostgresStore } from './testing.ts';
const store = await openPostgresStore('postgres://postgres@127.0.0.1:5432/postgres');
const p = await store.patients.create({});
await store.devices.register({ id: 'd1', kind: 'x' });
const key = sampleKey();
let seq = 0;
for (let round = 0; round < 3; round++) {
  const batch = Array.from({ length: 200 }, () => sampleReading({ deviceId: 'd1', patientId: p.id, seq: ++seq, key }));
  let t = performance.now();
  const params = batch.map(r=>JSON.stringify(r.observations.map(o=>o.resource)));
  const ser = JSON.stringify(batch.flatMap(r=>r.observations.map(o=>JSON.stringify(o.resource))));
  const t1 = performance.now();
  const prepared = (pg as any).utils?.prepareValue ? null : null;
  const arr = batch.flatMap(r=>r.observations.map(o=>JSON.stringify(o.resource)));
  const t2 = performance.now();
  // @ts-ignore
  const { prepareValue } = await import('pg/lib/utils.js');
  prepareValue(arr);
  const t3 = performance.now();
  await store.readings.commit(batch);
  const t4 = performance.now();
  console.log({ stringify: t2 - t1, prepareArr: t3 - t2, commit: t4 - t3, bytes: ser.length });
}
const r = await store.db.query("select pg_size_pretty(pg_total_relation_size('observations')) o, pg_size_pretty(pg_total_relation_size('readings')) r");
console.log(r.rows);
await store.dispose();
