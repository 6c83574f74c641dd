import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hrvSummary, instantaneousHeartRate, nnMask, rrFromBeats, windowedHeartRate } from './hrv.ts';

describe('HRV (Task Force 1996 time-domain measures)', () => {
  it('computes SDNN, RMSSD and pNN50 of a short series by hand', () => {
    // RR 0.80 0.85 0.90 0.80 0.75 s: mean 0.82 s; deviations −20 +30 +80 −20 −70 ms → SS = 13 000 ms²,
    // SDNN = √(13 000 / 4) = 57.009 ms. Differences +50 +50 −100 −50 ms → RMSSD = √(17 500 / 4) = 66.144 ms.
    // Only |−100| exceeds 50 ms (exactly 50 does not): NN50 = 1 of 4 differences → pNN50 = 25 %.
    const s = hrvSummary([0.8, 0.85, 0.9, 0.8, 0.75]);
    expect(s.nnCount).toBe(5);
    expect(s.meanNn).toBeCloseTo(0.82, 12);
    expect(s.meanHeartRate).toBeCloseTo(60 / 0.82, 9);
    expect(s.sdnn).toBeCloseTo(57.00877, 4);
    expect(s.rmssd).toBeCloseTo(66.14378, 4);
    expect(s.nn50).toBe(1);
    expect(s.pnn50).toBe(25);
    expect(s.differenceCount).toBe(4);
  });

  it('drops a premature beat and its compensatory pause, and never bridges the gap', () => {
    const rr = [1, 1, 1, 0.6, 1.4, 1, 1, 1];
    expect(Array.from(nnMask(rr))).toEqual([1, 1, 1, 0, 0, 1, 1, 1]);
    const s = hrvSummary(rr);
    expect(s.nnCount).toBe(6);
    expect(s.sdnn).toBe(0);
    expect(s.rmssd).toBe(0);
    expect(s.differenceCount).toBe(4); // (0,1) (1,2) (5,6) (6,7)
  });

  it('excludes implausible intervals and externally rejected ones', () => {
    expect(Array.from(nnMask([0.8, 3, 0.8, 0.1, 0.8]))).toEqual([1, 0, 1, 0, 1]);
    expect(Array.from(nnMask([0.8, 0.8, 0.8], { accept: [true, false, true] }))).toEqual([1, 0, 1]);
    const s = hrvSummary([0.8]);
    expect(s.sdnn).toBeNaN();
    expect(s.rmssd).toBeNaN();
  });

  it('derives RR intervals and heart rates from beat samples', () => {
    const rr = rrFromBeats([0, 80, 170], 100);
    expect(Array.from(rr.intervals)).toEqual([0.8, 0.9]);
    expect(Array.from(rr.times)).toEqual([0.8, 1.7]);
    expect(Array.from(instantaneousHeartRate(rr.intervals))).toEqual([75, 60 / 0.9]);
    expect(() => rrFromBeats([0, 50, 50], 100)).toThrow(/strictly increasing/);
    expect(() => rrFromBeats([0, 50], 0)).toThrow(/samplingFrequency/);
  });

  it('averages heart rate over fixed windows', () => {
    // Beats every 1 s up to 10 s, then every 0.5 s up to 20 s. An interval belongs to the window in which it
    // ends ([start, end)): window 0 holds 9 intervals of 1 s (60 bpm); window 1 the 1-s interval ending at
    // 10 s plus the 20 of 0.5 s (the last window is closed, so the beat at 20 s is in it): 60 · 21 / 11.
    const beats: number[] = [];
    for (let t = 0; t <= 10; t += 1) beats.push(t * 100);
    for (let t = 10.5; t <= 20; t += 0.5) beats.push(t * 100);
    const w = windowedHeartRate(rrFromBeats(beats, 100), 10, { maxDeviation: 1 });
    expect(w).toHaveLength(2);
    expect(w[0]!.heartRate).toBeCloseTo(60, 9);
    expect(w[0]!.beats).toBe(9);
    expect(w[1]!.heartRate).toBeCloseTo(1260 / 11, 9);
    expect(w[1]!.beats).toBe(21);
  });

  it('gives zero variability and the exact rate for any constant rhythm', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.3, max: 2, noNaN: true }), fc.integer({ min: 2, max: 200 }), (rr, n) => {
        const s = hrvSummary(new Array(n).fill(rr));
        expect(s.sdnn).toBeCloseTo(0, 9);
        expect(s.rmssd).toBe(0);
        expect(s.pnn50).toBe(0);
        expect(s.meanHeartRate).toBeCloseTo(60 / rr, 9);
      }),
    );
  });
});
