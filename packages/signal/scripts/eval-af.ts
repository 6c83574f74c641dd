// AF screening evaluation.
//  (a) challenge-2017: record-level AF vs everything else on single-lead AliveCor ECGs (QRS detection,
//      signal quality, RR irregularity, P-wave consistency). "unclassifiable" (quality gate) is counted as a
//      "not AF" call in the primary F1; the F1 over classified records only is reported beside it, and so is
//      the F1 of RR irregularity alone (the screen before P waves were used), from the same run.
//  (b) afdb-derived: per-interval AF calls from the RR tables (windows of 32 intervals), scored as AF time
//      sensitivity/specificity against the reference rhythm (AFIB = AF; AFL, J, N = not AF). RR only: the
//      export has no ECG.
//  (c) mitdb: 20-s and 30-s windows of one reference rhythm, each lead on its own: AF (AFIB) vs every other
//      rhythm, RR irregularity alone vs the full screen. The P-wave thresholds (ecg/atrial.ts) were chosen on
//      the first lead (highest and 90th percentile of the P-wave consistency of its AF windows); the second
//      lead and (a) are checks. Both (a) and (c) also report a sweep of the two thresholds.
//  (d) mitdb, live: each lead streamed through WaveformStream in 1-s chunks, as a device sends it; every AF
//      call the stream makes (one per 10-s window, over the last 60 s) is scored against the reference rhythm
//      of those 60 s (AF throughout or no AF at all; mixed stretches are not scored), with the false AF
//      onsets (each would raise an AF alarm) during rhythm without AF. RR alone vs the full screen.
// Usage: npx tsx packages/signal/scripts/eval-af.ts --data /work/shared/data [--out .bench/eval-af.json]
//        [--window-beats 32] [--mitdb-windows 20,30]
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { afByWindow, isAfLike } from '../src/ecg/af.ts';
import { P_WAVES_ABSENT, P_WAVES_PRESENT, screenAf } from '../src/ecg/atrial.ts';
import { analyseRhythm, type RhythmAnalysis, type RhythmCall } from '../src/ecg/rhythm.ts';
import {
  type AfTimeAgreement,
  afTimeAgreement,
  parseRhythmListing,
  parseRrTable,
  poolAgreements,
  rhythmChanges,
  rhythmOfBeats,
  singleRhythmWindows,
} from '../src/eval/afdb.ts';
import { type LiveAfCall, liveAfCalls, scoreLiveAf } from '../src/eval/live-af.ts';
import { sharedDataPath } from '../src/testdata.ts';
import { readAnnotations, readRecord } from '../src/wfdb/loader.ts';
import { toPhysical } from '../src/wfdb/signal.ts';
import {
  HELP_OPTION,
  positiveNumber,
  recordsOf,
  runScript,
  ScriptError,
  scriptArgs,
  wholeNumber,
} from './script-cli.ts';

const USAGE = `
Usage: npx tsx packages/signal/scripts/eval-af.ts [options]   (npm run eval:af)

Evaluates the AF screen on the shared reference data (see the comment at the top of this script).

Options:
  --data <dir>              the shared data folder (default OPENIOMT_SHARED_DATA, or ../shared/data beside the repository), holding
                              challenge-2017/  LABELS.csv and the records it names (.hea, .mat)
                              afdb-derived/    qrs<record>.txt RR tables with atr<record>.txt rhythm listings
                              mitdb/           RECORDS, and each record's .hea, .dat and .atr
  --window-beats <n>        RR intervals per AF call on afdb-derived (default 32)
  --mitdb-windows <s,...>   window lengths in seconds on mitdb (default 20,30)
  --out <file>              where the JSON results go (default .bench/eval-af.json)
  -h, --help                this text
`;

const { values } = scriptArgs(USAGE, () =>
  parseArgs({
    options: {
      data: { type: 'string', default: sharedDataPath() },
      out: { type: 'string', default: '.bench/eval-af.json' },
      'window-beats': { type: 'string', default: '32' },
      'mitdb-windows': { type: 'string', default: '20,30' },
      help: HELP_OPTION,
    },
  }),
);
const dataDir = values.data!;
const windowBeats = await runScript(() => wholeNumber('--window-beats', values['window-beats']!, 2));
const mitdbWindows = await runScript(() =>
  values['mitdb-windows']!.split(',').map((w) => positiveNumber('--mitdb-windows', w)),
);

