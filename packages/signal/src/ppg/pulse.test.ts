import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectQrs } from '../ecg/qrs.ts';
import { FIXTURES } from '../testdata.ts';
import { readRecord } from '../wfdb/loader.ts';
import { toPhysical, type WfdbRecord } from '../wfdb/signal.ts';
import { detectPulses, holdMissing, pulseRate, pulseTemplateCorrelation } from './pulse.ts';

/** Deterministic pseudo-random numbers in [0, 1) (a 32-bit LCG), so the tests are reproducible. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Synthetic PPG: each pulse is a systolic wave 0.15 s after its onset and a smaller dicrotic wave 0.4 of
 * an interval later (relative height `dicrotic`), on a respiratory baseline (0.25 Hz), all scaled by
 * `gain`, with white noise. Returns the signal and the onsets.
 */
function syntheticPpg(
  fs: number,
  seconds: number,
  rr: number,
  rand: () => number,
  dicrotic = 0.35,
  gain: (t: number) => number = () => 1,
) {
  const x = new Float64Array(Math.round(fs * seconds));
  const onsets: number[] = [];
  for (let t = 0.3; t < seconds - 0.5; t += rr * (1 + 0.04 * (rand() - 0.5))) onsets.push(t);
  for (let i = 0; i < x.length; i++) {
    const t = i / fs;
    x[i] = gain(t) * 0.3 * Math.sin(2 * Math.PI * 0.25 * t) + 0.02 * (rand() - 0.5);
  }
  for (const o of onsets) {
    const g = gain(o);
    const from = Math.max(0, Math.floor((o - 0.1) * fs));
    const to = Math.min(x.length, Math.ceil((o + 1.2 * rr + 0.3) * fs));
    for (let i = from; i < to; i++) {
      const t = i / fs - o;
      x[i]! +=
        g *
        (Math.exp(-((t - 0.15) ** 2) / (2 * 0.06 ** 2)) +
          dicrotic * Math.exp(-((t - 0.15 - 0.4 * rr) ** 2) / (2 * 0.08 ** 2)));
    }
  }
  return { x, onsets };
}

const signal = (rec: WfdbRecord, name: string) => rec.signals.find((s) => s.spec.description === name)!;

describe('PPG pulse detection', () => {
  it('finds every pulse of a synthetic PPG at any sampling rate, on the upstroke, and its rate', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(25, 50, 100, 125, 250, 500),
        fc.double({ min: 0.3, max: 1.5, noNaN: true }),
        fc.double({ min: 0.1, max: 0.5, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        (fs, rr, dicrotic, seed) => {
          const { x, onsets } = syntheticPpg(fs, 30, rr, lcg(seed), dicrotic);
          const found = Array.from(detectPulses(x, fs));
          expect(found).toHaveLength(onsets.length);
          for (const [k, s] of found.entries()) {
            // The steepest point of a Gaussian upstroke peaking 0.15 s after onset lies ~0.09 s after onset.
            expect(Math.abs(s / fs - (onsets[k]! + 0.09))).toBeLessThan(0.05 + 1 / fs);
          }
          expect(Math.abs(pulseRate(found, fs) - 60 / rr)).toBeLessThan(0.03 * (60 / rr));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('recovers when the pulse amplitude drops for good', () => {
    const fs = 125;
    // The signal (not the noise) shrinks tenfold after 15 s, as when a probe is re-seated.
    const { x, onsets } = syntheticPpg(fs, 40, 0.8, lcg(4), 0.35, (t) => (t < 15 ? 1 : 0.1));
    const found = Array.from(detectPulses(x, fs), (s) => s / fs);
    const after = onsets.filter((o) => o > 25);
    for (const o of after) expect(found.some((t) => Math.abs(t - (o + 0.09)) < 0.06)).toBe(true);
    expect(found.filter((t) => t > 25)).toHaveLength(after.length);
  });

  it('agrees with the ECG heart rate of the same ICU record (Challenge 2015 a103l, 60 s, 250 Hz)', async () => {
    const rec = await readRecord(join(FIXTURES, 'challenge-2015', 'a103l-e'));
    const fs = 250;
    const pleth = toPhysical(signal(rec, 'PLETH'));
    const pulses = detectPulses(pleth, fs);
    const qrs = detectQrs(toPhysical(signal(rec, 'II')), fs);
    expect(Math.abs(pulseRate(pulses, fs) - pulseRate(qrs, fs))).toBeLessThan(2);
    // One pulse per QRS, give or take the beats lost to the movement artefact in the first seconds.
    expect(Math.abs(pulses.length - qrs.length)).toBeLessThanOrEqual(3);
    // Each pulse arrives a constant time after its QRS (pulse arrival time): same beat, not a stray wave.
    const delays = Array.from(pulses, (p) => {
      const before = Array.from(qrs).filter((q) => q < p);
      return (p - before[before.length - 1]!) / fs;
    }).slice(5);
    delays.sort((a, b) => a - b);
    const iqr = delays[Math.floor(0.75 * delays.length)]! - delays[Math.floor(0.25 * delays.length)]!;
    expect(iqr).toBeLessThan(0.03);
    expect(pulseTemplateCorrelation(pleth, pulses, fs)).toBeGreaterThan(0.85);
  });

  it('agrees with the ECG at 125 Hz (MIMIC 041s01: PLETH at 125 Hz, ECG lead I at 500 Hz, 8 s)', async () => {
    const rec = await readRecord(join(FIXTURES, 'mimicdb', '041s01'));
    const pulses = detectPulses(toPhysical(signal(rec, 'PLETH')), 125);
    const qrs = detectQrs(toPhysical(signal(rec, 'I')), 500);
    expect(pulses.length).toBe(qrs.length);
    expect(Math.abs(pulseRate(pulses, 125) - pulseRate(qrs, 500))).toBeLessThan(2);
  });

  it('returns nothing for flat, too short or missing input and never a rate from fewer than three pulses', () => {
    expect(detectPulses(new Float64Array(2500), 250)).toHaveLength(0);
    expect(detectPulses([1, 2], 250)).toHaveLength(0);
    expect(detectPulses(new Float64Array(2500).fill(Number.NaN), 250)).toHaveLength(0);
    expect(() => detectPulses([1, 2, 3], 0)).toThrow(/samplingFrequency/);
    expect(pulseRate([100, 300], 250)).toBeNaN();
  });

  it('holds missing samples at the last finite value', () => {
    expect(Array.from(holdMissing([Number.NaN, 2, Number.NaN, 4, Number.POSITIVE_INFINITY]))).toEqual([
      2, 2, 2, 4, 4,
    ]);
  });
});
