/**
 * Measures readings.commit (not a test): readings of five Observations each, in batches, on PGlite in a
 * temporary data folder and, when OPENIOMT_TEST_POSTGRES_URL is set, on PostgreSQL. Only the commit calls
 * are timed; making the readings (signing, mapping) is not. Besides wall time it prints CPU time per reading
 * (this process, plus the PostgreSQL backends when the server is local), which stays comparable when the
 * machine is busy with other work, how that cost moves as the tables grow (by fifths of the run), and the
 * write-ahead log written per reading (what a disk and a replica have to take).
 *
 * Each id scheme runs on a fresh store, so the time-ordered Observation ids the platform makes now are
 * compared with the hashed ones it made before stop 15 in the same run.
 *
 *   npm run bench:commit -- [--readings 20000] [--batch 200] [--schemes time-ordered,hashed] [--out F]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { ObservationIdScheme } from '@openiomt/core';
import { sampleKey, sampleReading } from '../src/store/sample-readings.ts';
import type { ReadingToStore, Store } from '../src/store/types.ts';
import { machineInfo, wholeNumber, writeJson } from './report.ts';
import { onEachStore } from './stores.ts';

const USAGE = `npm run bench:commit -- [options]
  --readings N     readings committed per store and scheme (default 20000; 1000000 shows growth)
  --batch N        readings per commit (default 200)
  --schemes LIST   time-ordered,hashed (default both): how Observation ids are made
  --out FILE       JSON result (default .bench/bench-commit.json)
  --help           this text`;

const { values: args } = parseArgs({
  options: {
    readings: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '200' },
    schemes: { type: 'string', default: 'time-ordered,hashed' },
    out: { type: 'string', default: '.bench/bench-commit.json' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const TOTAL = wholeNumber('readings', args.readings, 5);
const BATCH = wholeNumber('batch', args.batch, 1);
const SCHEMES = args.schemes.split(',').map((s) => {
  if (s !== 'time-ordered' && s !== 'hashed') throw new Error(`--schemes: time-ordered or hashed, got ${s}`);
  return s as ObservationIdScheme;
});
const DEVICES = 50;
const FIFTHS = 5;

async function prepare(store: Store): Promise<{ deviceIds: string[]; patientId: string }> {
  const patient = await store.patients.create({});
  const deviceIds: string[] = [];
  for (let d = 0; d < DEVICES; d++) {
    const { device } = await store.devices.register({ id: `bench-${d}`, kind: 'ecg-patch' });
    await store.assignments.assign({ deviceId: device.id, patientId: patient.id });
    deviceIds.push(device.id);
  }
  return { deviceIds, patientId: patient.id };
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

/** The database's write-ahead log position, in bytes. */
async function walBytes(store: Store): Promise<number> {
  const { rows } = await store.db.query<{ at: string }>(
    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS at",
  );
  return Number(rows[0]!.at);
}

/** One stretch of the run: readings committed in it, and what they cost. */
interface Stretch {
  readings: number;
  wallMs: number;
  clientCpuMs: number;
  serverCpuMs: number;
  walBytes: number;
}

const perReading = (s: Stretch) => ({
  readingsPerSecond: Math.round((s.readings / s.wallMs) * 1000),
  cpuMsPerReading: (s.clientCpuMs + s.serverCpuMs) / s.readings,
  clientCpuMsPerReading: s.clientCpuMs / s.readings,
  serverCpuMsPerReading: s.serverCpuMs / s.readings,
  walBytesPerReading: Math.round(s.walBytes / s.readings),
});

