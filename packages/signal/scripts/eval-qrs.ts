// EC57 evaluation of the QRS detector over a WFDB database directory (default: the mitdb extract).
// Usage: npx tsx packages/signal/scripts/eval-qrs.ts --data /work/shared/data/mitdb [--out .bench/eval-qrs.json]
//        [--records 100,101] [--leads 1|all] [--resample 250]
// --resample re-samples every lead (linear interpolation after a moving-average anti-alias filter when
// going down) and the annotations to another rate, to check that nothing depends on 360 Hz.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { detectRecordQrs, ecgSignalIndex, fusableLeadIndices } from '../src/cli.ts';
import { detectQrsMultiLead, movingAverage } from '../src/ecg/qrs.ts';
import { beatsFromSamples, compareBeats, type Ec57Result, medianAbs } from '../src/eval/ec57.ts';
import { readAnnotations, readRecord } from '../src/wfdb/loader.ts';
import { toPhysical, type WfdbRecord } from '../src/wfdb/signal.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: join(process.cwd(), '..', 'shared', 'data', 'mitdb') },
    out: { type: 'string', default: '.bench/eval-qrs.json' },
    records: { type: 'string' },
    /** 'all' (default): fuse every ECG lead; '1': the first ECG lead only. */
    leads: { type: 'string', default: 'all' },
    resample: { type: 'string' },
  },
});
const dataDir = values.data!;
const records = values.records
  ? values.records.split(',')
  : readFileSync(join(dataDir, 'RECORDS'), 'latin1').trim().split(/\s+/);

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
for (const name of records) {
  const path = join(dataDir, name);
  const record = await readRecord(path);
  const { beats, fs } = detect(record);
  const scale = fs / record.header.samplingFrequency;
  const ref = (await readAnnotations(path, 'atr')).annotations.map((a) => ({
    ...a,
    sample: Math.round(a.sample * scale),
  }));
  const test = beatsFromSamples(beats);
  const frames = record.header.frameCount;
  const end = frames === undefined ? undefined : Math.round(frames * scale);
  const r0 = compareBeats(ref, test, { samplingFrequency: fs, startSample: 0, endSample: end });
  const r5 = compareBeats(ref, test, { samplingFrequency: fs, endSample: end });
  for (const e of r0.timingErrors) errors0.push((e * 1000) / fs);
  for (const e of r5.timingErrors) errors5.push((e * 1000) / fs);
  rows.push({ record: name, fs, fromStart: summary(r0, fs), from5min: summary(r5, fs) });
}

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
