import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assessQuality, beatConformity, cleanMask, templateCorrelation } from './quality.ts';

const FS = 300;

/** Synthetic clean ECG (mV): 1-mV Gaussian QRS every 0.8 s on a small slow wander. */
function ecg(seconds: number): { x: Float64Array; beats: number[] } {
  const x = new Float64Array(seconds * FS);
  const beats: number[] = [];
  for (let i = 0; i < x.length; i++) x[i] = 0.1 * Math.sin((2 * Math.PI * 0.25 * i) / FS);
  for (let t = 0.4; t < seconds - 0.2; t += 0.8) {
    const c = Math.round(t * FS);
    beats.push(c);
    for (let k = -15; k <= 15; k++) x[c + k]! += Math.exp(-(k * k) / (2 * 3.6 * 3.6));
  }
  return { x, beats };
}

describe('signal quality', () => {
  it('accepts a clean ECG', () => {
    const q = assessQuality(ecg(20).x, FS);
    expect(q.usable).toBe(true);
    expect(q.usableFraction).toBe(1);
    expect(q.segments).toHaveLength(10);
    expect(q.segments.every((s) => s.issue === null && s.highFrequencyShare < 0.1)).toBe(true);
  });

  it('flags lead-off (flat line and missing samples), clipping and broadband noise', () => {
    const { x } = ecg(20);
    x.fill(0.02, 0, 2 * FS); // flat: 0 mV peak-to-peak
    for (let i = 2 * FS; i < 4 * FS; i++) x[i] = Math.max(-0.5, Math.min(0.5, 3 * Math.sin(i / 10))); // clipped
    let s = 1;
    for (let i = 4 * FS; i < 6 * FS; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      x[i] = 2 * (s / 2 ** 32 - 0.5); // white noise: ~3/4 of its power above 40 Hz at 300 Hz
    }
    x[7 * FS] = Number.NaN;
    const q = assessQuality(x, FS);
    expect(q.segments.slice(0, 4).map((g) => g.issue)).toEqual(['flat', 'saturated', 'noisy', 'flat']);
    expect(q.usableFraction).toBeCloseTo(0.6, 9);
    expect(q.usable).toBe(false);
    const mask = cleanMask(q, x.length);
    expect(mask[FS]).toBe(0);
    expect(mask[10 * FS]).toBe(1);
  });

  it('flags an implausibly large deflection as saturation', () => {
    const { x } = ecg(4);
    x[FS] = 25;
    expect(assessQuality(x, FS).segments[0]!.issue).toBe('saturated');
  });

  it('matches beats to a template and rejects a spike of another shape and size', () => {
    const { x, beats } = ecg(20);
    expect(templateCorrelation(x, beats, FS)).toBeGreaterThan(0.99);
    const spike = beats[5]! + 120;
    x[spike] = 6;
    const flags = beatConformity(x, [...beats.slice(0, 6), spike, ...beats.slice(6)], FS);
    expect(flags[6]).toBe(0);
    expect(Array.from(flags).filter((f) => f === 1)).toHaveLength(beats.length);
    expect(templateCorrelation(x, [1, 2], FS)).toBeNaN();
  });

  it('never throws and covers every sample, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double(), fc.constant(Number.NaN)), { maxLength: 2000 }),
        fc.constantFrom(50, 125, 300, 1000),
        (values, fs) => {
          const q = assessQuality(values, fs);
          const covered = q.segments.reduce((a, g) => a + g.end - g.start, 0);
          expect(covered).toBe(values.length);
          expect(q.usableFraction).toBeGreaterThanOrEqual(0);
          expect(q.usableFraction).toBeLessThanOrEqual(1);
        },
      ),
    );
    expect(() => assessQuality([1, 2], 0)).toThrow(/samplingFrequency/);
  });
});
