/**
 * Restart under load (not a test): a ward of devices streams signed readings (1 s of 250 Hz ECG and four
 * vitals, one a second each); mid-stream the platform is killed (SIGKILL: nothing drained) and started again
 * on the same store and ports. The devices reconnect and send what was not acknowledged, as a device's store
 * and forward does. Reported: how long the platform took to be back, to have every device reconnected and to
 * have stored everything produced while it was down; publish-to-acknowledgement latency (from when each
 * reading was due) before the kill and once caught up; and that every reading is stored exactly once.
 * Alarm probes (restart-probes.ts) ride in the ward: their patients' SpO2 alarm changes with every reading,
 * and a dashboard's alarm stream, opened again once the platform is back, measures due-to-alarm latency
 * before the kill, for what was due during the outage, and once caught up.
 *
 *   npm run bench:restart -- [--backend pglite|postgres|both] [--devices 500] [--probes 20]
 *                            [--before 20] [--after 40] [--out .bench/bench-restart.json]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { createTestDatabase } from '../src/store/testing.ts';
import { setProbeThresholds } from './alarm-probes.ts';
import { AlarmStreamClient } from './alarm-stream-client.ts';
import { type Backend, chooseBackends, type PlatformChild, startPlatformChild } from './platform-process.ts';
import { deviceToken, provisionDevices } from './provision.ts';
import { percentile } from './ramp.ts';
import { machineInfo, wholeNumber, writeJson } from './report.ts';
import { ResilientWard } from './resilient-fleet.ts';
import { latencySummary, RestartProbes } from './restart-probes.ts';

interface Options {
  readonly backends: Backend[];
  readonly postgresUrl?: string;
  readonly devices: number;
  readonly probes: number;
  readonly before: number;
  readonly after: number;
  readonly out: string;
}

function parseOptions(argv: string[]): Options {
  const program = new Command('bench:restart')
    .description('Kills the platform while a ward streams, restarts it, and measures the recovery')
    .option('--backend <which>', 'pglite, postgres or both (default: both when a PostgreSQL URL is set)')
    .option(
      '--postgres-url <url>',
      'PostgreSQL server for the postgres backend (a fresh database is created)',
    )
    .option('--devices <n>', 'devices in the ward, one reading a second each', '500')
    .option('--probes <n>', 'of them, alarm probes: their SpO2 alarm changes with every reading', '20')
    .option('--before <s>', 'seconds of streaming before the kill', '20')
    .option('--after <s>', 'seconds of streaming after the kill', '40')
    .option('--out <file>', 'JSON result file', '.bench/bench-restart.json')
    .parse(argv);
  const o = program.opts<Record<string, string | undefined>>();
  const { backends, postgresUrl } = chooseBackends(o.backend, o.postgresUrl);
  return {
    backends,
    ...(postgresUrl ? { postgresUrl } : {}),
    devices: wholeNumber('devices', o.devices, 1),
    probes: wholeNumber('probes', o.probes, 0),
    before: wholeNumber('before', o.before, 5),
    after: wholeNumber('after', o.after, 10),
    out: resolve(String(o.out)),
  };
}

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** A fresh store for the backend: flags for the platform, and how to remove it afterwards. */
async function freshStore(backend: Backend, postgresUrl: string | undefined) {
  if (backend === 'postgres') {
    const db = await createTestDatabase(postgresUrl!);
    return { flags: { databaseUrl: db.url }, remove: () => db.drop() };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'openiomt-bench-'));
  return { flags: { dataDir }, remove: () => rm(dataDir, { recursive: true, force: true }) };
}

/** Latency percentiles (ms, due → acknowledged) of the readings due in [from, to). */
function latency(ward: ResilientWard, from: number, to: number) {
  const ms: number[] = [];
  for (let k = 0; k < ward.total; k++) {
    const due = ward.dueAt[k]!;
    const acked = ward.ackedAt[k]!;
    if (due >= from && due < to && !Number.isNaN(acked)) ms.push(acked - due);
  }
  return latencySummary(ms);
}

