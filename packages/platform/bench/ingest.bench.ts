/**
 * Ingest benchmark (`npm run bench:ingest`): simulated devices over loopback MQTT publish signed readings
 * (1 s of 250 Hz ECG + four vitals each) to a platform running in its own process, at a rate that ramps up
 * step by step. Per step: messages/s offered, sent and acknowledged, publish-to-durable latency (PUBACK comes
 * only after the database commit), the platform's CPU and RSS (and PostgreSQL's backends' CPU), and the load
 * generator's own CPU. The ramp stops at the first step that is not sustained with zero loss; afterwards the
 * stored readings are counted against the acknowledgements. The single-core Ed25519 verification ceiling is
 * measured in the same run on the same messages.
 *
 *   npm run bench:ingest -- [--backend pglite|postgres|both] [--steps 500,1000,...] [--step-seconds 10]
 *                           [--devices 1000] [--quick] [--profile] [--out .bench/bench-ingest.json]
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { type AckSink, connectFleet, type FleetConnection } from './mqtt-fleet.ts';
import { type Backend, chooseBackends, startBenchPlatform } from './platform-process.ts';
import { formatProfileSummary, summarizeProfileFile } from './profile-summary.ts';
import { type BenchDevice, deviceToken, provisionDevices } from './provision.ts';
import { climb, type PreparedStep, prepareStep, runStep, type StepContext, type StepResult } from './ramp.ts';
import {
  type BackendReport,
  backendSummary,
  machineInfo,
  stepTableHeader,
  stepTableRow,
  wholeNumber,
  writeJson,
} from './report.ts';
import { measureVerifyCeiling, type VerifyCeiling } from './verify-ceiling.ts';

interface Options {
  readonly backends: Backend[];
  readonly postgresUrl?: string;
  readonly steps: number[];
  readonly stepSeconds: number;
  readonly devices: number;
  readonly maxP99Ms: number;
  readonly drainSeconds: number;
  readonly refine: number;
  readonly profile: boolean;
  readonly out: string;
}

function parseOptions(argv: string[]): Options {
  const program = new Command('bench:ingest')
    .description('Signed-reading ingest benchmark over loopback MQTT')
    .option('--backend <which>', 'pglite, postgres or both (default: both when a PostgreSQL URL is set)')
    .option(
      '--postgres-url <url>',
      'PostgreSQL server for the postgres backend (a fresh database is created)',
    )
    .option('--steps <list>', 'offered rates in messages/s', '500,1000,2000,4000,6000,8000,10000')
    .option('--step-seconds <n>', 'how long each step is held', '10')
    .option(
      '--devices <n>',
      'devices to provision; above this rate each device sends more than 1 msg/s',
      '1000',
    )
    .option('--max-p99-ms <n>', 'a step with a higher p99 does not count as sustained', '1000')
    .option('--drain-seconds <n>', 'how long to wait for the last acknowledgements of a step', '15')
    .option(
      '--refine <n>',
      'after the first failing step, this many steps halving the gap to the last good one',
      '3',
    )
    .option('--quick', 'short smoke run: 100 devices, steps 200,500 of 3 s')
    .option('--profile', 'record a CPU profile of the platform during the ramp and summarise it')
    .option('--out <file>', 'JSON result file', '.bench/bench-ingest.json')
    .parse(argv);
  const o = program.opts<Record<string, string | boolean | undefined>>();
  const given = (name: string) => program.getOptionValueSource(name) === 'cli';
  const quick = o.quick === true;
  const { backends, postgresUrl } = chooseBackends(
    o.backend as string | undefined,
    o.postgresUrl as string | undefined,
  );
  const steps = (quick && !given('steps') ? '200,500' : String(o.steps))
    .split(',')
    .map((s) => wholeNumber('steps', s.trim(), 1));
  return {
    backends,
    ...(postgresUrl ? { postgresUrl } : {}),
    steps,
    stepSeconds: wholeNumber('step-seconds', quick && !given('stepSeconds') ? 3 : o.stepSeconds, 1),
    devices: wholeNumber('devices', quick && !given('devices') ? 100 : o.devices, 1),
    maxP99Ms: wholeNumber('max-p99-ms', o.maxP99Ms, 1),
    drainSeconds: wholeNumber('drain-seconds', o.drainSeconds, 1),
    refine: wholeNumber('refine', o.refine, 0),
    profile: o.profile === true,
    out: resolve(String(o.out)),
  };
}

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function runBackend(
  backend: Backend,
  o: Options,
  ceiling: { value?: VerifyCeiling },
): Promise<BackendReport> {
  log(`\n== ${backend} ==`);
  const platform = await startBenchPlatform(backend, o.postgresUrl);
  const child = platform.child;
  let connections: FleetConnection[] = [];
  try {
    let t0 = performance.now();
    const { devices, addresses } = await provisionDevices({
      httpUrl: child.httpUrl,
      adminToken: child.adminToken,
      count: o.devices,
      onProgress: (done) => log(`  provisioned ${done}/${o.devices} devices`),
    });
    const provisionSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const totals = { sent: 0, acked: 0, rejected: 0 };
    let current: AckSink | undefined;
    const sink: AckSink = {
      acked(device, messageId, code, at) {
        if (code === 0) totals.acked++;
        else totals.rejected++;
        current?.acked(device, messageId, code, at);
      },
      lost: (device, reason) => current?.lost(device, reason),
    };
    const fleet = devices.map((d) => ({ id: d.id, token: deviceToken(d) }));
    connections = await connectFleet(
      child.mqttUrl,
      fleet,
      () => sink,
      (n) => log(`  connected ${n}/${o.devices}`),
    );
    const connectSeconds = (performance.now() - t0) / 1000;
    const ctx: StepContext = {
      connections,
      platformPid: child.pid,
      ...(platform.databasePids ? { databasePids: platform.databasePids } : {}),
      maxP99Ms: o.maxP99Ms,
      drainTimeoutMs: o.drainSeconds * 1000,
      setSink: (s) => {
        current = s;
      },
    };
    const nextSeq = new Int32Array(devices.length);
    const run = async (step: PreparedStep): Promise<StepResult> => {
      const result = await runStep(step, ctx);
      totals.sent += result.sent;
      return result;
    };

    // Warm-up: every device sends once, so caches (keys, assignments, sequence numbers) are filled.
    const warmRate = Math.min(devices.length, 500);
    const warmSeconds = Math.ceil(devices.length / warmRate);
    const warmPlan = { rate: warmRate, seconds: warmSeconds, activeDevices: devices.length };
    const warmStep = prepareStep(warmPlan, devices, nextSeq);
    ceiling.value ??= await measureCeiling(warmStep, devices);
    log(stepTableHeader());
    const warmup = await run(warmStep);
    log(stepTableRow({ ...warmup, passed: true }, 'warm-up'));

    if (o.profile) await child.command('profile-start');
    const steps: StepResult[] = [];
    const step = async (rate: number): Promise<StepResult> => {
      const plan = { rate, seconds: o.stepSeconds, activeDevices: Math.min(devices.length, rate) };
      const result = await run(prepareStep(plan, devices, nextSeq));
      steps.push(result);
      log(stepTableRow(result));
      return result;
    };
    const passedRate = await climb(o.steps, o.refine, step, async () => {
      if ((await waitForAcks(totals, 30_000)) > 0) return false; // a backlog would blur the next step
      await new Promise((r) => setTimeout(r, 2_000));
      return true;
    });
    const profileFile = join(resolve(o.out, '..'), `profile-${backend}-${Date.now()}.cpuprofile`);
    if (o.profile) {
      await mkdir(resolve(o.out, '..'), { recursive: true });
      await child.command(`profile-stop ${profileFile}`);
    }

    const unacknowledgedAtEnd = await waitForAcks(totals, 30_000);
    const stored = (await child.command<{ readings: number }>('count')).readings;
    const sustainedRate = passedRate;
    const at2000 = steps.find((s) => s.offeredRate === 2000);
    const profile = o.profile ? { file: profileFile, ...summarizeProfileFile(profileFile) } : undefined;
    const report: BackendReport = {
      backend,
      devices: devices.length,
      provisioning: { seconds: provisionSeconds, sourceAddresses: addresses, connectSeconds },
      warmup,
      steps,
      sustainedRate,
      ...(at2000 ? { p99AtTwoThousandMs: at2000.latencyMs.p99 } : {}),
      zeroLoss: { acknowledged: totals.acked, stored, equal: totals.acked === stored, unacknowledgedAtEnd },
      verifyCeiling: ceiling.value,
      ratioToVerifyCeiling: sustainedRate / ceiling.value.verifyPerSecond,
      goals: {
        sustained8000: sustainedRate >= 8000,
        p99Under100At2000: at2000 ? at2000.passed && at2000.latencyMs.p99 < 100 : undefined,
      },
      ...(profile ? { profile } : {}),
    };
    log(backendSummary(report));
    if (profile) log(formatProfileSummary(profile));
    return report;
  } finally {
    for (const c of connections) c?.close();
    await platform.dispose();
  }
}

async function measureCeiling(step: PreparedStep, devices: readonly BenchDevice[]): Promise<VerifyCeiling> {
  const c = await measureVerifyCeiling(
    step.samples.map((s) => ({ jws: s.jws, key: devices[s.device]!.publicKey })),
  );
  log(
    `single-core ceiling: ${Math.round(c.verifyPerSecond)} Ed25519 verify/s on ${c.messageBytes}-byte messages, ` +
      `${Math.round(c.parseVerifyDecodePerSecond)}/s with parse + decode; ` +
      `${Math.round(c.threadPoolVerifyPerSecond)}/s on the libuv thread pool (all cores)`,
  );
  return c;
}

/** Waits until every message sent has an answer; returns how many still have none. */
async function waitForAcks(totals: { sent: number; acked: number; rejected: number }, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs;
  while (totals.acked + totals.rejected < totals.sent && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
  return totals.sent - totals.acked - totals.rejected;
}

const options = parseOptions(process.argv);
const machine = machineInfo();
log(
  `ingest benchmark on ${machine.cpuModel} x${machine.cores}, ${machine.memoryGb} GB, node ${machine.node}; ` +
    `load average ${machine.loadAverage.join(' ')}`,
);
const started = new Date().toISOString();
const ceiling: { value?: VerifyCeiling } = {};
const results: BackendReport[] = [];
for (const backend of options.backends) results.push(await runBackend(backend, options, ceiling));
await writeJson(options.out, {
  benchmark: 'ingest',
  started,
  finished: new Date().toISOString(),
  machine,
  loadAverageAtEnd: machineInfo().loadAverage,
  options: { ...options, postgresUrl: options.postgresUrl ? '(set)' : undefined },
  results,
});
log(`\nwritten ${options.out}`);
