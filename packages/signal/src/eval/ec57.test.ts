import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../testdata.ts';
import { parseAnnotations, rescaleAnnotations } from '../wfdb/annotation.ts';
import { type BeatEvent, beatsFromSamples, compareBeats, medianAbs } from './ec57.ts';

const micro = join(FIXTURES, 'wfdb-microdb');
const load = (path: string) => parseAnnotations(new Uint8Array(readFileSync(path)));

/** Parses the "N | n v f q o x" rows of a bxb standard report. */
function bxbMatrix(text: string): Record<string, number[]> {
  const rows: Record<string, number[]> = {};
  for (const line of text.split('\n')) {
    const m = /^ ([NVFQOX]) \|((?:\s+\d+)+)$/.exec(line);
    if (m) rows[m[1]!] = m[2]!.trim().split(/\s+/).map(Number);
  }
  return rows;
}

describe('EC57 comparator (bxb port)', () => {
  it('reproduces bxb -f 0 for sqrs against atr on 100s exactly', () => {
    const ref = load(join(micro, '100s.atr')).annotations;
    const test = rescaleAnnotations(load(join(micro, 'expected', '100s.qrs')), 360);
    const r = compareBeats(ref, test, { samplingFrequency: 360, startSample: 0, endSample: 21600 });
    const expected = bxbMatrix(readFileSync(join(micro, 'expected', 'bxb.out'), 'latin1'));
    const m = r.matrix;
    expect([m.N.N, m.N.V, m.N.F, m.N.Q, m.N.O, m.N.X]).toEqual(expected.N);
    expect([m.V.N, m.V.V, m.V.F, m.V.Q, m.V.O, m.V.X]).toEqual(expected.V);
    expect([m.O.N, m.O.V, m.O.F, m.O.Q]).toEqual(expected.O);
    expect([m.X.N, m.X.V, m.X.F, m.X.Q]).toEqual(expected.X);
    expect([r.tp, r.fn, r.fp]).toEqual([74, 0, 0]);
    expect(r.sensitivity).toBe(1);
    expect(r.positivePredictivity).toBe(1);
    expect(r.timingErrors).toHaveLength(74);
  });

  const fs = 100;
  const ref: BeatEvent[] = [100, 200, 300, 400, 500].map((s) => ({ sample: s, code: 1 }));

  it('counts misses and extra detections, and pairs only within the 150 ms window', () => {
    const r = compareBeats(ref, beatsFromSamples([102, 216, 290, 350, 500]), {
      samplingFrequency: fs,
      startSample: 0,
    });
    // 216 is 16 samples (160 ms) from 200: no match; 350 matches neither 300 (290 is closer) nor 400.
    expect([r.tp, r.fn, r.fp]).toEqual([3, 2, 2]);
    expect(Array.from(r.timingErrors)).toEqual([2, -10, 0]);
    expect(medianAbs(r.timingErrors)).toBe(2);
  });

  it('ignores the learning period before the start time and non-beat annotations', () => {
    const withNotes: BeatEvent[] = [...ref, { sample: 450, code: 28 }].sort((a, b) => a.sample - b.sample);
    const r = compareBeats(withNotes, beatsFromSamples([150, 300, 400, 500]), {
      samplingFrequency: fs,
      startSample: 250,
    });
    expect([r.tp, r.fn, r.fp]).toEqual([3, 0, 0]);
  });

  it('does not count test beats inside reference VF episodes', () => {
    const vf: BeatEvent[] = [
      { sample: 100, code: 1 },
      { sample: 150, code: 32 },
      { sample: 180, code: 31 },
      { sample: 260, code: 33 },
      { sample: 300, code: 1 },
    ];
    const r = compareBeats(vf, beatsFromSamples([100, 170, 200, 230, 300]), {
      samplingFrequency: fs,
      startSample: 0,
    });
    expect([r.tp, r.fn, r.fp]).toEqual([2, 0, 0]);
  });
});