async function runBackend(backend: Backend, o: Options) {
  const store = await freshStore(backend, o.postgresUrl);
  let child: PlatformChild | undefined;
  try {
    child = await startPlatformChild({ flags: store.flags });
    const ports = {
      httpPort: Number(new URL(child.httpUrl).port),
      mqttPort: Number(new URL(child.mqttUrl).port),
    };
    log(`${backend}: provisioning ${o.devices} devices`);
    const { devices } = await provisionDevices({
      httpUrl: child.httpUrl,
      adminToken: child.adminToken,
      count: o.devices,
    });
    const rounds = o.before + o.after;
    const probes = new RestartProbes(
      devices.slice(0, o.probes).map((d) => d.patientId), // at most every device
      rounds,
    );
    await setProbeThresholds(child.httpUrl, child.adminToken, probes.patientIds);
    const adminToken = child.adminToken;
    const openStream = (httpUrl: string) =>
      AlarmStreamClient.open(httpUrl, adminToken, probes.patientIds, (m, at) =>
        probes.onStreamMessage(m, at),
      );
    let stream = probes.count > 0 ? await openStream(child.httpUrl) : undefined;
    const ward = new ResilientWard(
      child.mqttUrl,
      devices.map((d) => ({ id: d.id, kid: d.kid, privateKey: d.privateKey, token: deviceToken(d) })),
      rounds,
      performance.now() + 3_000,
      probes.spo2Of,
    );
    await ward.start();
    log(`${backend}: streaming ${o.devices} readings/s; the kill comes after ${o.before} s`);
    const killAt = ward.startAt + o.before * 1000;
    await new Promise((r) => setTimeout(r, killAt - performance.now()));
    const inFlightAtKill = countDueUnacknowledged(ward, performance.now());
    await child.kill();
    const killedAt = performance.now();
    // OPENIOMT_BENCH_PROFILE_DIR=<dir>: a CPU profile of the restarted platform's whole life, written at its exit.
    const profileDir = process.env.OPENIOMT_BENCH_PROFILE_DIR;
    child = await startPlatformChild({
      flags: { ...store.flags, ...ports },
      restart: true,
      ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
    });
    const readyAt = performance.now();
    // The dashboard notices its stream has gone and opens it again as soon as the platform answers.
    stream?.close();
    stream = probes.count > 0 ? await openStream(child.httpUrl) : undefined;
    const streamAgainAt = performance.now();
    log(
      `${backend}: killed with ${inFlightAtKill} readings unacknowledged; back after ${Math.round(readyAt - killedAt)} ms`,
    );
    const complete = await ward.allAcknowledged((o.after + 60) * 1000);
    const reconnectedAt = ward.allConnectedAt;
    await new Promise((r) => setTimeout(r, 2_000)); // the last probe readings' alarms
    const stored = (await child.command<{ readings: number }>('count')).readings;
    ward.stop();
    stream?.close();
    // Everything due while the platform was down (or starting) waited for it; when was the last of it stored?
    let backlogStoredAt = readyAt;
    for (let k = 0; k < ward.total; k++)
      if (ward.dueAt[k]! < readyAt) backlogStoredAt = Math.max(backlogStoredAt, ward.ackedAt[k]!);
    const result = {
      backend,
      devices: o.devices,
      readingsPerSecond: o.devices,
      readings: ward.total,
      unacknowledgedAtKill: inFlightAtKill,
      restartMs: Math.round(readyAt - killedAt),
      // Of which: the new process loading its modules, then the platform starting (store, broker, rules).
      restartLoadMs: child.loadedMs,
      restartStartMs: child.startedMs,
      // When the devices were let in again, from the platform being ready (p50, p90, last).
      reconnectedAfterReadyMs: reconnectTimes(ward, readyAt),
      allReconnectedMs: Math.round(reconnectedAt - killedAt),
      backlogStoredMs: Math.round(backlogStoredAt - killedAt),
      // Steady state: readings due from 2 s after the start to 2 s before the kill.
      before: latency(ward, ward.startAt + 2_000, killAt - 2_000),
      caughtUp: latency(ward, backlogStoredAt + 2_000, ward.startAt + rounds * 1000),
      alarms:
        probes.count === 0
          ? undefined
          : probeResults(probes, ward, { killAt, readyAt, backlogStoredAt, streamAgainAt }),
      everyReadingAcknowledged: complete,
      refused: ward.refused,
      refusals: ward.refusals,
      connectionsLost: ward.lost,
      failedConnects: ward.failedConnects,
      stored,
      storedExactlyOnce: stored === ward.total,
    };
    log(
      `${backend}: back in ${result.restartMs} ms (process and modules ${result.restartLoadMs}, platform start ` +
        `${result.restartStartMs}), devices let in again ${fmtReconnect(result.reconnectedAfterReadyMs)} ms after ready, every device reconnected after ${result.allReconnectedMs} ms, ` +
        `the outage's backlog stored after ${result.backlogStoredMs} ms (from the kill)`,
    );
    log(
      `${backend}: latency due → acknowledged, p50/p99/max ms: before the kill ${fmt(result.before)}; ` +
        `once caught up ${fmt(result.caughtUp)}`,
    );
    if (result.alarms) {
      const a = result.alarms;
      log(
        `${backend}: alarms (${a.probes} probes), due → on the dashboard's stream, p50/p99/max ms: before the kill ` +
          `${fmt(a.before)}; due during the outage ${fmt(a.outage)}; once caught up ${fmt(a.caughtUp)}; ` +
          `stream open again ${a.streamOpenAfterReadyMs} ms after ready, first alarm ${a.firstAlarmAfterReadyMs} ms after ready; ` +
          `unanswered ${a.unanswered}, passed over ${a.skipped}, other messages ${a.otherMessages}`,
      );
    }
    log(
      `${backend}: ${result.stored} stored of ${result.readings} produced (exactly once: ${result.storedExactlyOnce}); ` +
        `refused ${result.refused} ${JSON.stringify(result.refusals)}; connections lost ${result.connectionsLost}; failed connection attempts ${JSON.stringify(result.failedConnects)}`,
    );
    return result;
  } finally {
    await child?.stop().catch(() => child?.kill());
    await store.remove();
  }
}

