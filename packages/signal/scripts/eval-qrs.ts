// EC57 evaluation of the QRS detector over a WFDB database directory (default: the mitdb extract).
// Usage: npx tsx packages/signal/scripts/eval-qrs.ts --data /work/shared/data/mitdb [--out .bench/eval-qrs.json]
//        [--records 100,101] [--leads 1|all] [--resample 250]
// --resample re-samples every lead (linear interpolation after a moving-average anti-alias filter when
// going down) and the annotations to another rate, to check that nothing depends on 360 Hz.
// A record without reference annotations (<record>.atr) or without an ECG signal cannot be scored: it is
// skipped with a note on stderr, and a run that scores no record at all fails (exit 2).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  detectRecordQrs,
  ecgSignalIndex,
  fusableLeadIndices,
  NoEcgSignalError,
  shortFileWarning,
} from '../src/cli.ts';
import { detectQrsMultiLead, movingAverage } from '../src/ecg/qrs.ts';
import { beatsFromSamples, compareBeats, type Ec57Result, medianAbs } from '../src/eval/ec57.ts';
import { sharedDataPath } from '../src/testdata.ts';
import type { AnnotationFile } from '../src/wfdb/annotation.ts';
import { readAnnotations, readRecord, WfdbFileError } from '../src/wfdb/loader.ts';
import { toPhysical, type WfdbRecord } from '../src/wfdb/signal.ts';
import { HELP_OPTION, positiveNumber, recordsOf, runScript, ScriptError, scriptArgs } from './script-cli.ts';

const USAGE = `
Usage: npx tsx packages/signal/scripts/eval-qrs.ts [options]   (npm run eval:qrs)

EC57 beat-by-beat evaluation of the QRS detector over a WFDB database folder.

Options:
  --data <dir>       the database folder (default: mitdb in OPENIOMT_SHARED_DATA, or in ../shared/data beside the repository): a RECORDS file naming its records,
                     and for each record <record>.hea, the signal file it names, and the reference beat
                     annotations <record>.atr
  --records <list>   comma-separated records to score instead of those RECORDS names (e.g. 100,101)
  --leads 1|all      the first ECG lead only, or every ECG lead fused (default all)
  --resample <Hz>    re-sample the leads and the annotations to this rate first
  --out <file>       where the JSON results go (default .bench/eval-qrs.json)
  -h, --help         this text

A record without reference annotations (.atr) or without an ECG signal is skipped with a note on stderr.
`;

const { values } = scriptArgs(USAGE, () =>
  parseArgs({
    options: {
      data: { type: 'string', default: join(sharedDataPath(), 'mitdb') },
      out: { type: 'string', default: '.bench/eval-qrs.json' },
      records: { type: 'string' },
      /** 'all' (default): fuse every ECG lead; '1': the first ECG lead only. */
      leads: { type: 'string', default: 'all' },
      resample: { type: 'string' },
      help: HELP_OPTION,
    },
  }),
);
const dataDir = values.data!;

interface Row {
  record: string;
  fs: number;
  fromStart: Summary;
  from5min: Summary;
}
interface Summary {
  tp: number;
  fn: number;
  fp: number;
  se: number;
  ppv: number;
  medianAbsErrorMs: number;
}

function summary(r: Ec57Result, fs: number): Summary {
  return {
    tp: r.tp,
    fn: r.fn,
    fp: r.fp,
    se: r.sensitivity,
    ppv: r.positivePredictivity,
    medianAbsErrorMs: (medianAbs(r.timingErrors) * 1000) / fs,
  };
}

/** Linear-interpolation resampling, with a moving average of one output period first when decimating. */
function resample(x: Float64Array, fsIn: number, fsOut: number): Float64Array {
  const h = fsOut < fsIn ? Math.floor(fsIn / fsOut / 2) : 0;
  const y = h > 0 ? movingAverage(x, h) : x;
  const n = Math.floor(((x.length - 1) * fsOut) / fsIn) + 1;
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const t = (j * fsIn) / fsOut;
    const i = Math.min(x.length - 2, Math.floor(t));
    out[j] = y[i]! + (t - i) * (y[i + 1]! - y[i]!);
  }
  return out;
}

/** Beats and the rate they are expressed at, at the record's own rate or re-sampled. */
function detect(record: WfdbRecord): { beats: Int32Array; fs: number } {
  const fs = record.header.samplingFrequency;
  if (!values.resample) return { beats: detectRecordQrs(record, { multiLead: values.leads !== '1' }), fs };
  const fsOut = Number(values.resample);
  const indices = values.leads === '1' ? [ecgSignalIndex(record)] : fusableLeadIndices(record);
  const leads = indices.map((i) => resample(toPhysical(record.signals[i]!), fs, fsOut));
  return { beats: detectQrsMultiLead(leads, fsOut), fs: fsOut };
}

