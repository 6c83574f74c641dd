import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, sharedDataDir } from '../testdata.ts';
import { parseAnnotations, rescaleAnnotations } from './annotation.ts';
import { parseHeader, WfdbHeaderError } from './header.ts';
import { readAnnotations, readRecord, WfdbFileError } from './loader.ts';
import { checksum, toPhysical } from './signal.ts';

const micro = join(FIXTURES, 'wfdb-microdb');

describe('WFDB header', () => {
  it('parses a record line, signal lines and comments, with CRLF endings', () => {
    const h = parseHeader(
      '100 2 360 650000\r\n100.dat 212 200 11 1024 995 -22131 0 MLII\r\n100.dat 212 200 11 1024 1011 20052 0 V5\r\n# 69 M 1085 1629 x1\r\n',
    );
    expect(h.name).toBe('100');
    expect(h.samplingFrequency).toBe(360);
    expect(h.frameCount).toBe(650000);
    expect(h.signals.map((s) => s.description)).toEqual(['MLII', 'V5']);
    expect(h.signals[0]).toMatchObject({
      format: 212,
      gain: 200,
      baseline: 1024,
      adcZero: 1024,
      checksum: -22131,
    });
    expect(h.comments).toEqual(['69 M 1085 1629 x1']);
  });

  it('reads samples per frame, byte offsets, baselines, units and the gain-0 default', () => {
    const h = parseHeader(
      'r 3 250/24000 825000 15:08:24\nr.dat 212x4 0 12 0 1 2 0 I\nr.mat 16+24 249(-55)/mV 12 0 -8 -8177 0 ECG lead II\nr.dat 80 10/bpm\n',
    );
    expect(h.counterFrequency).toBe(24000);
    expect(h.baseTime).toBe('15:08:24');
    expect(h.signals[0]).toMatchObject({ samplesPerFrame: 4, gain: 200, baseline: 0 });
    expect(h.signals[1]).toMatchObject({ byteOffset: 24, gain: 249, baseline: -55, units: 'mV' });
    expect(h.signals[1]!.description).toBe('ECG lead II');
    expect(h.signals[2]).toMatchObject({ format: 80, gain: 10, units: 'bpm' });
  });

  it('defaults the sampling frequency to 250 Hz and accepts fractional rates', () => {
    expect(parseHeader('x 0').samplingFrequency).toBe(250);
    expect(parseHeader('x 0 0.0166666666667/125 1').samplingFrequency).toBeCloseTo(1 / 60, 10);
  });

  it('rejects multi-segment records and missing signal lines with a clear error', () => {
    expect(() => parseHeader('041s/2 7 125 2000\n041s01 1000\n')).toThrow(/multi-segment/);
    expect(() => parseHeader('x 2 360\nx.dat 212\n')).toThrow(WfdbHeaderError);
    expect(() => parseHeader('x 1 360\nx.dat 21z2\n')).toThrow(/format "21z2"/);
  });
});

describe('WFDB signals', () => {
  it('decodes format 212 to the physical values printed by rdsamp (100s, 10 s to 11 s)', async () => {
    const rec = await readRecord(join(micro, '100s'));
    const mlii = toPhysical(rec.signals[0]!);
    const v5 = toPhysical(rec.signals[1]!);
    const lines = readFileSync(join(micro, 'expected', 'rdsamp.out'), 'latin1')
      .trim()
      .split('\n')
      .slice(2);
    expect(lines).toHaveLength(360);
    lines.forEach((line, k) => {
      const [t, a, b] = line.trim().split(/\s+/).map(Number);
      expect(t).toBeCloseTo((3600 + k) / 360, 3);
      expect(mlii[3600 + k]!.toFixed(3)).toBe(a!.toFixed(3));
      expect(v5[3600 + k]!.toFixed(3)).toBe(b!.toFixed(3));
    });
  });

  it('matches the header checksums and initial values (100s)', async () => {
    const rec = await readRecord(join(micro, '100s'));
    for (const s of rec.signals) {
      expect(s.digital.length).toBe(21600);
      expect(checksum(s.digital)).toBe(s.spec.checksum);
      expect(s.digital[0]).toBe(s.spec.initialValue);
    }
  });

  it('demultiplexes multi-frequency frames (mimicdb 041s01, 212x4)', async () => {
    const rec = await readRecord(join(FIXTURES, 'mimicdb', '041s01'));
    expect(rec.signals.map((s) => s.samplingFrequency)).toEqual([500, 500, 500, 125, 125, 125, 125]);
    expect(rec.signals.map((s) => s.digital.length)).toEqual([4000, 4000, 4000, 1000, 1000, 1000, 1000]);
    for (const s of rec.signals) {
      expect(checksum(s.digital)).toBe(s.spec.checksum);
      expect(s.digital[0]).toBe(s.spec.initialValue);
    }
    const abp = toPhysical(rec.signals[3]!);
    expect(abp[0]).toBeCloseTo((-242 + 1600) / 20, 9);
  });

  it('reads format 16 with a byte offset (Challenge 2017 .mat)', async () => {
    const rec = await readRecord(join(FIXTURES, 'challenge-2017', 'A00004'));
    const s = rec.signals[0]!;
    expect(s.samplingFrequency).toBe(300);
    expect(s.digital.length).toBe(9000);
    expect(s.digital[0]).toBe(s.spec.initialValue);
  });

  it('matches every mitdb header checksum when the shared data is present (else the 100s fixture)', async () => {
    const shared = sharedDataDir();
    const records = shared
      ? readFileSync(join(shared, 'mitdb', 'RECORDS'), 'latin1')
          .trim()
          .split(/\s+/)
          .slice(0, 6)
          .map((r) => join(shared, 'mitdb', r))
      : [join(micro, '100s')];
    for (const path of records) {
      const rec = await readRecord(path);
      for (const s of rec.signals) expect(checksum(s.digital)).toBe(s.spec.checksum);
    }
  });
});