/** Due-to-alarm latency of the probe readings, split as the ward's latency is, and the restart's marks. */
function probeResults(
  probes: RestartProbes,
  ward: ResilientWard,
  t: { killAt: number; readyAt: number; backlogStoredAt: number; streamAgainAt: number },
) {
  const dueAt = (p: number, r: number) => ward.dueAt[p * ward.rounds + r]!;
  const end = ward.startAt + ward.rounds * 1000;
  const before = probes.latency(dueAt, ward.startAt + 2_000, t.killAt - 2_000);
  const outage = probes.latency(dueAt, t.killAt, t.readyAt);
  const caughtUp = probes.latency(dueAt, t.backlogStoredAt + 2_000, end);
  return {
    probes: probes.count,
    before,
    outage,
    caughtUp,
    // Probe readings whose alarm never came, over the whole run (also the first 2 s and the catching up).
    unanswered: probes.latency(dueAt, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY).unanswered,
    streamOpenAfterReadyMs: Math.round(t.streamAgainAt - t.readyAt),
    firstAlarmAfterReadyMs: probes.firstAlarmAfter(t.readyAt),
    skipped: probes.skipped,
    otherMessages: probes.otherMessages,
  };
}

function reconnectTimes(ward: ResilientWard, readyAt: number) {
  const after = Array.from(ward.connectedAt, (t) => t - readyAt).sort((x, y) => x - y);
  return {
    p50: Math.round(percentile(after, 0.5)),
    p90: Math.round(percentile(after, 0.9)),
    last: Math.round(after[after.length - 1] ?? Number.NaN),
  };
}

const fmtReconnect = (r: { p50: number; p90: number; last: number }) =>
  `(p50 ${r.p50}, p90 ${r.p90}, last ${r.last})`;

function countDueUnacknowledged(ward: ResilientWard, now: number): number {
  let n = 0;
  for (let k = 0; k < ward.total; k++) if (ward.dueAt[k]! <= now && Number.isNaN(ward.ackedAt[k]!)) n++;
  return n;
}

const fmt = (l: { p50Ms: number; p99Ms: number; maxMs: number }) => `${l.p50Ms} / ${l.p99Ms} / ${l.maxMs}`;

const options = parseOptions(process.argv);
const results = [];
for (const backend of options.backends) results.push(await runBackend(backend, options));
await writeJson(options.out, {
  benchmark: 'restart',
  machine: machineInfo(),
  at: new Date().toISOString(),
  results,
});
log(`wrote ${options.out}`);