async function run(backend: string, scheme: ObservationIdScheme, store: Store) {
  const { deviceIds, patientId } = await prepare(store);
  const key = sampleKey();
  const seqs = new Map<string, number>();
  const fifths: Stretch[] = Array.from({ length: FIFTHS }, () => ({
    readings: 0,
    wallMs: 0,
    clientCpuMs: 0,
    serverCpuMs: 0,
    walBytes: 0,
  }));
  let committed = 0;
  let fifth = -1;
  let walAt = 0;
  while (committed < TOTAL) {
    const batch: ReadingToStore[] = [];
    for (let i = 0; i < BATCH && committed + i < TOTAL; i++) {
      const deviceId = deviceIds[(committed + i) % DEVICES]!;
      const seq = (seqs.get(deviceId) ?? 0) + 1;
      seqs.set(deviceId, seq);
      batch.push(
        sampleReading({ deviceId, patientId, seq, key, battery: 80, firmware: '1.2.3', idScheme: scheme }),
      );
    }
    const f = Math.min(FIFTHS - 1, Math.floor((committed * FIFTHS) / TOTAL));
    if (f !== fifth) {
      // The log written during a fifth is read at its ends only: a query per batch would add to it.
      const now = await walBytes(store);
      if (fifth >= 0) fifths[fifth]!.walBytes = now - walAt;
      [fifth, walAt] = [f, now];
    }
    const stretch = fifths[f]!;
    const s0 = await serverCpuMs(store);
    const t0 = performance.now();
    const c0 = ownCpuMs();
    const outcomes = await store.readings.commit(batch);
    stretch.clientCpuMs += ownCpuMs() - c0;
    stretch.wallMs += performance.now() - t0;
    stretch.serverCpuMs += (await serverCpuMs(store)) - s0;
    stretch.readings += batch.length;
    if (outcomes.some((o) => !o.stored)) throw new Error('a fresh reading was not stored');
    committed += batch.length;
  }
  fifths[fifth]!.walBytes = (await walBytes(store)) - walAt;
  const stored = await store.readings.count();
  if (stored !== TOTAL) throw new Error(`stored ${stored} readings, committed ${TOTAL}`);
  const whole = fifths.reduce((a, s) => ({
    readings: a.readings + s.readings,
    wallMs: a.wallMs + s.wallMs,
    clientCpuMs: a.clientCpuMs + s.clientCpuMs,
    serverCpuMs: a.serverCpuMs + s.serverCpuMs,
    walBytes: a.walBytes + s.walBytes,
  }));
  const result = { backend, scheme, ...perReading(whole), byFifth: fifths.map(perReading) };
  const ms = (n: number) => n.toFixed(3);
  console.log(
    `${backend}, ${scheme} ids: ${TOTAL} readings (${TOTAL * 5} Observations) in batches of ${BATCH}: ` +
      `${result.readingsPerSecond} readings/s, CPU ${ms(result.cpuMsPerReading)} ms/reading ` +
      `(${ms(result.clientCpuMsPerReading)} here + ${ms(result.serverCpuMsPerReading)} in the server); ` +
      `by fifth of the run ${result.byFifth.map((f) => ms(f.cpuMsPerReading)).join(' → ')}; ` +
      `WAL ${result.walBytesPerReading} bytes/reading, by fifth ${result.byFifth.map((f) => f.walBytesPerReading).join(' → ')}`,
  );
  return result;
}

const results: Awaited<ReturnType<typeof run>>[] = [];
for (const scheme of SCHEMES) results.push(...(await onEachStore((name, store) => run(name, scheme, store))));
for (const backend of new Set(results.map((r) => r.backend))) {
  const of = (s: ObservationIdScheme) => results.find((r) => r.backend === backend && r.scheme === s);
  const [ordered, hashed] = [of('time-ordered'), of('hashed')];
  if (!ordered || !hashed) continue;
  const last = (r: typeof ordered) => r.byFifth[FIFTHS - 1]!.cpuMsPerReading;
  console.log(
    `${backend}: hashed ids cost ${(hashed.cpuMsPerReading / ordered.cpuMsPerReading).toFixed(2)}x the CPU of ` +
      `time-ordered ones over the run, ${(last(hashed) / last(ordered)).toFixed(2)}x in its last fifth; ` +
      `${(hashed.walBytesPerReading / ordered.walBytesPerReading).toFixed(2)}x the WAL`,
  );
}
await writeJson(args.out, {
  at: new Date().toISOString(),
  machine: machineInfo(),
  readings: TOTAL,
  batch: BATCH,
  results,
});
console.log(`written ${args.out}`);
