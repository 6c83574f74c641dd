import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  detectRecordQrs,
  ecgSignalIndex,
  fusableLeadIndices,
  looksLikeEcg,
  NoEcgSignalError,
  qrsCommand,
} from './cli.ts';
import { FIXTURES } from './testdata.ts';
import { isBeatCode } from './wfdb/codes.ts';
import { readAnnotations, readRecord } from './wfdb/loader.ts';

describe('qrsCommand', () => {
  it('returns sample indices in the record numbering, close to the reference beats', async () => {
    const path = join(FIXTURES, 'wfdb-microdb', '100s');
    const { beats, warnings } = await qrsCommand(path);
    expect(warnings).toEqual([]);
    const ref = (await readAnnotations(path, 'atr')).annotations.filter((a) => isBeatCode(a.code));
    expect(beats).toHaveLength(ref.length);
    for (const [k, b] of beats.entries()) expect(Math.abs(b - ref[k]!.sample)).toBeLessThan(0.05 * 360);
    expect((await qrsCommand(`${path}.hea`)).beats).toEqual(beats);
  });

  it('fails with the file name when the record does not exist, and on an empty path', async () => {
    await expect(qrsCommand(join(FIXTURES, 'nope'))).rejects.toThrow(
      /^no WFDB header .*nope\.hea: give the record path/,
    );
    await expect(qrsCommand(' ')).rejects.toThrow(/^no record given/);
  });

  it('leaves a disconnected or noisy second lead out of the fusion', async () => {
    const path = join(FIXTURES, 'wfdb-microdb', '100s');
    const record = await readRecord(path);
    expect(fusableLeadIndices(record)).toEqual([0, 1]);
    const alone = detectRecordQrs(record, { multiLead: false });
    const v5 = record.signals[1]!;
    // Contact noise: ±0.5 mV white noise with a sharp 2-mV artefact every 0.37 s (not at the heart rate).
    let s = 1;
    const noise = Int32Array.from(v5.digital, (_, i) => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const spike = i % 133 < 3 ? 400 * (i % 2 ? -1 : 1) : 0;
      return 1024 + Math.round((s / 2 ** 32 - 0.5) * 200) + spike;
    });
    for (const digital of [new Int32Array(v5.digital.length).fill(1024), noise]) {
      const damaged = { ...record, signals: [record.signals[0]!, { ...v5, digital }] };
      expect(fusableLeadIndices(damaged)).toEqual([0]);
      expect(Array.from(detectRecordQrs(damaged))).toEqual(Array.from(alone));
    }
  });
});