describe('MIT annotations', () => {
  it('reproduces rdann output for 100s.atr', async () => {
    const file = await readAnnotations(join(micro, '100s'), 'atr');
    const lines = readFileSync(join(micro, 'expected', 'rdann.out'), 'latin1')
      .trim()
      .split('\n');
    expect(file.annotations).toHaveLength(lines.length);
    lines.forEach((line, k) => {
      const [cols, aux = ''] = line.split('\t');
      const [, sample, symbol, sub, chan, num] = cols!.trim().split(/\s+/);
      const a = file.annotations[k]!;
      expect([a.sample, a.symbol, a.subtype, a.channel, a.num, a.aux]).toEqual([
        Number(sample),
        symbol,
        Number(sub),
        Number(chan),
        Number(num),
        aux,
      ]);
    });
  });

  it('reproduces ann2rr intervals for 100s.atr', async () => {
    const file = await readAnnotations(join(micro, '100s'), 'atr');
    const beats = file.annotations.filter((a) => a.symbol !== '+').map((a) => a.sample);
    const rr = beats.map((t, k) => t - (k === 0 ? 0 : beats[k - 1]!));
    const expected = readFileSync(join(micro, 'expected', 'ann2rr.out'), 'latin1')
      .trim()
      .split('\n')
      .map(Number);
    expect(rr).toEqual(expected);
  });

  it('applies a declared time resolution (sqrs output at 250 ticks/s on a 360 Hz record)', () => {
    const raw = parseAnnotations(new Uint8Array(readFileSync(join(micro, 'expected', '100s.qrs'))));
    expect(raw.timeResolution).toBe(250);
    const scaled = rescaleAnnotations(raw, 360);
    expect(scaled).toHaveLength(74);
    expect(scaled[0]!.sample).toBe(Math.round((raw.annotations[0]!.sample * 360) / 250));
  });

  it('reads definition annotations and custom labels (Challenge 2014 1003.atr)', async () => {
    const file = await readAnnotations(join(FIXTURES, 'challenge-2014', '1003'), 'atr');
    expect(file.customLabels.get(15)?.symbol).toBe('c');
    expect(file.customLabels.size).toBe(6);
    expect(file.annotations.filter((a) => a.symbol === 'N')).toHaveLength(957);
  });
});

describe('WFDB files missing or cut short', () => {
  const dir = mkdtempSync(join(tmpdir(), 'openiomt-wfdb-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the missing header and says the path is the record without extension', async () => {
    const err = await readRecord(join(micro, '100')).catch((e) => e);
    expect(err).toBeInstanceOf(WfdbFileError);
    expect(err).toMatchObject({ problem: 'no-header' });
    expect(err.message).toContain(
      `no WFDB header ${join(micro, '100')}.hea: give the record path without extension`,
    );
    // The folder holds other records: they are named, the one asked for is not among them.
    expect(err.message).toContain(`${micro} holds 2 records: 100a, 100s`);
    expect((await readRecord(micro).catch((e) => e)).message).toContain(
      `${micro} is a folder of records: name one, e.g. ${join(micro, '100a')}`,
    );
    await expect(readRecord('')).rejects.toThrow(/^no record given: give the record path without extension/);
  });

  it('names a signal file the header lists but the folder lacks (Challenge 2014 1003: header only)', async () => {
    const err = await readRecord(join(FIXTURES, 'challenge-2014', '1003')).catch((e) => e);
    expect(err).toMatchObject({ problem: 'no-signal-file' });
    expect(err.message).toMatch(
      /names the signal file 1003\.dat, which is not in .*: .*put 1003\.dat beside 1003\.hea$/,
    );
  });

  it('names a missing annotation file, and the header file in a header error', async () => {
    await expect(readAnnotations(join(micro, '100s'), 'qrs')).rejects.toMatchObject({
      problem: 'no-annotations',
    });
    writeFileSync(join(dir, 'bad.hea'), 'bad 1 360\nbad.dat 21z2\n');
    await expect(readRecord(join(dir, 'bad'))).rejects.toThrow(
      `${join(dir, 'bad')}.hea: signal 0 format "21z2"`,
    );
  });

  it('decodes a data file cut short as far as it goes and reports how much it holds', async () => {
    copyFileSync(join(micro, '100s.hea'), join(dir, '100s.hea'));
    // Format 212, two signals: 3 bytes a frame; 1000 whole frames and a stray byte.
    writeFileSync(join(dir, '100s.dat'), readFileSync(join(micro, '100s.dat')).subarray(0, 3001));
    const cut = await readRecord(join(dir, '100s'));
    expect(cut.shortFiles).toEqual([{ fileName: '100s.dat', frames: 1000, declaredFrames: 21600 }]);
    const whole = await readRecord(join(micro, '100s'));
    expect(whole.shortFiles).toEqual([]);
    for (const [i, s] of cut.signals.entries())
      expect(Array.from(s.digital)).toEqual(Array.from(whole.signals[i]!.digital.subarray(0, 1000)));
  });
});
