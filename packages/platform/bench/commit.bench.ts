/**
 * Measures readings.commit throughput (not a test): 20,000 readings of five Observations each, in batches
 * of 200, on PGlite in a temporary data folder and, when OPENIOMT_TEST_POSTGRES_URL is set, on PostgreSQL.
 * Only the commit calls are timed; making the readings (signing, mapping) is not. Besides wall time it
 * prints CPU time per reading (this process, plus the PostgreSQL backends when the server is local), which
 * stays comparable when the machine is busy with other work.
 *
 *   npx tsx packages/platform/bench/commit.bench.ts [readings] [batch]
 */
import { readFile } from 'node:fs/promises';
import { sampleKey, sampleReading } from '../src/store/sample-readings.ts';
import type { ReadingToStore, Store } from '../src/store/types.ts';
import { onEachStore } from './stores.ts';

const TOTAL = Number(process.argv[2] ?? 20_000);
const BATCH = Number(process.argv[3] ?? 200);
const DEVICES = 50;

async function prepare(store: Store): Promise<string[]> {
  const patient = await store.patients.create({});
  const ids: string[] = [];
  for (let d = 0; d < DEVICES; d++) {
    const { device } = await store.devices.register({ id: `bench-${d}`, kind: 'ecg-patch' });
    await store.assignments.assign({ deviceId: device.id, patientId: patient.id });
    ids.push(device.id);
  }
  return ids;
}

/** CPU milliseconds used so far by the server processes serving this database (Linux, local server). */
async function serverCpuMs(store: Store): Promise<number> {
  if (store.db.kind !== 'postgres') return 0;
  const { rows } = await store.db.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  let ticks = 0;
  for (const { pid } of rows) {
    try {
      const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // The server is not on this machine or the backend has gone; report what can be seen.
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

const ownCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function run(name: string, store: Store): Promise<void> {
  const deviceIds = await prepare(store);
  const patientId = (await store.patients.list()).items[0]!.id;
  const key = sampleKey();
  const seqs = new Map<string, number>();
  let committed = 0;
  let elapsedMs = 0;
  let bytes = 0;
  let clientCpu = 0;
  const serverCpu0 = await serverCpuMs(store);
  while (committed < TOTAL) {
    const batch: ReadingToStore[] = [];
    for (let i = 0; i < BATCH && committed + i < TOTAL; i++) {
      const deviceId = deviceIds[(committed + i) % DEVICES]!;
      const seq = (seqs.get(deviceId) ?? 0) + 1;
      seqs.set(deviceId, seq);
      batch.push(sampleReading({ deviceId, patientId, seq, key, battery: 80, firmware: '1.2.3' }));
    }
    // What the store is handed per reading (the sample also carries its FHIR view, which is not stored).
    if (committed === 0) bytes = JSON.stringify({ ...batch[0], fhir: undefined }).length;
    const t0 = performance.now();
    const c0 = ownCpuMs();
    const outcomes = await store.readings.commit(batch);
    clientCpu += ownCpuMs() - c0;
    elapsedMs += performance.now() - t0;
    if (outcomes.some((o) => !o.stored)) throw new Error('a fresh reading was not stored');
    committed += batch.length;
  }
  const serverCpu = (await serverCpuMs(store)) - serverCpu0;
  const stored = await store.readings.count();
  const rate = Math.round((committed / elapsedMs) * 1000);
  console.log(
    `${name}: ${committed} readings (${committed * 5} observations, ~${(bytes / 1024).toFixed(1)} KiB each) ` +
      `in batches of ${BATCH}: ${(elapsedMs / 1000).toFixed(2)} s of commit, ${rate} readings/s; ` +
      `CPU per reading ${(clientCpu / committed).toFixed(3)} ms here + ${(serverCpu / committed).toFixed(3)} ms ` +
      `in the server; stored ${stored}`,
  );
}

await onEachStore(run);