/** A file the evaluation needs, or a ScriptError saying which and where the data should be. */
function readNeeded(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch (e) {
    throw new ScriptError(
      `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): --data must be the shared data folder holding challenge-2017/, afdb-derived/ and mitdb/ (see --help)`,
    );
  }
}

/** P-wave thresholds of the sensitivity analysis: each one varied with the other at its chosen value. */
const SWEEP = [
  ...[0.4, 0.45, 0.6].map((present) => ({ present, absent: P_WAVES_ABSENT })),
  ...[0.2, 0.4].map((absent) => ({ present: P_WAVES_PRESENT, absent })),
];
const sweepName = (t: { present: number; absent: number }) => `present ≥ ${t.present}, absent < ${t.absent}`;

interface Row {
  label: string;
  /** The calls the full screen would make at each SWEEP setting (not written to the JSON). */
  sweep: RhythmCall[];
  call: RhythmCall;
  /** The call of RR irregularity alone (before P waves were used); "unclassifiable" as `call`. */
  rrOnly: RhythmCall;
  basis?: string;
  reason?: string;
  cosen?: number;
  nrmssd?: number;
  pWave?: number;
  /** Beats whose P-wave window was used. */
  pWaveBeats?: number;
  templateCorrelation: number;
}

function row(label: string, a: RhythmAnalysis): Row {
  const rrOnly = a.irregularity ? (isAfLike(a.irregularity) ? 'af' : 'not-af') : a.call;
  const at = (t: { present: number; absent: number }): RhythmCall =>
    a.irregularity && a.pWaves
      ? screenAf(a.irregularity, a.pWaves, {
          pWavesPresent: t.present,
          pWavesAbsent: t.absent,
          validShare: a.validShare,
        }).af
        ? 'af'
        : 'not-af'
      : a.call;
  return {
    label,
    sweep: SWEEP.map(at),
    call: a.call,
    rrOnly,
    basis: a.basis,
    reason: a.reason,
    cosen: a.irregularity?.cosen,
    nrmssd: a.irregularity?.nrmssd,
    pWave: a.pWaves?.correlation,
    pWaveBeats: a.pWaves?.beats,
    templateCorrelation: a.templateCorrelation,
  };
}

/** F1 of AF against everything else; `classifiedOnly` drops the unclassifiable rows. */
function f1(rows: Row[], afLabel: string, pick: (r: Row) => RhythmCall, classifiedOnly = false) {
  const subset = classifiedOnly ? rows.filter((r) => r.call !== 'unclassifiable') : rows;
  const tp = subset.filter((r) => r.label === afLabel && pick(r) === 'af').length;
  const fn = subset.filter((r) => r.label === afLabel && pick(r) !== 'af').length;
  const fp = subset.filter((r) => r.label !== afLabel && pick(r) === 'af').length;
  return { tp, fn, fp, f1: (2 * tp) / (2 * tp + fn + fp) };
}

async function evalChallenge(dir: string) {
  const labels = readNeeded(join(dir, 'LABELS.csv'))
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((l) => l.split(','));
  const rows: ({ record: string } & Row)[] = [];
  for (const [record, label] of labels) {
    const rec = await readRecord(join(dir, record!));
    const a = analyseRhythm(toPhysical(rec.signals[0]!), rec.signals[0]!.samplingFrequency);
    rows.push({ record: record!, ...row(label!, a) });
  }
  const unclassifiable: Record<string, number> = {};
  for (const r of rows)
    if (r.call === 'unclassifiable') unclassifiable[r.label] = (unclassifiable[r.label] ?? 0) + 1;
  return {
    rows,
    unclassifiableAsNotAf: f1(rows, 'A', (r) => r.call),
    classifiedOnly: f1(rows, 'A', (r) => r.call, true),
    rrOnlyUnclassifiableAsNotAf: f1(rows, 'A', (r) => r.rrOnly),
    pWaveThresholdSweep: SWEEP.map((t, i) => ({ ...t, ...f1(rows, 'A', (r) => r.sweep[i]!) })),
    unclassifiableByLabel: unclassifiable,
  };
}

