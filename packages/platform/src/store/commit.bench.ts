/**
 * Measures readings.commit throughput (not a test): 20,000 readings of five Observations each, in batches
 * of 200, on PGlite in a temporary data folder and, when OPENIOMT_TEST_POSTGRES_URL is set, on PostgreSQL.
 * Only the commit calls are timed; making the readings (signing, mapping) is not.
 *
 *   npx tsx packages/platform/src/store/commit.bench.ts [readings] [batch]
 */
import { sampleKey, sampleReading } from './sample-readings.ts';
import { openPgliteTempDir, openPostgresStore, POSTGRES_URL_ENV } from './testing.ts';
import type { ReadingToStore, Store } from './types.ts';

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

async function run(name: string, store: Store): Promise<void> {
  const deviceIds = await prepare(store);
  const patientId = (await store.patients.list()).items[0]!.id;
  const key = sampleKey();
  const seqs = new Map<string, number>();
  let committed = 0;
  let elapsedMs = 0;
  let bytes = 0;
  while (committed < TOTAL) {
    const batch: ReadingToStore[] = [];
    for (let i = 0; i < BATCH && committed + i < TOTAL; i++) {
      const deviceId = deviceIds[(committed + i) % DEVICES]!;
      const seq = (seqs.get(deviceId) ?? 0) + 1;
      seqs.set(deviceId, seq);
      batch.push(sampleReading({ deviceId, patientId, seq, key, battery: 80, firmware: '1.2.3' }));
    }
    if (committed === 0) bytes = JSON.stringify(batch[0]).length;
    const t0 = performance.now();
    const outcomes = await store.readings.commit(batch);
    elapsedMs += performance.now() - t0;
    if (outcomes.some((o) => !o.stored)) throw new Error('a fresh reading was not stored');
    committed += batch.length;
  }
  const stored = await store.readings.count();
  const rate = Math.round((committed / elapsedMs) * 1000);
  console.log(
    `${name}: ${committed} readings (${committed * 5} observations, ~${(bytes / 1024).toFixed(1)} KiB each) ` +
      `in batches of ${BATCH}: ${(elapsedMs / 1000).toFixed(2)} s of commit, ${rate} readings/s; stored ${stored}`,
  );
}

const pglite = await openPgliteTempDir();
const pgliteStore = await pglite.open();
try {
  await run('pglite (data dir)', pgliteStore);
} finally {
  await pgliteStore.close();
  await pglite.remove();
}

const url = process.env[POSTGRES_URL_ENV];
if (url) {
  const store = await openPostgresStore(url);
  try {
    await run('postgres', store);
  } finally {
    await store.dispose();
  }
}
