/**
 * FHIR API benchmark (`npm run bench:api`): Observation search latency and read throughput over HTTP on a
 * store holding N Observations.
 *
 *   npm run bench:api -- [--observations 1000000] [--backend pglite|postgres] [--postgres-url URL]
 *                        [--patients 1000] [--queries 1000] [--clients 16] [--seconds 10] [--out .bench/bench-api.json]
 *
 * Loading: readings of a pulse oximeter (heart rate + SpO2, one a minute per patient, really signed with
 * Ed25519) are written with multi-row INSERTs straight into the tables the store uses (readings and the
 * observations index), then ANALYZE. Default N: 1,000,000 for PGlite, 10,000,000 for PostgreSQL.
 *
 * Measuring: the platform runs in its own process on that store; the administrator token (a service with
 * every scope) asks `Observation?patient=&code=8867-4&date=ge..&date=lt..` (a one-hour window of a random
 * patient: ~60 matches) --queries times one after the other (p50/p95/p99), then --clients clients ask at
 * once for --seconds (requests/s). A `/healthz` round trip measured in the same run is the baseline; the
 * figures are also given as ratios to it. Each phase connects from its own loopback address, so the
 * per-address rate limit (6000/min) does not throttle the benchmark itself.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Ed25519PublicJwk, jwkThumbprint, observationId, signCompactJws } from '@openiomt/core';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { openStore } from '../src/store/store.ts';
import { createTestDatabase } from '../src/store/testing.ts';
import { startPlatformChild } from './platform-process.ts';
import { machineInfo, writeJson } from './report.ts';

const o = new Command()
  .option('--backend <which>', 'pglite or postgres', 'pglite')
  .option('--postgres-url <url>', 'PostgreSQL server (a fresh database is made and dropped)')
  .option('--observations <n>', 'Observations to load (default 1,000,000 PGlite, 10,000,000 PostgreSQL)')
  .option('--patients <n>', 'patients the Observations are spread over', '1000')
  .option('--queries <n>', 'sequential searches measured', '1000')
  .option('--clients <n>', 'concurrent clients for throughput', '16')
  .option('--seconds <s>', 'seconds of concurrent load', '10')
  .option('--out <file>', 'JSON result file', '.bench/bench-api.json')
  .option('--profile', 'record a CPU profile of the platform while it answers (written to .bench/)')
  .parse()
  .opts<{
    backend: string;
    postgresUrl?: string;
    observations?: string;
    patients: string;
    queries: string;
    clients: string;
    seconds: string;
    out: string;
    profile?: boolean;
  }>();
const backend = o.backend === 'postgres' ? 'postgres' : 'pglite';
const postgresUrl = o.postgresUrl ?? process.env.OPENIOMT_TEST_POSTGRES_URL ?? process.env.DATABASE_URL;
if (backend === 'postgres' && !postgresUrl) throw new Error('--backend postgres needs --postgres-url');
const observations = Number(o.observations ?? (backend === 'postgres' ? 10_000_000 : 1_000_000));
const patients = Number(o.patients);
const PER_READING = 2; // heart rate and SpO2
const readingsPerPatient = Math.ceil(observations / PER_READING / patients);
const end = Date.now() - 60_000;
const startAt = end - readingsPerPatient * 60_000;
const log = (s: string) => process.stderr.write(`${s}\n`);

// ---------- load ----------
const dataDir = backend === 'pglite' ? await mkdtemp(join(tmpdir(), 'openiomt-bench-api-')) : undefined;
const database = backend === 'postgres' ? await createTestDatabase(postgresUrl as string) : undefined;
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const jwk = publicKey.export({ format: 'jwk' }) as unknown as Ed25519PublicJwk;
const kid = jwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x } as Ed25519PublicJwk);

const loadStarted = performance.now();
{
  const store = await openStore(
    database ? { url: database.url } : { dataDir: join(dataDir as string, 'pg') },
  );
  const bar = new SingleBar({
    format: 'loading {bar} {percentage}% {value}/{total} observations {eta}s left',
  });
  bar.start(readingsPerPatient * patients * PER_READING, 0);
  const BATCH = 2000;
  let readings: unknown[] = [];
  let index: unknown[] = [];
  const flush = async () => {
    await store.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO readings (device_id, seq, patient_id, kid, ts, received_at, via, jws)
         SELECT device_id, seq, patient_id, kid, ts, ts, 'mqtt', jws FROM json_to_recordset($1::text::json)
           AS t(device_id text, seq bigint, patient_id text, kid text, ts timestamptz, jws text)`,
        [JSON.stringify(readings)],
      );
      await tx.query(
        `INSERT INTO observations (id, device_id, seq, patient_id, code, effective)
         SELECT id, device_id, seq, patient_id, code, effective FROM json_to_recordset($1::text::json)
           AS t(id uuid, device_id text, seq bigint, patient_id text, code text, effective timestamptz)`,
        [JSON.stringify(index)],
      );
    });
    bar.increment(index.length);
    readings = [];
    index = [];
  };
  // Patient by patient, minute by minute: the order a live ward's readings arrive in, per device.
  for (let p = 0; p < patients; p++) {
    const device = `bench-ox-${p}`;
    const patientId = `bench-patient-${p}`;
    for (let seq = 1; seq <= readingsPerPatient; seq++) {
      const ts = new Date(startAt + seq * 60_000).toISOString();
      const message = {
        v: 1,
        device,
        seq,
        ts,
        vitals: [
          { code: 'heart-rate', value: 60 + ((seq * 7 + p) % 50) },
          { code: 'spo2', value: 90 + ((seq + p) % 10) },
        ],
      };
      const jws = signCompactJws(message, privateKey, kid, 'openiomt-reading+jws');
      readings.push({ device_id: device, seq, patient_id: patientId, kid, ts, jws });
      for (const [i, code] of ['heart-rate', 'spo2'].entries())
        index.push({
          id: observationId(message, i),
          device_id: device,
          seq,
          patient_id: patientId,
          code,
          effective: ts,
        });
      if (readings.length >= BATCH) await flush();
    }
  }
  if (readings.length > 0) await flush();
  bar.stop();
  await store.db.query('ANALYZE');
  await store.close();
}
const loadSeconds = (performance.now() - loadStarted) / 1000;
log(
  `loaded ${(readingsPerPatient * patients * PER_READING).toLocaleString('en')} observations in ${loadSeconds.toFixed(0)} s`,
);

// ---------- measure ----------
const child = await startPlatformChild({
  flags: database ? { databaseUrl: database.url } : { dataDir },
  ...(o.profile ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir=.bench'] } : {}),
});
const base = new URL(child.httpUrl);

/** One GET over a keep-alive connection from a given loopback address; resolves with ms and status. */
function agentFrom(address: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: address });
  return (path: string, auth = true) =>
    new Promise<{ ms: number; status: number }>((resolve, reject) => {
      const t0 = performance.now();
      const req = http.get(
        {
          agent,
          host: base.hostname,
          port: base.port,
          path,
          headers: auth ? { authorization: `Bearer ${child.adminToken}` } : {},
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode ?? 0 }));
        },
      );
      req.on('error', reject);
    });
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0) * 100) / 100;
};
const stats = (xs: number[]) => ({
  p50Ms: pct(xs, 50),
  p95Ms: pct(xs, 95),
  p99Ms: pct(xs, 99),
  n: xs.length,
});

