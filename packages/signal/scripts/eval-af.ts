// AF screening evaluation.
//  (a) challenge-2017: record-level AF vs everything else on single-lead AliveCor ECGs (QRS detection,
//      signal quality, RR irregularity). "unclassifiable" (quality gate) is counted as a "not AF" call in the
//      primary F1; the F1 over classified records only is reported beside it.
//  (b) afdb-derived: per-interval AF calls from the RR tables (windows of 32 intervals), scored as AF time
//      sensitivity/specificity against the reference rhythm (AFIB = AF; AFL, J, N = not AF).
// Usage: npx tsx packages/signal/scripts/eval-af.ts --data /work/shared/data [--out .bench/eval-af.json]
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { afByWindow } from '../src/ecg/af.ts';
import { analyseRhythm, type RhythmCall } from '../src/ecg/rhythm.ts';
import {
  type AfTimeAgreement,
  afTimeAgreement,
  parseRhythmListing,
  parseRrTable,
  poolAgreements,
  rhythmOfBeats,
} from '../src/eval/afdb.ts';
import { readRecord } from '../src/wfdb/loader.ts';
import { toPhysical } from '../src/wfdb/signal.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: join(process.cwd(), '..', 'shared', 'data') },
    out: { type: 'string', default: '.bench/eval-af.json' },
    'window-beats': { type: 'string', default: '32' },
  },
});
const dataDir = values.data!;
const windowBeats = Number(values['window-beats']);

interface ChallengeRow {
  record: string;
  label: string;
  call: RhythmCall;
  reason?: string;
  cosen?: number;
  nrmssd?: number;
  templateCorrelation: number;
}

async function evalChallenge(dir: string) {
  const labels = readFileSync(join(dir, 'LABELS.csv'), 'latin1')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((l) => l.split(','));
  const rows: ChallengeRow[] = [];
  for (const [record, label] of labels) {
    const rec = await readRecord(join(dir, record!));
    const a = analyseRhythm(toPhysical(rec.signals[0]!), rec.signals[0]!.samplingFrequency);
    rows.push({
      record: record!,
      label: label!,
      call: a.call,
      reason: a.reason,
      cosen: a.irregularity?.cosen,
      nrmssd: a.irregularity?.nrmssd,
      templateCorrelation: a.templateCorrelation,
    });
  }
  const f1 = (subset: ChallengeRow[]) => {
    const tp = subset.filter((r) => r.label === 'A' && r.call === 'af').length;
    const fn = subset.filter((r) => r.label === 'A' && r.call !== 'af').length;
    const fp = subset.filter((r) => r.label !== 'A' && r.call === 'af').length;
    return { tp, fn, fp, f1: (2 * tp) / (2 * tp + fn + fp) };
  };
  const unclassifiable: Record<string, number> = {};
  for (const r of rows)
    if (r.call === 'unclassifiable') unclassifiable[r.label] = (unclassifiable[r.label] ?? 0) + 1;
  return {
    rows,
    unclassifiableAsNotAf: f1(rows),
    classifiedOnly: f1(rows.filter((r) => r.call !== 'unclassifiable')),
    unclassifiableByLabel: unclassifiable,
  };
}

function evalAfdb(dir: string) {
  const records = readdirSync(dir)
    .filter((f) => /^qrs\d+\.txt$/.test(f))
    .map((f) => f.slice(3, -4))
    .sort();
  const rows: ({ record: string } & AfTimeAgreement)[] = [];
  for (const record of records) {
    const rr = parseRrTable(readFileSync(join(dir, `qrs${record}.txt`), 'latin1'));
    const changes = parseRhythmListing(readFileSync(join(dir, `atr${record}.txt`), 'latin1'));
    const calls = afByWindow(rr.intervals, { windowBeats });
    rows.push({ record, ...afTimeAgreement(rr.intervals, rhythmOfBeats(rr.beats, changes), calls) });
  }
  return { windowBeats, rows, gross: poolAgreements(rows) };
}

const challenge = await evalChallenge(join(dataDir, 'challenge-2017'));
const afdb = evalAfdb(join(dataDir, 'afdb-derived'));

const pct = (x: number) => (Number.isNaN(x) ? '    -' : (100 * x).toFixed(1).padStart(5));
console.log('(a) challenge-2017: record  label  call            COSEn  nRMSSD  tSQI');
for (const r of challenge.rows) {
  const f = (x: number | undefined, d: number) => (x === undefined ? '     -' : x.toFixed(d).padStart(6));
  console.log(
    `    ${r.record}  ${r.label}  ${r.call.padEnd(14)} ${f(r.cosen, 2)} ${f(r.nrmssd, 3)} ${f(r.templateCorrelation, 2)}${r.reason ? `  (${r.reason})` : ''}`,
  );
}
const c = challenge.unclassifiableAsNotAf;
const k = challenge.classifiedOnly;
console.log(`AF F1 (unclassifiable counted as not AF): ${c.f1.toFixed(3)}  TP ${c.tp} FN ${c.fn} FP ${c.fp}`);
console.log(`AF F1 (classified records only):          ${k.f1.toFixed(3)}  TP ${k.tp} FN ${k.fn} FP ${k.fp}`);
console.log(`unclassifiable by reference label: ${JSON.stringify(challenge.unclassifiableByLabel)}`);
console.log(`\n(b) afdb-derived, windows of ${windowBeats} RR intervals: record  AF h   Se %   Sp %`);
for (const r of afdb.rows) {
  console.log(
    `    ${r.record}  ${(r.afSeconds / 3600).toFixed(1).padStart(4)}  ${pct(r.sensitivity)}  ${pct(r.specificity)}`,
  );
}
const g = afdb.gross;
console.log(
  `gross (time-pooled)  ${(g.afSeconds / 3600).toFixed(1)} h AF  Se ${pct(g.sensitivity)} %  Sp ${pct(g.specificity)} %`,
);

mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(values.out!, `${JSON.stringify({ data: dataDir, challenge, afdb }, null, 2)}\n`);
console.log(`wrote ${values.out}`);
