import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { afByWindow } from '../ecg/af.ts';
import { FIXTURES } from '../testdata.ts';
import {
  afTimeAgreement,
  parseRhythmListing,
  parseRrTable,
  poolAgreements,
  rhythmChanges,
  rhythmOfBeats,
  singleRhythmWindows,
} from './afdb.ts';

const dir = join(FIXTURES, 'afdb-derived');
const read = (name: string) => readFileSync(join(dir, name), 'latin1');

describe('afdb text exports and AF time agreement', () => {
  it('parses the rhythm listing and the RR table of the 07910 excerpt', () => {
    const changes = parseRhythmListing(read('atr07910e.txt'));
    expect(changes).toEqual([
      { sample: 103, rhythm: 'N' },
      { sample: 806384, rhythm: 'AFIB' },
      { sample: 864893, rhythm: 'N' },
    ]);
    const rr = parseRrTable(read('qrs07910e.txt'));
    expect(rr.beats[0]).toBe(731111);
    expect(rr.intervals[0]).toBe(1.128);
    expect(rr.beats).toHaveLength(726);
    expect(() => parseRrTable('1\tx\t2')).toThrow(/line 1/);
    expect(() => parseRhythmListing('header\n  0:01  30  N  0 0 0\t(N')).toThrow(/line 2/);
  });

  it('labels beats by the rhythm interval they fall in', () => {
    const changes = [
      { sample: 10, rhythm: 'N' },
      { sample: 100, rhythm: 'AFIB' },
    ];
    expect(rhythmOfBeats([5, 10, 99, 100, 500], changes)).toEqual(['', 'N', 'N', 'AFIB', 'AFIB']);
  });

  it('weights agreement by interval duration (hand-computed)', () => {
    // AF: 1.0 s called, 0.5 s missed; other: 2.0 s correctly not called, 0.25 s falsely called, 0.8 s no call.
    const a = afTimeAgreement([1, 0.5, 2, 0.25, 0.8], ['AFIB', 'AFIB', 'N', 'AFL', 'N'], [1, 0, 0, 1, -1]);
    expect(a.sensitivity).toBeCloseTo(1 / 1.5, 12);
    expect(a.specificity).toBeCloseTo(2.8 / 3.05, 12);
    const pooled = poolAgreements([a, a]);
    expect(pooled.afSeconds).toBeCloseTo(3, 12);
    expect(pooled.sensitivity).toBeCloseTo(a.sensitivity, 12);
  });

  it('finds the 234-s AF episode of the excerpt and little AF in the sinus rhythm around it', () => {
    const rr = parseRrTable(read('qrs07910e.txt'));
    const truth = rhythmOfBeats(rr.beats, parseRhythmListing(read('atr07910e.txt')));
    const a = afTimeAgreement(rr.intervals, truth, afByWindow(rr.intervals));
    expect(a.afSeconds).toBeCloseTo(233.5, 0);
    expect(a.sensitivity).toBeGreaterThan(0.95);
    expect(a.specificity).toBeGreaterThan(0.95);
  });

  it('reads rhythm changes from WFDB annotations and cuts windows of one rhythm', () => {
    const annotations = JSON.parse(
      readFileSync(join(FIXTURES, 'mitdb-excerpt', '208e.atr.json'), 'latin1'),
    ) as { sample: number; code: number; aux: string }[];
    expect(rhythmChanges(annotations)).toEqual([{ sample: 9, rhythm: 'N' }]);
    expect(
      rhythmChanges([
        { sample: 5, code: 28, aux: '(AFIB\0' },
        { sample: 6, code: 28, aux: 'x' },
      ]),
    ).toEqual([{ sample: 5, rhythm: 'AFIB' }]);
    const changes = [
      { sample: 9, rhythm: 'N' },
      { sample: 250, rhythm: 'AFIB' },
      { sample: 420, rhythm: 'AFIB' },
      { sample: 610, rhythm: 'N' },
    ];
    // 100-sample windows: [0,100) and [100,200) are N (the first label also covers samples 0–8), [200,300)
    // changes rhythm, then AF until 610.
    expect(singleRhythmWindows(changes, 1000, 100)).toEqual([
      { start: 0, rhythm: 'N' },
      { start: 100, rhythm: 'N' },
      { start: 300, rhythm: 'AFIB' },
      { start: 400, rhythm: 'AFIB' },
      { start: 500, rhythm: 'AFIB' },
      { start: 700, rhythm: 'N' },
      { start: 800, rhythm: 'N' },
      { start: 900, rhythm: 'N' },
    ]);
    expect(singleRhythmWindows([], 1000, 100)).toEqual([]);
    expect(singleRhythmWindows(changes, 1000, 0)).toEqual([]);
  });
});