describe('which signal qrsCommand analyses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'openiomt-qrs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const micro = join(FIXTURES, 'wfdb-microdb');
  /** A copy of 100s with its header's signal lines rewritten by `edit`. */
  const variant = (
    name: string,
    edit: (line: string) => string,
    data = readFileSync(join(micro, '100s.dat')),
  ) => {
    const [first, ...rest] = readFileSync(join(micro, '100s.hea'), 'latin1').split('\n');
    const lines = [
      first!.replace('100s', name),
      ...rest.map((l) => (l.startsWith('100s.dat') ? edit(l) : l)),
    ];
    writeFileSync(join(dir, `${name}.hea`), lines.join('\n').replaceAll('100s.dat', `${name}.dat`));
    writeFileSync(join(dir, `${name}.dat`), data);
    return join(dir, name);
  };
  const reference = qrsCommand(join(micro, '100s'));

  it('finds ECG in µV as in mV, with or without the units written (default mV)', async () => {
    const { beats } = await reference;
    const uv = variant('uv', (l) => l.replace(' 200 ', ' 0.2/uV '));
    expect((await readRecord(uv)).signals.map((x) => [x.spec.units, x.spec.gain])).toEqual([
      ['uV', 0.2],
      ['uV', 0.2],
    ]);
    expect(await qrsCommand(uv)).toEqual({ beats, warnings: [] });
    const mv = variant('mv', (l) => l.replace(' 200 ', ' 200/mV '));
    expect(await qrsCommand(mv)).toEqual({ beats, warnings: [] });
  });

  it('takes a voltage signal at any waveform rate as ECG, never a trend or a signal named as something else', async () => {
    const record = await readRecord(join(micro, '100s'));
    const ecg = record.signals[0]!;
    for (const fs of [62.5, 128, 250, 500, 1000])
      expect(looksLikeEcg({ ...ecg, samplingFrequency: fs })).toBe(true);
    expect(looksLikeEcg({ ...ecg, samplingFrequency: 1 / 60 })).toBe(false);
    for (const description of ['PLETH', 'RESP', 'Resp. Imp.', 'ABP', 'CO2', 'EEG (C4-A1)'])
      expect(looksLikeEcg({ ...ecg, spec: { ...ecg.spec, description } })).toBe(false);
    for (const description of ['MLII', 'V5', 'ECG', 'ECG lead II', 'II', 'aVF', ''])
      expect(looksLikeEcg({ ...ecg, spec: { ...ecg.spec, description } })).toBe(true);
  });

  it('refuses a record with no ECG, listing its signals and the way to choose one', async () => {
    // Per-minute numerics: heart rate in bpm and SpO2 in %, as in MIMIC-II numerics records.
    const numerics = join(dir, 'n');
    writeFileSync(
      `${numerics}.hea`,
      'n 2 0.0166666666667/125 100\nn.dat 16 10/bpm 16 0 0 0 0 HR\nn.dat 16 10/% 16 0 0 0 0 SpO2\n',
    );
    writeFileSync(`${numerics}.dat`, new Uint8Array(400).fill(3));
    const err = await qrsCommand(numerics).catch((e) => e);
    expect(err).toBeInstanceOf(NoEcgSignalError);
    expect(err.message).toBe(
      'no signal of record "n" looks like an ECG (units mV or µV, at least 50 Hz, not named as pressure, pleth, respiration, EEG...): its signals are 0 HR (bpm, 1 per 60 s), 1 SpO2 (%, 1 per 60 s). To analyse one anyway, choose it with --signal <n|name>',
    );
    const chosen = await qrsCommand(numerics, { signal: 'hr' });
    expect(chosen.warnings).toEqual([
      'signal 0 (HR, bpm, 1 per 60 s) does not look like an ECG; detecting beats in it as asked',
    ]);
    await expect(qrsCommand(numerics, { signal: '2' })).rejects.toThrow(
      'record "n" has no signal "2": give --signal a number from 0 to 1 or a name; its signals are 0 HR (bpm, 1 per 60 s), 1 SpO2 (%, 1 per 60 s)',
    );
    const annotationsOnly = await readRecord(join(micro, '100a'));
    expect(() => ecgSignalIndex(annotationsOnly)).toThrow('record "100a" has no signals to analyse');
  });

  it('analyses the one signal --signal names, by number or name', async () => {
    const path = join(micro, '100s');
    const v5 = await qrsCommand(path, { signal: 'V5' });
    expect(v5).toEqual(await qrsCommand(path, { signal: '1' }));
    expect(v5.warnings).toEqual([]);
    expect(v5.beats).toEqual(Array.from(detectRecordQrs(await readRecord(path), { signal: 1 })));
  });

  it('warns when the signal file holds fewer samples than the header declares, and analyses what it holds', async () => {
    const cut = variant('cut', (l) => l, readFileSync(join(micro, '100s.dat')).subarray(0, 3 * 3600));
    const { beats, warnings } = await qrsCommand(cut);
    expect(warnings).toEqual([
      'signal file cut.dat holds 3600 of the 21600 samples per signal the header declares (10 s of 60 s): the file is cut short, and only what it holds is analysed',
    ]);
    const all = (await reference).beats;
    expect(beats.length).toBeGreaterThan(5);
    expect(beats).toEqual(all.slice(0, beats.length));
    expect(beats.at(-1)).toBeLessThan(3600);
  });
});
