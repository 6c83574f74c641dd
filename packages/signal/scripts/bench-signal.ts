// Single-core QRS detection throughput over the mitdb records, with a same-run baseline (one summing pass
// over the same samples) so the ratio is comparable across machines.
// Usage: npx tsx packages/signal/scripts/bench-signal.ts --data /work/shared/data/mitdb [--out .bench/bench-signal.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { detectQrsMultiLead } from '../src/ecg/qrs.ts';
import { WaveformStream } from '../src/stream/waveform-stream.ts';
import { sharedDataPath } from '../src/testdata.ts';
import { readRecord } from '../src/wfdb/loader.ts';
import { toPhysical } from '../src/wfdb/signal.ts';
import { HELP_OPTION, recordsOf, runScript, scriptArgs, wholeNumber } from './script-cli.ts';

const USAGE = `
Usage: npx tsx packages/signal/scripts/bench-signal.ts [options]   (npm run bench:signal)

Single-core QRS detection throughput over a WFDB database, against a plain summing pass over the same samples.

Options:
  --data <dir>     the database folder (default: mitdb in OPENIOMT_SHARED_DATA, or in ../shared/data beside the repository): a RECORDS file naming its records, and
                   for each record <record>.hea and the signal file it names
  --rounds <n>     timed rounds; the best is kept (default 3)
  --out <file>     where the JSON results go (default .bench/bench-signal.json)
  -h, --help       this text
`;

const { values } = scriptArgs(USAGE, () =>
  parseArgs({
    options: {
      data: { type: 'string', default: join(sharedDataPath(), 'mitdb') },
      out: { type: 'string', default: '.bench/bench-signal.json' },
      rounds: { type: 'string', default: '3' },
      help: HELP_OPTION,
    },
  }),
);
const dataDir = values.data!;
const rounds = await runScript(() => wholeNumber('--rounds', values.rounds!));
const names = await runScript(() => recordsOf(dataDir));
const records = await runScript(async () => {
  const out: { fs: number; leads: Float64Array[] }[] = [];
  for (const name of names) {
    const r = await readRecord(join(dataDir, name));
    out.push({ fs: r.header.samplingFrequency, leads: r.signals.map((s) => toPhysical(s)) });
  }
  return out;
});
const samplesPerLead = records.reduce((a, r) => a + r.leads[0]!.length, 0);

function baselinePass(): number {
  let acc = 0;
  for (const r of records) for (const lead of r.leads) for (let i = 0; i < lead.length; i++) acc += lead[i]!;
  return acc;
}
function time(fn: () => unknown): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
const run = (leadCount: number) => () => {
  for (const r of records) detectQrsMultiLead(r.leads.slice(0, leadCount), r.fs);
};

time(run(1)); // warm-up (JIT)
time(run(2));
time(baselinePass);
const best = (fn: () => unknown) => Math.min(...Array.from({ length: rounds }, () => time(fn)));
const tBase = best(baselinePass);
const tOne = best(run(1));
const tTwo = best(run(2));
/**
 * Live analysis cost: each record's first lead resampled to 250 Hz (a typical patch) and pushed in 1-s
 * chunks through a WaveformStream; the time of each push that completes a 10-s window, after warm-up.
 */
function streamWindowTimes(): number[] {
  const times: number[] = [];
  for (const r of records) {
    const x = r.leads[0]!;
    const n = Math.floor((x.length * 250) / r.fs);
    const y = Float64Array.from(
      { length: Math.min(n, 250 * 600) },
      (_, i) => x[Math.floor((i * r.fs) / 250)]!,
    );
    const stream = new WaveformStream('ecg');
    let windows = 0;
    for (let i = 0; i + 250 <= y.length; i += 250) {
      const t0 = process.hrtime.bigint();
      const results = stream.push({ startMs: i * 4, rateHz: 250, samples: y.subarray(i, i + 250) });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (results.length > 0 && ++windows > 3) times.push(ms);
    }
  }
  return times.sort((a, b) => a - b);
}
const windowTimes = streamWindowTimes();
const pct = (p: number) => windowTimes[Math.min(windowTimes.length - 1, Math.floor(p * windowTimes.length))]!;
const result = {
  records: names.length,
  samplesPerLead,
  cpu: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  baselineSamplesPerSecond: (2 * samplesPerLead) / tBase,
  singleLead: { seconds: tOne, samplesPerSecond: samplesPerLead / tOne },
  twoLead: { seconds: tTwo, samplesPerSecond: (2 * samplesPerLead) / tTwo },
  ratioToBaseline: {
    singleLead: samplesPerLead / tOne / ((2 * samplesPerLead) / tBase),
    twoLead: tBase / tTwo,
  },
  streamWindow250Hz: { windows: windowTimes.length, p50Ms: pct(0.5), p95Ms: pct(0.95), p99Ms: pct(0.99) },
};
const m = (x: number) => `${(x / 1e6).toFixed(1)} M samples/s`;
console.log(
  `QRS detection over ${names.length} records, ${samplesPerLead} samples per lead, one core (${result.cpu})`,
);
console.log(`baseline (sum pass):     ${m(result.baselineSamplesPerSecond)}`);
console.log(`detector, 1 lead:        ${m(result.singleLead.samplesPerSecond)}  (${tOne.toFixed(3)} s)`);
console.log(`detector, 2 leads fused: ${m(result.twoLead.samplesPerSecond)}  (${tTwo.toFixed(3)} s)`);
console.log(
  `ratio to baseline: 1 lead ${result.ratioToBaseline.singleLead.toFixed(3)}, 2 leads ${result.ratioToBaseline.twoLead.toFixed(3)}`,
);
console.log(
  `live ECG stream, 10-s windows at 250 Hz (${windowTimes.length} windows): p50 ${pct(0.5).toFixed(2)} ms, p95 ${pct(0.95).toFixed(2)} ms, p99 ${pct(0.99).toFixed(2)} ms per window`,
);
mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${values.out}`);