function evalAfdb(dir: string) {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    files = [];
  }
  const records = files
    .filter((f) => /^qrs\d+\.txt$/.test(f))
    .map((f) => f.slice(3, -4))
    .sort();
  if (records.length === 0)
    throw new ScriptError(
      `no RR tables (qrs<record>.txt) in ${dir}: --data must be the shared data folder holding challenge-2017/, afdb-derived/ and mitdb/ (see --help)`,
    );
  const rows: ({ record: string } & AfTimeAgreement)[] = [];
  for (const record of records) {
    const rr = parseRrTable(readNeeded(join(dir, `qrs${record}.txt`)));
    const changes = parseRhythmListing(readNeeded(join(dir, `atr${record}.txt`)));
    const calls = afByWindow(rr.intervals, { windowBeats });
    rows.push({ record, ...afTimeAgreement(rr.intervals, rhythmOfBeats(rr.beats, changes), calls) });
  }
  return { windowBeats, rows, gross: poolAgreements(rows) };
}

/** Nearest-rank percentile of finite values (NaN when there are none). */
function percentile(values: number[], p: number): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)]! : Number.NaN;
}

/** Counts rows by reference rhythm and call, e.g. { "N → not-af": 40 }. */
function countBy(rows: Row[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[`${r.label} → ${r.call}`] = (out[`${r.label} → ${r.call}`] ?? 0) + 1;
  return out;
}

/** Each record of a WFDB directory with its reference rhythm changes, and its first two signals (leads). */
async function* mitdbLeads(dir: string) {
  for (const record of recordsOf(dir, '--data <dir>/mitdb')) {
    const rec = await readRecord(join(dir, record));
    const changes = rhythmChanges((await readAnnotations(join(dir, record), 'atr')).annotations);
    for (const li of [0, 1]) {
      const sig = rec.signals[li];
      if (sig) yield { record, li, sig, changes };
    }
  }
}

async function evalMitdb(dir: string, windowS: number) {
  const leads = [0, 1].map(() => [] as ({ record: string; lead: string; startS: number } & Row)[]);
  for await (const { record, li, sig, changes } of mitdbLeads(dir)) {
    const fs = sig.samplingFrequency;
    const x = toPhysical(sig);
    const length = Math.round(windowS * fs);
    for (const w of singleRhythmWindows(changes, x.length, length)) {
      const a = analyseRhythm(x.subarray(w.start, w.start + length), fs);
      leads[li]!.push({ record, lead: sig.spec.description, startS: w.start / fs, ...row(w.rhythm, a) });
    }
  }
  return leads.map((rows, li) => {
    const classified = rows.filter((r) => r.call !== 'unclassifiable');
    const afP = classified.filter((r) => r.label === 'AFIB' && r.pWave !== undefined).map((r) => r.pWave!);
    return {
      windowS,
      lead: li + 1,
      windows: rows.length,
      unclassifiable: rows.length - classified.length,
      afWindows: rows.filter((r) => r.label === 'AFIB').length,
      nonAfWindows: classified.filter((r) => r.label !== 'AFIB').length,
      rrOnly: f1(classified, 'AFIB', (r) => r.rrOnly),
      screen: f1(classified, 'AFIB', (r) => r.call),
      pWaveThresholdSweep: SWEEP.map((t, i) => ({ ...t, ...f1(classified, 'AFIB', (r) => r.sweep[i]!) })),
      afPWaveHighest: percentile(afP, 100),
      afPWave90th: percentile(afP, 90),
      changedByPWaves: countBy(classified.filter((r) => r.call !== r.rrOnly)),
      // Only the windows the full screen gets wrong, to keep the JSON small.
      errors: rows.filter((r) => (r.label === 'AFIB') !== (r.call === 'af')),
    };
  });
}

async function evalMitdbLive(dir: string) {
  const leads = [0, 1].map(() => [] as LiveAfCall[][]);
  for await (const { li, sig, changes } of mitdbLeads(dir))
    leads[li]!.push(liveAfCalls(toPhysical(sig), sig.samplingFrequency, changes));
  return leads.map((calls, li) => {
    // Each scored call stands for the 10 s of monitoring since the one before.
    const notAfHours = calls.flat().filter((c) => c.label === 'not-af').length / 360;
    return {
      lead: li + 1,
      notAfHours,
      rrOnly: scoreLiveAf(calls, (c) => c.rrOnly),
      screen: scoreLiveAf(calls, (c) => c.af),
    };
  });
}

const { challenge, afdb, mitdb, live } = await runScript(async () => {
  // Every part's data is looked for before the long runs, so a wrong --data fails at once.
  readNeeded(join(dataDir, 'challenge-2017', 'LABELS.csv'));
  recordsOf(join(dataDir, 'mitdb'), '--data <dir>/mitdb');
  const afdb = evalAfdb(join(dataDir, 'afdb-derived'));
  const challenge = await evalChallenge(join(dataDir, 'challenge-2017'));
  const mitdb = [];
  for (const w of mitdbWindows) mitdb.push(...(await evalMitdb(join(dataDir, 'mitdb'), w)));
  const live = await evalMitdbLive(join(dataDir, 'mitdb'));
  return { challenge, afdb, mitdb, live };
});

const pct = (x: number) => (Number.isNaN(x) ? '    -' : (100 * x).toFixed(1).padStart(5));
const num = (x: number | undefined, d: number) =>
  x === undefined || Number.isNaN(x) ? '     -' : x.toFixed(d).padStart(6);
console.log('(a) challenge-2017: record  label  call            COSEn  nRMSSD  tSQI  P-wave  basis / reason');
for (const r of challenge.rows) {
  console.log(
    `    ${r.record}  ${r.label}  ${r.call.padEnd(14)} ${num(r.cosen, 2)} ${num(r.nrmssd, 3)} ${num(r.templateCorrelation, 2)} ${num(r.pWave, 2)}  ${r.basis ?? `(${r.reason})`}`,
  );
}
const show = (name: string, c: { f1: number; tp: number; fn: number; fp: number }) =>
  console.log(`${name.padEnd(50)} ${c.f1.toFixed(3)}  TP ${c.tp} FN ${c.fn} FP ${c.fp}`);
show('AF F1 (unclassifiable counted as not AF):', challenge.unclassifiableAsNotAf);
show('AF F1 (classified records only):', challenge.classifiedOnly);
show('AF F1, RR irregularity alone (unclassifiable as not AF):', challenge.rrOnlyUnclassifiableAsNotAf);
console.log(`unclassifiable by reference label: ${JSON.stringify(challenge.unclassifiableByLabel)}`);
console.log('P-wave threshold sweep (F1, unclassifiable as not AF):');
for (const w of challenge.pWaveThresholdSweep)
  console.log(`    ${sweepName(w).padEnd(28)} ${w.f1.toFixed(3)}`);
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
console.log('\n(c) mitdb, windows of one reference rhythm, AF (AFIB) vs the rest, per lead');
for (const m of mitdb) {
  const s = (c: { tp: number; fn: number; fp: number }) =>
    `TP ${c.tp} FN ${c.fn} FP ${c.fp} (Se ${pct(c.tp / (c.tp + c.fn))} %, Sp ${pct(1 - c.fp / m.nonAfWindows)} %)`;
  console.log(
    `    ${m.windowS}-s windows, lead ${m.lead}: ${m.windows} (${m.afWindows} AF, ${m.unclassifiable} unclassifiable); ` +
      `P-wave consistency of the AF windows: 90th percentile ${m.afPWave90th.toFixed(2)}, highest ${m.afPWaveHighest.toFixed(2)}`,
  );
  console.log(`      RR irregularity alone:                       ${s(m.rrOnly)}`);
  console.log(
    `      RR + P waves (${sweepName({ present: P_WAVES_PRESENT, absent: P_WAVES_ABSENT })}): ${s(m.screen)}`,
  );
  for (const w of m.pWaveThresholdSweep) console.log(`        ${sweepName(w).padEnd(36)} ${s(w)}`);
}
console.log('\n(d) mitdb streamed live (1-s chunks), AF calls over the last 60 s, every 10 s, per lead');
for (const m of live) {
  const s = (c: ReturnType<typeof scoreLiveAf>) =>
    `Se ${pct(c.sensitivity)} % of ${c.afCalls}, Sp ${pct(c.specificity)} % of ${c.notAfCalls}, ` +
    `false AF onsets ${c.falseOnsets} (${(c.falseOnsets / (m.notAfHours / 24)).toFixed(1)} per 24 h without AF)`;
  console.log(`    lead ${m.lead}, ${m.notAfHours.toFixed(1)} h without AF scored`);
  console.log(`      RR irregularity alone: ${s(m.rrOnly)}`);
  console.log(`      RR + P waves:          ${s(m.screen)}`);
}

mkdirSync(dirname(values.out!), { recursive: true });
const json = JSON.stringify(
  { data: dataDir, challenge, afdb, mitdb, live },
  (k, v) => (k === 'sweep' ? undefined : v),
  2,
);
writeFileSync(values.out!, `${json}\n`);
console.log(`wrote ${values.out}`);
