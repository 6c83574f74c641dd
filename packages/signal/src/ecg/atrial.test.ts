import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../testdata.ts';
import { readRecord } from '../wfdb/loader.ts';
import { toPhysical } from '../wfdb/signal.ts';
import { type RrIrregularity, rrIrregularity } from './af.ts';
import {
  MIN_P_WAVE_BEATS,
  P_WAVES_ABSENT,
  P_WAVES_PRESENT,
  type PWaveConsistency,
  pWaveConsistency,
  screenAf,
  WIDE_QRS_S,
} from './atrial.ts';
import { detectQrs } from './qrs.ts';

const FS = 300;

/** Deterministic pseudo-random numbers in [0, 1) (a 32-bit LCG), so the tests are reproducible. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const bump = (x: Float64Array, centre: number, height: number, sd: number) => {
  for (let k = -4 * sd; k <= 4 * sd; k++) {
    const i = Math.round(centre + k);
    if (i >= 0 && i < x.length) x[i] = x[i]! + height * Math.exp(-(k * k) / (2 * sd * sd));
  }
};

/**
 * Synthetic ECG (mV) with irregular RR (0.7–1.1 s): a narrow 1-mV QRS, a T wave 0.25 s after it and either a
 * 0.15-mV P wave 0.16 s before every QRS or fibrillatory waves (0.05 mV, 5–7 Hz, phase unrelated to the QRS).
 */
function synthetic(atria: 'p-waves' | 'fibrillation', seed: number) {
  const rand = lcg(seed);
  const x = new Float64Array(40 * FS);
  const beats: number[] = [];
  for (let t = 0.6; t < 39; t += 0.7 + 0.4 * rand()) beats.push(Math.round(t * FS));
  for (const b of beats) {
    bump(x, b, 1, 0.008 * FS);
    bump(x, b + 0.25 * FS, 0.25, 0.04 * FS);
    if (atria === 'p-waves') bump(x, b - 0.16 * FS, 0.15, 0.02 * FS);
  }
  if (atria === 'fibrillation') {
    // A generator of its own: successive outputs of one LCG are correlated enough to tie waves to beats.
    const wander = lcg(seed + 1000);
    let phase = 0;
    for (let i = 0; i < x.length; i++) {
      phase += (2 * Math.PI * (5 + 2 * wander())) / FS;
      x[i] = x[i]! + 0.05 * Math.sin(phase);
    }
  }
  return { x, beats: Int32Array.from(beats) };
}

async function lead(dir: string, name: string, index = 0) {
  const rec = await readRecord(join(FIXTURES, dir, name));
  const s = rec.signals[index]!;
  const x = toPhysical(s);
  const beats = detectQrs(x, s.samplingFrequency);
  return pWaveConsistency(x, beats, s.samplingFrequency);
}

