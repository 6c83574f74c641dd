import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type StreamChunk, type WaveformKind, WaveformStream, type WindowResult } from './waveform-stream.ts';

const T0 = Date.UTC(2025, 0, 1);

/** Every number in a result, for finiteness checks. */
function numbersOf(r: WindowResult): number[] {
  const hrv = r.hrv ? [r.hrv.sdnnMs, r.hrv.rmssdMs, r.hrv.pnn50, r.hrv.beats, r.hrv.spanMs] : [];
  return [
    r.startMs,
    r.endMs,
    r.quality,
    ...(r.rate !== undefined ? [r.rate] : []),
    ...(r.beatsMs ?? []),
    ...hrv,
  ];
}

/** A clean synthetic waveform of `n` samples from time `startMs`: 75 /min pulses, or 15 /min breathing. */
function cleanWave(kind: WaveformKind, startMs: number, fs: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    const t = (startMs - T0) / 1000 + i / fs;
    if (kind === 'resp') return Math.sin(2 * Math.PI * 0.25 * t);
    const phase = (((t % 0.8) + 0.8) % 0.8) - 0.4;
    return Math.exp(-(phase * phase) / (2 * 0.03 * 0.03));
  });
}

describe('WaveformStream under arbitrary input', () => {
  const sample = fc.oneof(
    { weight: 6, arbitrary: fc.double({ min: -5, max: 5, noNaN: true }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(null, Number.NaN, Number.POSITIVE_INFINITY, -1e300, 1e300, 1e12, -0),
    },
    { weight: 1, arbitrary: fc.double() },
  );
  // Mostly the stream's own rate (undefined here), sometimes another or an invalid one.
  const rate = fc.oneof(
    { weight: 30, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(0, -250, Number.NaN, Number.POSITIVE_INFINITY, 1e-6, 1e7, 0.5, 60),
    },
    { weight: 1, arbitrary: fc.double() },
  );
  const step = fc.record({
    rateHz: rate,
    // Either arbitrary samples or a stretch of a clean synthetic waveform (so that rates, HRV and rhythm
    // calls are reached too), possibly with a few corrupted samples.
    samples: fc.oneof(
      { weight: 1, arbitrary: fc.array(sample, { maxLength: 300, size: 'max' }) },
      {
        weight: 3,
        arbitrary: fc.record({
          clean: fc.integer({ min: 0, max: 300 }),
          corrupt: fc.array(fc.nat(), { maxLength: 3 }),
        }),
      },
    ),
    // Offset of startMs from the contiguous position: mostly none, sometimes gaps, overlaps, jumps back.
    offsetMs: fc.oneof(
      { weight: 20, arbitrary: fc.constant(0) },
      { weight: 2, arbitrary: fc.integer({ min: -10_000, max: 10_000 }) },
      { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1e15) },
    ),
  });

  it('never throws and never returns a non-finite number, a quality outside 0–1 or a beat twice', () => {
    let windows = 0;
    let rated = 0;
    let withRhythm = 0;
    fc.assert(
      fc.property(
        fc.constantFrom<WaveformKind>('ecg', 'ppg', 'resp'),
        fc.constantFrom(25, 50, 125),
        fc.array(step, { minLength: 1, maxLength: 80 }),
        (kind, baseRate, steps) => {
          const stream = new WaveformStream(kind, {
            windowS: 2,
            hrvWindowS: 10,
            afWindowS: 10,
            maxGapMs: 3000,
          });
          let t = T0;
          let last = Number.NEGATIVE_INFINITY;
          for (const s of steps) {
            // A jump in time may restart the stream on an earlier time line: beats may go back then.
            if (s.offsetMs !== 0) last = Number.NEGATIVE_INFINITY;
            const rateHz = s.rateHz ?? baseRate;
            const samples: (number | null)[] = Array.isArray(s.samples)
              ? s.samples
              : cleanWave(kind, t + s.offsetMs, baseRate, s.samples.clean);
            if (!Array.isArray(s.samples))
              for (const c of s.samples.corrupt) if (samples.length) samples[c % samples.length] = null;
            const chunk: StreamChunk = { startMs: t + s.offsetMs, rateHz, samples };
            const results = stream.push(chunk);
            windows += results.length;
            for (const r of results) {
              if (r.rate !== undefined) rated++;
              if (r.rhythm) withRhythm++;
              for (const v of numbersOf(r)) expect(Number.isFinite(v)).toBe(true);
              expect(r.quality).toBeGreaterThanOrEqual(0);
              expect(r.quality).toBeLessThanOrEqual(1);
              expect(r.endMs).toBeGreaterThanOrEqual(r.startMs);
              if (r.leadOff) expect(r.rate).toBeUndefined();
              for (const b of r.beatsMs ?? []) {
                expect(b).toBeGreaterThan(last);
                last = b;
              }
            }
            if (Number.isFinite(rateHz) && rateHz > 0 && Number.isFinite(s.offsetMs))
              t += s.offsetMs + (samples.length * 1000) / rateHz;
          }
        },
      ),
      { numRuns: 300 },
    );
    // The runs did reach the analysis, not only the input checks.
    expect(windows).toBeGreaterThan(1000);
    expect(rated).toBeGreaterThan(0);
    expect(withRhythm).toBeGreaterThan(0);
  });

  it('gives finite HRV and rhythm results for varied RR series with dropouts and spikes', () => {
    const fs = 125;
    let withHrv = 0;
    fc.assert(
      fc.property(
        // A base rhythm with beat-to-beat variation, ectopic beats or irregular stretches.
        fc
          .tuple(
            fc.double({ min: 0.35, max: 1.6, noNaN: true }),
            fc.array(fc.double({ min: -0.5, max: 0.5, noNaN: true }), { minLength: 20, maxLength: 150 }),
            fc.double({ min: 0, max: 1, noNaN: true }),
          )
          .map(([base, variation, spread]) => variation.map((v) => Math.max(0.2, base * (1 + spread * v)))),
        fc.array(fc.record({ at: fc.nat(), length: fc.integer({ min: 1, max: 400 }), spike: fc.boolean() }), {
          maxLength: 4,
        }),
        fc.integer({ min: 1, max: 700 }),
        (rr, damage, chunk) => {
          const beats: number[] = [];
          for (let t = 0.5, k = 0; k < rr.length; t += rr[k++]!) beats.push(t);
          // QRS-like spikes on a slow baseline wave (an exactly constant baseline would read as clipped).
          const x: (number | null)[] = Array.from(
            { length: Math.ceil((beats.at(-1)! + 1) * fs) },
            (_, i) => Math.sin((2 * Math.PI * 0.3 * i) / fs) * 0.05,
          );
          for (const b of beats)
            for (let i = -6; i <= 6; i++) {
              const j = Math.round(b * fs) + i;
              if (j >= 0 && j < x.length) x[j] = (x[j] as number) + Math.exp(-(i * i) / 8);
            }
          for (const d of damage) {
            const from = d.at % x.length;
            x.fill(d.spike ? 50 : null, from, Math.min(x.length, from + (d.spike ? 3 : d.length)));
          }
          const stream = new WaveformStream('ecg', { windowS: 5, hrvWindowS: 60, afWindowS: 30 });
          for (let i = 0; i < x.length; i += chunk) {
            for (const r of stream.push({
              startMs: T0 + (i * 1000) / fs,
              rateHz: fs,
              samples: x.slice(i, i + chunk),
            })) {
              for (const v of numbersOf(r)) expect(Number.isFinite(v)).toBe(true);
              if (r.hrv) withHrv++;
            }
          }
        },
      ),
      { numRuns: 60 },
    );
    expect(withHrv).toBeGreaterThan(0);
  });

  it('survives malformed chunks that do not match the type', () => {
    const stream = new WaveformStream('ecg');
    const bad = [
      null,
      undefined,
      {},
      { startMs: T0, rateHz: 250 },
      { startMs: T0, rateHz: 250, samples: null },
      { startMs: T0, rateHz: 250, samples: { length: -1 } },
      { startMs: T0, rateHz: 250, samples: { length: 1e12 } },
      { startMs: T0, rateHz: 250, samples: 'abc' },
      { startMs: '1', rateHz: '250', samples: [1, 2, 3] },
      { startMs: T0, rateHz: 250, samples: ['1', {}, [], true] },
    ];
    for (const chunk of bad) expect(() => stream.push(chunk as unknown as StreamChunk)).not.toThrow();
    expect(
      () => new WaveformStream('ecg', { windowS: Number.NaN, hrvWindowS: -1, afWindowS: 1e9, maxGapMs: -5 }),
    ).not.toThrow();
  });
});
