import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../testdata.ts';
import { readRecord } from '../wfdb/loader.ts';
import { toPhysical } from '../wfdb/signal.ts';
import { respirationRate } from './rate.ts';

/** Deterministic pseudo-random numbers in [0, 1) (a 32-bit LCG), so the tests are reproducible. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Synthetic impedance respiration at `perMinute`: an asymmetric breath (fundamental plus a second harmonic),
 * a slow baseline drift, a small cardiac oscillation at 1.3 Hz and white noise.
 */
function syntheticResp(fs: number, seconds: number, perMinute: number, rand: () => number): Float64Array {
  const x = new Float64Array(Math.round(fs * seconds));
  const f = perMinute / 60;
  const phase = 2 * Math.PI * rand();
  for (let i = 0; i < x.length; i++) {
    const t = i / fs;
    const theta = 2 * Math.PI * f * t + phase;
    x[i] =
      Math.sin(theta) +
      0.3 * Math.sin(2 * theta) +
      0.5 * Math.sin(2 * Math.PI * 0.01 * t) +
      0.05 * Math.sin(2 * Math.PI * 1.3 * t) +
      0.1 * (rand() - 0.5);
  }
  return x;
}

describe('respiration rate', () => {
  it('measures synthetic breathing of known rate at any sampling rate', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(10, 25, 50, 62.5, 125, 250, 500),
        fc.double({ min: 6, max: 40, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        (fs, perMinute, seed) => {
          const r = respirationRate(syntheticResp(fs, 60, perMinute, lcg(seed)), fs);
          expect(r.reason).toBeUndefined();
          expect(Math.abs(r.rate! - perMinute)).toBeLessThan(0.03 * perMinute);
          // 60 s hold between rate − 1 and rate + 1 complete breaths.
          expect(Math.abs(r.breaths.length - perMinute)).toBeLessThanOrEqual(1.5);
          expect(r.quality).toBeGreaterThan(0.7);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('ignores short spikes and missing samples', () => {
    const fs = 125;
    const x = syntheticResp(fs, 60, 15, lcg(3));
    for (let t = 1; t < 59; t += 2.3) {
      const i = Math.round(t * fs);
      x[i] = 50;
      x[i + 1] = -50;
    }
    x.fill(Number.NaN, 20 * fs, 22 * fs);
    const r = respirationRate(x, fs);
    expect(Math.abs(r.rate! - 15)).toBeLessThan(0.5);
  });

  it('counts the breaths of a real ICU impedance trace (Challenge 2015 v102s, first 60 s)', async () => {
    // Reference, counted by hand on a plot of the raw trace: 12 inspiration peaks at about 0.6, 6.7, 12.6,
    // 16.7, 21.1, 26.7, 33.1, 36.4, 41.4, 48.9, 53.4 and 58.2 s, i.e. 11 breaths in 57.6 s = 11.5 /min. The
    // trace carries short artefact spikes (several per breath) and irregular pauses.
    const rec = await readRecord(join(FIXTURES, 'challenge-2015', 'v102s-e'));
    const fs = 250;
    const r = respirationRate(toPhysical(rec.signals[0]!), fs);
    const reference = [0.6, 6.7, 12.6, 16.7, 21.1, 26.7, 33.1, 36.4, 41.4, 48.9, 53.4, 58.2];
    expect(r.breaths).toHaveLength(reference.length);
    for (const [k, b] of Array.from(r.breaths).entries())
      expect(Math.abs(b / fs - reference[k]!)).toBeLessThan(0.6);
    expect(Math.abs(r.rate! - (60 * 11) / (58.2 - 0.6))).toBeLessThan(0.5);
  });

  it('refuses too-short, missing, flat and noisy input', () => {
    const fs = 50;
    expect(respirationRate(syntheticResp(fs, 10, 15, lcg(1)), fs).reason).toBe('too-short');
    expect(respirationRate(new Float64Array(60 * fs).fill(Number.NaN), fs).reason).toBe('missing');
    expect(respirationRate(new Float64Array(60 * fs).fill(3), fs).reason).toBe('flat');
    // An idle input toggling between two ADC codes is flat too.
    expect(
      respirationRate(
        Float64Array.from({ length: 60 * fs }, (_, i) => (i % 7 < 3 ? 1 : 2)),
        fs,
      ).reason,
    ).toBe('flat');
    const rand = lcg(9);
    for (let k = 0; k < 10; k++) {
      const noise = Float64Array.from({ length: 60 * fs }, () => rand() - 0.5);
      const r = respirationRate(noise, fs);
      expect(r.rate).toBeUndefined();
      expect(['noisy', 'irregular']).toContain(r.reason);
    }
    expect(respirationRate([], fs).reason).toBe('too-short');
    expect(respirationRate(syntheticResp(fs, 60, 15, lcg(1)), 0).reason).toBe('too-short');
  });

  it('refuses a trace broken by large artefact steps (cable jerks, ADC wrap-around)', () => {
    const fs = 50;
    const x = syntheticResp(fs, 60, 12, lcg(5));
    // A burst of full-range jumps every few seconds over a third of the trace.
    for (let t = 10; t < 30; t += 0.7)
      x.fill(t % 1.4 < 0.7 ? 8 : -8, Math.round(t * fs), Math.round((t + 0.35) * fs));
    const r = respirationRate(x, fs);
    expect(r.rate).toBeUndefined();
    expect(r.reason).toBe('noisy');
  });
});
