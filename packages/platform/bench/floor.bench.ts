/**
 * Floor benchmark (`npm run bench:floor`): how many signed readings per second this machine can take at all,
 * whatever the platform does beyond the minimum. The ingest benchmark's load generator (the same devices'
 * messages: 1 s of 250 Hz ECG + four vitals, signed, over raw MQTT 5 sockets) ramps up against
 * floor-server.ts, which does only: MQTT framing and PUBACK (`ack`); + the platform's own verification stage
 * on its worker threads (`verify`); + appending each reading to a file with a group fdatasync before PUBACK
 * (`durable`). The `durable` level is a lower bound on what any design that verifies every signature and
 * makes every reading durable before acknowledging it costs here; the platform adds the device registry,
 * sequence judgement, a database, FHIR, analysis, rules and audit on top. The single-core Ed25519 ceiling is
 * measured in the same run, so the results are also ratios.
 *
 *   npm run bench:floor -- [--levels ack,verify,durable] [--steps 4000,6000,8000,10000,12000]
 *                          [--step-seconds 10] [--devices 1000] [--threads 1] [--refine 2] [--quick]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readingsTopic } from '@openiomt/core';
import { Command } from 'commander';
import type { FloorLevel } from './floor-server.ts';
import type { SigningDevice } from './messages.ts';
import { type AckSink, connectFleet } from './mqtt-fleet.ts';
import { climb, prepareStep, runStep, type StepResult } from './ramp.ts';
import { machineInfo, stepTableHeader, stepTableRow, wholeNumber, writeJson } from './report.ts';
import { measureVerifyCeiling, type VerifyCeiling } from './verify-ceiling.ts';

const SERVER = fileURLToPath(new URL('./floor-server.ts', import.meta.url));
const LEVELS: readonly FloorLevel[] = ['ack', 'verify', 'durable'];

interface Options {
  readonly levels: FloorLevel[];
  readonly steps: number[];
  readonly stepSeconds: number;
  readonly devices: number;
  readonly threads: number;
  readonly refine: number;
  readonly out: string;
}

function parseOptions(argv: string[]): Options {
  const program = new Command('bench:floor')
    .description('What this machine can ingest at all: the ingest load against a minimal server')
    .option('--levels <list>', `of ${LEVELS.join(', ')}`, LEVELS.join(','))
    .option('--steps <list>', 'offered rates in messages/s', '4000,6000,8000,10000,12000')
    .option('--step-seconds <n>', 'how long each step is held', '10')
    .option('--devices <n>', 'simulated devices (connections)', '1000')
    .option('--threads <n>', 'verify worker threads (the platform uses 1 on a 2-core machine)', '1')
    .option('--refine <n>', 'steps halving the gap after the first failing one', '2')
    .option('--quick', 'smoke run: 100 devices, steps 500,1000 of 3 s')
    .option('--out <file>', 'JSON result file', '.bench/bench-floor.json')
    .parse(argv);
  const o = program.opts<Record<string, string | boolean | undefined>>();
  const quick = o.quick === true;
  const given = (name: string) => program.getOptionValueSource(name) === 'cli';
  const levels = String(o.levels)
    .split(',')
    .map((l) => l.trim());
  for (const l of levels)
    if (!LEVELS.includes(l as FloorLevel))
      throw new Error(`--levels: ${l} is not one of ${LEVELS.join(', ')}`);
  return {
    levels: levels as FloorLevel[],
    steps: (quick && !given('steps') ? '500,1000' : String(o.steps))
      .split(',')
      .map((s) => wholeNumber('steps', s.trim(), 1)),
    stepSeconds: wholeNumber('step-seconds', quick && !given('stepSeconds') ? 3 : o.stepSeconds, 1),
    devices: wholeNumber('devices', quick && !given('devices') ? 100 : o.devices, 1),
    threads: wholeNumber('threads', o.threads, 1),
    refine: wholeNumber('refine', o.refine, 0),
    out: resolve(String(o.out)),
  };
}

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

interface FloorDevice extends SigningDevice {
  readonly publicKey: KeyObject;
  readonly x: string;
}

function makeDevices(count: number): FloorDevice[] {
  return Array.from({ length: count }, (_, i) => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const x = String((publicKey.export({ format: 'jwk' }) as { x: string }).x);
    return { id: `floor-${String(i).padStart(5, '0')}`, kid: 'k1', privateKey, publicKey, x };
  });
}

/** Starts floor-server.ts in its own process (the platform's V8 options) and waits for its address. */
async function startServer(options: Record<string, unknown>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=64', '--import', 'tsx', SERVER, JSON.stringify(options)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
  });
  return { child, url: (JSON.parse(line) as { mqttUrl: string }).mqttUrl };
}