const rows: Row[] = [];
const errors0: number[] = [];
const errors5: number[] = [];

/** The reference annotations of a record, or undefined (with a note) when it has none to score against. */
async function referenceOf(name: string, path: string): Promise<AnnotationFile | undefined> {
  try {
    return await readAnnotations(path, 'atr');
  } catch (e) {
    if (!(e instanceof WfdbFileError && e.problem === 'no-annotations')) throw e;
    process.stderr.write(
      `note: skipping ${name}: it has no reference annotations (${path}.atr) to score against\n`,
    );
    return undefined;
  }
}

async function scoreRecord(name: string): Promise<void> {
  const path = join(dataDir, name);
  const record = await readRecord(path);
  const reference = await referenceOf(name, path);
  if (!reference) return;
  for (const s of record.shortFiles) process.stderr.write(`note: ${name}: ${shortFileWarning(record, s)}\n`);
  let detected: { beats: Int32Array; fs: number };
  try {
    detected = detect(record);
  } catch (e) {
    if (!(e instanceof NoEcgSignalError)) throw e;
    process.stderr.write(`note: skipping ${name}: ${e.message}\n`);
    return;
  }
  const { beats, fs } = detected;
  const scale = fs / record.header.samplingFrequency;
  const ref = reference.annotations.map((a) => ({ ...a, sample: Math.round(a.sample * scale) }));
  const test = beatsFromSamples(beats);
  const frames = record.header.frameCount;
  const end = frames === undefined ? undefined : Math.round(frames * scale);
  const r0 = compareBeats(ref, test, { samplingFrequency: fs, startSample: 0, endSample: end });
  const r5 = compareBeats(ref, test, { samplingFrequency: fs, endSample: end });
  for (const e of r0.timingErrors) errors0.push((e * 1000) / fs);
  for (const e of r5.timingErrors) errors5.push((e * 1000) / fs);
  rows.push({ record: name, fs, fromStart: summary(r0, fs), from5min: summary(r5, fs) });
}

await runScript(async () => {
  if (values.leads !== '1' && values.leads !== 'all')
    throw new ScriptError(`--leads must be 1 or all, got "${values.leads}"`, true);
  if (values.resample !== undefined) positiveNumber('--resample', values.resample);
  const records = values.records ? values.records.split(',').filter(Boolean) : recordsOf(dataDir);
  for (const name of records) await scoreRecord(name);
  if (rows.length === 0)
    throw new ScriptError(
      `no record of ${dataDir} could be scored: each needs <record>.hea, its signal file, an ECG signal and the reference annotations <record>.atr`,
    );
});

function gross(pick: (r: Row) => Summary, errs: number[]): Summary {
  const tp = rows.reduce((a, r) => a + pick(r).tp, 0);
  const fn = rows.reduce((a, r) => a + pick(r).fn, 0);
  const fp = rows.reduce((a, r) => a + pick(r).fp, 0);
  return { tp, fn, fp, se: tp / (tp + fn), ppv: tp / (tp + fp), medianAbsErrorMs: medianAbs(errs) };
}
const total = { fromStart: gross((r) => r.fromStart, errors0), from5min: gross((r) => r.from5min, errors5) };
const meanSignedMs = errors0.reduce((a, b) => a + b, 0) / Math.max(1, errors0.length);

const pct = (x: number) => (Number.isNaN(x) ? '   -  ' : (100 * x).toFixed(2).padStart(6));
const line = (label: string, a: Summary, b: Summary) =>
  `${label.padEnd(6)} ${String(a.tp).padStart(6)} ${String(a.fn).padStart(4)} ${String(a.fp).padStart(4)} ${pct(a.se)} ${pct(a.ppv)} ${a.medianAbsErrorMs.toFixed(1).padStart(5)} | ${String(b.tp).padStart(6)} ${String(b.fn).padStart(4)} ${String(b.fp).padStart(4)} ${pct(b.se)} ${pct(b.ppv)}`;
console.log('                  from t = 0                     |      from 5 min (EC57 test period)');
console.log('record     TP   FN   FP   Se %  +P %  |err|ms |     TP   FN   FP   Se %  +P %');
for (const r of rows) console.log(line(r.record, r.fromStart, r.from5min));
console.log(line('gross', total.fromStart, total.from5min));
console.log(`mean signed timing error ${meanSignedMs.toFixed(2)} ms (test − reference)`);

mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(
  values.out!,
  `${JSON.stringify({ data: dataDir, matchWindowSeconds: 0.15, records: rows, gross: total, meanSignedMs }, null, 2)}\n`,
);
console.log(`wrote ${values.out}`);