/** A one-hour window of a random patient's history (deterministic sequence, so runs compare). */
let seed = 42;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const searchPath = () => {
  const p = Math.floor(rand() * patients);
  const from = startAt + Math.floor(rand() * Math.max(1, readingsPerPatient - 60)) * 60_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  return `/fhir/R4/Observation?patient=bench-patient-${p}&code=8867-4&date=ge${iso(from)}&date=lt${iso(from + 3_600_000)}&_count=100`;
};

try {
  const queries = Number(o.queries);
  const health = agentFrom('127.0.0.2');
  const search = agentFrom('127.0.0.3');
  for (let i = 0; i < 50; i++) {
    await health('/healthz', false);
    await search(searchPath());
  }
  const baseline: number[] = [];
  for (let i = 0; i < queries; i++) baseline.push((await health('/healthz', false)).ms);
  const latencies: number[] = [];
  const bar = new SingleBar({ format: 'searching {bar} {value}/{total}' });
  bar.start(queries, 0);
  for (let i = 0; i < queries; i++) {
    const r = await search(searchPath());
    if (r.status !== 200) throw new Error(`search answered ${r.status}`);
    latencies.push(r.ms);
    bar.increment();
  }
  bar.stop();

  const clients = Number(o.clients);
  const until = performance.now() + Number(o.seconds) * 1000;
  const concurrent: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const get = agentFrom(`127.0.1.${c + 1}`);
      // Bounded in time and in count (under the per-address limit of 6000 a minute).
      for (let k = 0; k < 5000 && performance.now() < until; k++) {
        const r = await get(searchPath());
        if (r.status !== 200) throw new Error(`search answered ${r.status}`);
        concurrent.push(r.ms);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const result = {
    benchmark: 'api',
    backend,
    observations: readingsPerPatient * patients * PER_READING,
    patients,
    loadSeconds: Math.round(loadSeconds),
    machine: machineInfo(),
    baselineHealthz: stats(baseline),
    search: {
      ...stats(latencies),
      p95VsBaseline: Math.round((pct(latencies, 95) / pct(baseline, 95)) * 10) / 10,
    },
    concurrent: {
      clients,
      seconds: Math.round(elapsed * 10) / 10,
      requests: concurrent.length,
      requestsPerSecond: Math.round(concurrent.length / elapsed),
      ...stats(concurrent),
    },
    goal: { searchP95Ms: 30, met: pct(latencies, 95) < 30 },
  };
  console.log(
    [
      `${backend}: ${result.observations.toLocaleString('en')} Observations, ${patients} patients (loaded in ${result.loadSeconds} s)`,
      `  /healthz baseline        p50 ${result.baselineHealthz.p50Ms} ms  p95 ${result.baselineHealthz.p95Ms} ms`,
      `  search (1 client)        p50 ${result.search.p50Ms} ms  p95 ${result.search.p95Ms} ms  p99 ${result.search.p99Ms} ms  (p95 ${result.search.p95VsBaseline}x baseline; goal p95 < 30 ms: ${result.goal.met ? 'met' : 'NOT met'})`,
      `  search (${clients} clients)      ${result.concurrent.requestsPerSecond} requests/s  p50 ${result.concurrent.p50Ms} ms  p95 ${result.concurrent.p95Ms} ms  p99 ${result.concurrent.p99Ms} ms`,
    ].join('\n'),
  );
  await writeJson(o.out, result);
  log(`written ${o.out}`);
} finally {
  await child.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  await database?.drop();
}