interface LevelReport {
  readonly level: FloorLevel;
  readonly sustainedRate: number;
  readonly steps: StepResult[];
  readonly ratioToVerifyCeiling: number;
}

async function runLevel(
  level: FloorLevel,
  o: Options,
  devices: readonly FloorDevice[],
  files: { keys: string; dir: string },
  ceiling: VerifyCeiling,
): Promise<LevelReport> {
  log(`\n== ${level} ==`);
  const server = await startServer({ level, keysFile: files.keys, dir: files.dir, threads: o.threads });
  let current: AckSink | undefined;
  const connections = await connectFleet(
    server.url,
    devices.map((d) => ({ id: d.id, token: 'floor' })),
    () => ({
      acked: (...a) => current?.acked(...a),
      lost: (...a) => current?.lost(...a),
    }),
  );
  try {
    const ctx = {
      connections,
      platformPid: server.child.pid!,
      maxP99Ms: 1000,
      drainTimeoutMs: 15_000,
      setSink: (s: AckSink) => {
        current = s;
      },
    };
    const nextSeq = new Int32Array(devices.length);
    log(stepTableHeader());
    const warmRate = Math.min(devices.length, 1000);
    const warm = {
      rate: warmRate,
      seconds: Math.ceil(devices.length / warmRate),
      activeDevices: devices.length,
    };
    log(
      stepTableRow({ ...(await runStep(prepareStep(warm, devices, nextSeq), ctx)), passed: true }, 'warm-up'),
    );
    const steps: StepResult[] = [];
    const sustainedRate = await climb(o.steps, o.refine, async (rate) => {
      const plan = { rate, seconds: o.stepSeconds, activeDevices: Math.min(devices.length, rate) };
      const result = await runStep(prepareStep(plan, devices, nextSeq), ctx);
      steps.push(result);
      log(stepTableRow(result));
      await new Promise((r) => setTimeout(r, 2_000)); // let a backlog drain before the next step
      return result;
    });
    log(
      `${level}: sustained ${sustainedRate} msg/s with zero loss = ` +
        `${((sustainedRate / ceiling.verifyPerSecond) * 100).toFixed(0)} % of the single-core verify ceiling`,
    );
    return { level, sustainedRate, steps, ratioToVerifyCeiling: sustainedRate / ceiling.verifyPerSecond };
  } finally {
    for (const c of connections) c.close();
    server.child.stdin?.write('close\n');
    await new Promise((r) => server.child.once('exit', r));
  }
}

const options = (() => {
  try {
    return parseOptions(process.argv);
  } catch (e) {
    process.stderr.write(`bench:floor: ${(e as Error).message} (see --help)\n`);
    process.exit(2);
  }
})();
const machine = machineInfo();
log(
  `floor benchmark on ${machine.cpuModel} x${machine.cores}, ${machine.memoryGb} GB, node ${machine.node}; ` +
    `load average ${machine.loadAverage.join(' ')}`,
);
const started = new Date().toISOString();
const dir = await mkdtemp(join(tmpdir(), 'openiomt-floor-'));
try {
  const devices = makeDevices(options.devices);
  const keys = join(dir, 'keys.json');
  await writeFile(keys, JSON.stringify(devices.map((d) => ({ topic: readingsTopic(d.id), x: d.x }))));
  const sample = prepareStep(
    { rate: 500, seconds: 1, activeDevices: devices.length },
    devices,
    new Int32Array(devices.length),
  );
  const ceiling = await measureVerifyCeiling(
    sample.samples.map((s) => ({
      jws: s.jws,
      key: devices[s.device]!.publicKey,
    })),
  );
  log(
    `single-core ceiling: ${Math.round(ceiling.verifyPerSecond)} Ed25519 verify/s, ` +
      `${Math.round(ceiling.parseVerifyDecodePerSecond)}/s with parse + decode`,
  );
  const results: LevelReport[] = [];
  for (const level of options.levels)
    results.push(await runLevel(level, options, devices, { keys, dir }, ceiling));
  await writeJson(options.out, {
    benchmark: 'floor',
    started,
    finished: new Date().toISOString(),
    machine,
    loadAverageAtEnd: machineInfo().loadAverage,
    options,
    verifyCeiling: ceiling,
    results,
  });
  log(`\n${results.map((r) => `${r.level} ${r.sustainedRate} msg/s`).join(', ')}\nwritten ${options.out}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