describe('P-wave consistency', () => {
  it('is near 1 with a P wave before every beat and near 0 with fibrillatory waves', () => {
    const sinus = synthetic('p-waves', 3);
    const p = pWaveConsistency(sinus.x, sinus.beats, FS);
    expect(p.correlation).toBeGreaterThan(0.95);
    expect(p.beats).toBeGreaterThan(30);
    expect(p.qrsDuration).toBeLessThan(WIDE_QRS_S);
    const af = synthetic('fibrillation', 3);
    const f = pWaveConsistency(af.x, af.beats, FS);
    // Waves with no fixed relation to the QRS: no consistency (slightly negative values are common, since a
    // beat's window is compared with the average of the others, from which it is missing).
    expect(f.correlation).toBeLessThan(0.3);
  });

  it('leaves out beats whose window still holds the previous T wave, and gives NaN with too few beats', () => {
    const { x } = synthetic('p-waves', 5);
    // Beats 0.45 s apart: the previous T wave (QT ≈ 0.3 s) overlaps the P-wave window of every beat.
    const fast = Int32Array.from({ length: 80 }, (_, i) => Math.round((0.5 + 0.45 * i) * FS));
    const p = pWaveConsistency(x, fast, FS);
    expect(p.beats).toBe(0);
    expect(p.correlation).toBeNaN();
    const few = pWaveConsistency(x, fast.subarray(0, MIN_P_WAVE_BEATS), FS);
    expect(few.correlation).toBeNaN();
  });

  it('skips windows that reach missing samples', () => {
    const { x, beats } = synthetic('p-waves', 9);
    const all = pWaveConsistency(x, beats, FS);
    for (let i = beats[10]! - 0.1 * FS; i < beats[10]!; i++) x[i] = Number.NaN;
    const gap = pWaveConsistency(x, beats, FS);
    expect(gap.beats).toBe(all.beats - 1);
    expect(gap.correlation).toBeGreaterThan(0.95);
  });

  it('finds repeating P waves in sinus rhythm and none in AF on real recordings', async () => {
    const sinus = await lead('wfdb-microdb', '100s'); // mitdb 100, MLII, sinus rhythm
    expect(sinus.correlation).toBeGreaterThan(0.9);
    expect(sinus.qrsDuration).toBeLessThan(WIDE_QRS_S);
    const handheld = await lead('challenge-2017', 'A00001'); // AliveCor, normal
    expect(handheld.correlation).toBeGreaterThan(0.8);
    const af = await lead('challenge-2017', 'A00004'); // AliveCor, AF
    expect(af.correlation).toBeLessThan(P_WAVES_PRESENT);
    expect(af.beats).toBeGreaterThanOrEqual(MIN_P_WAVE_BEATS);
  });

  it('measures a wide QRS on a bundle-branch-block recording', async () => {
    const rbbb = await lead('mitdb-excerpt', '118e'); // mitdb 118, right bundle branch block, sinus
    expect(rbbb.qrsDuration).toBeGreaterThanOrEqual(WIDE_QRS_S);
    expect(rbbb.correlation).toBeGreaterThan(0.9);
  });

  it('never throws and stays in range on arbitrary input', () => {
    const sample = fc.oneof(
      fc.double({ min: -20, max: 20, noNaN: true }),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0),
    );
    fc.assert(
      fc.property(
        fc.array(sample, { minLength: 0, maxLength: 3000 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 3500 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.boolean(), { maxLength: 60 }),
        (signal, beatList, fs, usable) => {
          const beats = Int32Array.from(beatList.sort((a, b) => a - b));
          const p = pWaveConsistency(signal, beats, fs, usable.length ? usable : undefined);
          expect(
            Number.isNaN(p.correlation) || (p.correlation >= -1 - 1e-9 && p.correlation <= 1 + 1e-9),
          ).toBe(true);
          expect(Number.isInteger(p.beats) && p.beats >= 0).toBe(true);
          expect(Number.isNaN(p.qrsDuration) || p.qrsDuration >= 0).toBe(true);
          expect(Number.isNaN(p.onsetToFiducial) || p.onsetToFiducial >= 0).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
    expect(() => pWaveConsistency([], [], 0)).toThrow(RangeError);
  });
});

describe('AF screen from RR irregularity and P waves', () => {
  const rand = lcg(21);
  const irregular = rrIrregularity(Array.from({ length: 40 }, () => 0.4 + 0.8 * rand()));
  // Mostly 0.6 s with an occasional longer interval: variable (nRMSSD > 0.1) but low entropy.
  const patterned = rrIrregularity(Array.from({ length: 40 }, (_, i) => (i % 6 === 3 ? 0.8 : 0.6)));
  const regular = rrIrregularity(Array.from({ length: 40 }, () => 0.85 + 0.02 * rand()));
  const atria = (correlation: number, qrsDuration = 0.09): PWaveConsistency => ({
    correlation,
    beats: 30,
    onsetToFiducial: 0.04,
    qrsDuration,
  });

  it('combines the two parts of the definition', () => {
    expect(screenAf(irregular, atria(0.1))).toEqual({ af: true, basis: 'irregular-rr' });
    expect(screenAf(irregular, atria(Number.NaN))).toEqual({ af: true, basis: 'irregular-rr' });
    expect(screenAf(irregular, atria(0.9))).toEqual({ af: false, basis: 'irregular-rr-with-p-waves' });
    expect(patterned.nrmssd).toBeGreaterThan(0.1);
    expect(screenAf(patterned, atria(0.1))).toEqual({ af: true, basis: 'variable-rr-without-p-waves' });
    // A wide QRS without P waves is ventricular or paced, no evidence means no rescue, and neither does a
    // recording where many intervals had to be set aside.
    expect(screenAf(patterned, atria(0.1, 0.16)).af).toBe(false);
    expect(screenAf(patterned, atria(0.1), { validShare: 0.8 }).af).toBe(false);
    expect(screenAf(irregular, atria(0.1), { validShare: 0.8 }).af).toBe(true);
    expect(screenAf(patterned, atria(Number.NaN)).af).toBe(false);
    expect(screenAf(patterned, atria(0.9)).af).toBe(false);
    expect(screenAf(regular, atria(0.1))).toEqual({ af: false, basis: 'rr-not-af-like' });
  });

  it('lets RR irregularity decide alone when the P-wave consistency lies between the thresholds', () => {
    const between = (P_WAVES_ABSENT + P_WAVES_PRESENT) / 2;
    expect(screenAf(irregular, atria(between))).toEqual({ af: true, basis: 'irregular-rr' });
    expect(screenAf(patterned, atria(between))).toEqual({ af: false, basis: 'rr-not-af-like' });
  });

  it('never throws on arbitrary features', () => {
    const num = fc.oneof(fc.double(), fc.constant(Number.NaN));
    fc.assert(
      fc.property(num, num, num, num, num, (cosen, nrmssd, correlation, qrs, validShare) => {
        const f: RrIrregularity = { ...regular, cosen, nrmssd };
        const r = screenAf(f, atria(correlation, qrs), { validShare });
        expect(typeof r.af).toBe('boolean');
        expect(r.af).toBe(r.basis === 'irregular-rr' || r.basis === 'variable-rr-without-p-waves');
      }),
    );
  });
});
