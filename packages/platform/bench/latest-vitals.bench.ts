/**
 * How long the rules take to remember a patient after a restart (not a test): `store.vitals.latest`, the
 * newest value of each vital within NEWS2's 12-hour look-back, for a patient with hours of one-per-second
 * readings against one with a single minute of them. It should not grow with the history: the ratio is the
 * figure. Then a ward restarting: `WARD` patients with a minute of readings each, remembered one query per
 * patient (all asked at once, as the rules did) against `latestMany` (how they do now). On PGlite in a
 * temporary folder and, when OPENIOMT_TEST_POSTGRES_URL is set, on PostgreSQL.
 *
 *   npx tsx packages/platform/bench/latest-vitals.bench.ts [hours] [calls] [ward]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { NEWS2_SOURCES } from '@openiomt/core';
import { sampleKey, sampleReading } from '../src/store/sample-readings.ts';
import type { ReadingToStore, Store } from '../src/store/types.ts';
import { onEachStore } from './stores.ts';

const HOURS = Number(process.argv[2] ?? 6);
const CALLS = Number(process.argv[3] ?? 50);
const WARD = Number(process.argv[4] ?? 500);
/** What the rules engine asks for when it loads a patient (rules/engine.ts). */
const CODES = [...new Set(Object.values(NEWS2_SOURCES).flat())];
const BATCH = 500;

/** A patient with one device that sent a reading every second for `seconds`, ending now. */
async function patientWithHistory(store: Store, seconds: number, label: string): Promise<string> {
  const patient = await store.patients.create({});
  const { device } = await store.devices.register({ id: `latest-${label}`, kind: 'ecg-patch' });
  const end = Date.now();
  await store.assignments.assign({
    deviceId: device.id,
    patientId: patient.id,
    from: new Date(end - seconds * 1000 - 60_000).toISOString(),
  });
  const key = sampleKey();
  for (let done = 0; done < seconds; ) {
    const batch: ReadingToStore[] = [];
    for (let i = 0; i < BATCH && done < seconds; i++, done++) {
      const ts = new Date(end - (seconds - done) * 1000).toISOString();
      batch.push(sampleReading({ deviceId: device.id, patientId: patient.id, seq: done + 1, key, ts }));
    }
    await store.readings.commit(batch);
    if (done % 10_000 < BATCH) process.stdout.write(`  ${label}: ${done}/${seconds} readings stored\r`);
  }
  process.stdout.write('\n');
  return patient.id;
}

async function msPerCall(store: Store, patientId: string): Promise<number> {
  const since = new Date(Date.now() - 12 * 3_600_000).toISOString();
  const found = await store.vitals.latest(patientId, CODES, since);
  if (found.length === 0) throw new Error('no latest vitals found: the benchmark data is wrong');
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) await store.vitals.latest(patientId, CODES, since);
  return (performance.now() - t0) / CALLS;
}

/** Milliseconds per patient to remember a whole ward: one query each, all at once, against latestMany. */
async function wardRestart(store: Store, patients: string[]) {
  const since = new Date(Date.now() - 12 * 3_600_000).toISOString();
  const timed = async (f: () => Promise<unknown>) => {
    const t0 = performance.now();
    await f();
    return (performance.now() - t0) / patients.length;
  };
  const eachMs = await timed(() => Promise.all(patients.map((p) => store.vitals.latest(p, CODES, since))));
  const manyMs = await timed(async () => {
    for (let i = 0; i < patients.length; i += BATCH)
      await store.vitals.latestMany(patients.slice(i, i + BATCH), CODES, since);
  });
  return { patients: patients.length, eachMs, manyMs };
}

async function run(name: string, store: Store) {
  const long = await patientWithHistory(store, HOURS * 3600, `${HOURS}h`);
  const short = await patientWithHistory(store, 60, '1min');
  const longMs = await msPerCall(store, long);
  const shortMs = await msPerCall(store, short);
  console.log(
    `${name}: latest vitals of a patient with ${HOURS} h of 1/s readings ${longMs.toFixed(2)} ms, ` +
      `with 1 min ${shortMs.toFixed(2)} ms: ${(longMs / shortMs).toFixed(1)}x`,
  );
  const ward = [short];
  for (let i = 1; i < WARD; i++) ward.push(await patientWithHistory(store, 60, `ward-${i}`));
  const restart = await wardRestart(store, ward);
  console.log(
    `${name}: a ward of ${WARD} remembered one query per patient ${restart.eachMs.toFixed(2)} ms/patient, ` +
      `${BATCH} patients per query ${restart.manyMs.toFixed(2)} ms/patient: ` +
      `${(restart.eachMs / restart.manyMs).toFixed(1)}x`,
  );
  return { backend: name, hours: HOURS, longMs, shortMs, ratio: longMs / shortMs, wardRestart: restart };
}

const results = await onEachStore(run);
await mkdir('.bench', { recursive: true });
await writeFile(
  '.bench/bench-latest-vitals.json',
  `${JSON.stringify({ at: new Date().toISOString(), calls: CALLS, ward: WARD, results }, null, 2)}\n`,
);
console.log('written .bench/bench-latest-vitals.json');
