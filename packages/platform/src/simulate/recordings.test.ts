import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeReading } from '@openiomt/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { secondOfRecording } from './bed.ts';
import {
  FIXTURE_RECORDINGS_DIR,
  loadRecordings,
  loopedSamples,
  type RecordedWaveform,
  RecordingError,
  resolveDataDir,
  secondSpan,
} from './recordings.ts';
import { checksum, readRecord } from './wfdb.ts';

async function totalBytes(dir: string): Promise<number> {
  let sum = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    sum += e.isDirectory() ? await totalBytes(p) : (await stat(p)).size;
  }
  return sum;
}

describe('recording fixtures', () => {
  it('are whole 60 s excerpts whose headers carry the right sample counts and checksums', async () => {
    for (const [record, rate] of [
      ['mitdb/101', 360],
      ['mitdb/106', 360],
      ['mitdb/119', 360],
      ['challenge-2015/v102s', 250],
    ] as const) {
      const r = await readRecord(join(FIXTURE_RECORDINGS_DIR, record));
      expect(r.header.frameCount).toBe(60 * rate);
      for (const s of r.signals) {
        expect(s.digital).toHaveLength(60 * rate);
        expect(s.spec.checksum).toBe(checksum(s.digital));
      }
    }
    expect(await totalBytes(FIXTURE_RECORDINGS_DIR)).toBeLessThan(1024 * 1024);
  });

  it('load as three patient recordings with WFDB scaling and numerics vitals', async () => {
    const recs = await loadRecordings(FIXTURE_RECORDINGS_DIR);
    expect(recs.map((r) => r.name)).toEqual(['mitdb-101', 'mitdb-106', 'mitdb-119']);
    const [first, second] = recs as [(typeof recs)[0], (typeof recs)[0]];
    expect(first.ecg).toMatchObject({ code: 'ecg-mlii', rate: 360, factor: 1 / 200, origin: -1024 / 200 });
    expect(first.ppg).toMatchObject({ code: 'ppg', rate: 250, factor: 1 / 1250, origin: 0 });
    expect(first.respiration).toMatchObject({ code: 'respiration', rate: 250 });
    expect(second.ppg).toBeUndefined();
    expect(first.vitals.length).toBeGreaterThan(1000);
    // Missing values (-32768, and 0 from a sensor that is off) never become readings.
    const codes = new Set(first.vitals.flat().map((v) => v.code));
    expect(codes).toEqual(
      new Set([
        'heart-rate',
        'pulse-rate',
        'spo2',
        'respiratory-rate',
        'bp-systolic',
        'bp-diastolic',
        'bp-mean',
      ]),
    );
    for (const v of recs.flatMap((r) => r.vitals.flat())) expect(v.value).toBeGreaterThan(0);
  });

  it('refuse a folder without recordings, naming what was expected', async () => {
    await expect(loadRecordings(join(FIXTURE_RECORDINGS_DIR, 'mitdb'))).rejects.toThrow(RecordingError);
    expect(resolveDataDir('/x', {})).toBe('/x');
    expect(resolveDataDir(undefined, { OPENIOMT_SHARED_DATA: '/data' })).toBe('/data');
  });
});

describe('replay arithmetic', () => {
  it('splits any rate into contiguous one-second spans that add up', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 10_000, noNaN: true }),
        fc.integer({ min: 1, max: 500 }),
        (rate, n) => {
          let next = 0;
          for (let k = 0; k < n; k++) {
            const { from, count } = secondSpan(rate, k);
            expect(from).toBe(next);
            next = from + count;
          }
          expect(next).toBe(Math.floor(n * rate));
        },
      ),
    );
  });

  it('loops over the end of a recording and sends missing samples as null', () => {
    const w: RecordedWaveform = {
      code: 'ppg',
      rate: 4,
      factor: 1,
      origin: 0,
      samples: Int32Array.from([1, 2, -2048, 4, 5]),
      invalid: -2048,
      source: 'test',
    };
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(50), (from, count) => {
        const out = loopedSamples(w, from, count);
        expect(out).toHaveLength(count);
        out.forEach((v, i) => {
          const d = w.samples[(from + i) % 5]!;
          expect(v).toBe(d === -2048 ? null : d);
        });
      }),
    );
  });

  it('makes valid reading messages: one second of each waveform, vitals every N seconds', async () => {
    const [rec] = await loadRecordings(FIXTURE_RECORDINGS_DIR);
    const start = Date.parse('2026-01-01T00:00:00Z');
    for (let second = 0; second < 70; second++) {
      const c = secondOfRecording(rec!, second, start, 5);
      expect(c.waveforms!.map((w) => [w.code, w.data.length])).toEqual([
        ['ecg-mlii', 360],
        ['ppg', 250],
        ['respiration', 250],
      ]);
      expect(c.waveforms![0]!.start).toBe(new Date(start + second * 1000).toISOString());
      expect((c.vitals ?? []).length > 0).toBe(second % 5 === 0);
      const message = {
        v: 1,
        device: 'd',
        seq: second + 1,
        ts: new Date(start + second * 1000 + 1000).toISOString(),
        ...c,
      };
      const decoded = decodeReading(JSON.stringify(message));
      expect(decoded.ok).toBe(true);
    }
  });
});
