import { describe, expect, it } from 'vitest';
import { afByWindow, isAfLike, MIN_RR_FOR_AF, rrIrregularity, turningPointRatio } from './af.ts';

/** Deterministic pseudo-random numbers in [0, 1) (a 32-bit LCG), so the tests are reproducible. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const sinus = (n: number, rand: () => number) =>
  Array.from({ length: n }, () => 0.85 + 0.02 * (rand() - 0.5));
const fibrillation = (n: number, rand: () => number) => Array.from({ length: n }, () => 0.4 + 0.8 * rand());

describe('RR irregularity features', () => {
  it('scores a regular bigeminy as regular despite its large RMSSD (hand-computed)', () => {
    // 0.8, 0.9 alternating, 12 intervals. Templates x[0..10]: six of 0.8 and five of 0.9 → B = 15 + 10 = 25
    // pairs within r = 30 ms, and every one also matches at the next point (A = 25): SampEn = 0.
    // COSEn = 0 + ln(0.06) − ln(0.85) = −2.6507; nRMSSD = 0.1 / 0.85 = 0.11765.
    const f = rrIrregularity(Array.from({ length: 12 }, (_, i) => (i % 2 ? 0.9 : 0.8)));
    expect(f.sampleEntropy).toBeCloseTo(0, 12);
    expect(f.r).toBe(0.03);
    expect(f.cosen).toBeCloseTo(Math.log(0.06) - Math.log(0.85), 9);
    expect(f.nrmssd).toBeCloseTo(0.1 / 0.85, 9);
    expect(isAfLike(f)).toBe(false);
  });

  it('counts turning points against the random-series expectation', () => {
    expect(turningPointRatio([1, 2, 1, 2, 1])).toBeCloseTo(3 / 2, 12);
    expect(turningPointRatio([1, 2, 3, 4, 5])).toBe(0);
    expect(turningPointRatio([1, 2])).toBeNaN();
  });

  it('calls random RR AF and sinus rhythm not AF, and makes no call on too few intervals', () => {
    const rand = lcg(7);
    for (let k = 0; k < 20; k++) {
      expect(isAfLike(rrIrregularity(fibrillation(40, rand)))).toBe(true);
      expect(isAfLike(rrIrregularity(sinus(40, rand)))).toBe(false);
    }
    const short = rrIrregularity(fibrillation(MIN_RR_FOR_AF - 1, rand));
    expect(short.cosen).toBeNaN();
    expect(isAfLike(short)).toBe(false);
  });

  it('flags the AF part of a long series window by window and skips invalid intervals', () => {
    const rand = lcg(11);
    const rr = [...sinus(200, rand), ...fibrillation(200, rand)];
    const calls = afByWindow(rr, { windowBeats: 32 });
    const share = (from: number, to: number) =>
      calls.slice(from, to).filter((c) => c === 1).length / (to - from);
    expect(share(0, 180)).toBe(0);
    expect(share(220, 400)).toBe(1);
    const valid = rr.map((_, i) => i < 100 || i >= 120);
    const masked = afByWindow(rr, { windowBeats: 32, valid });
    expect(Array.from(masked.slice(100, 120)).every((c) => c === -1)).toBe(true);
  });
});
