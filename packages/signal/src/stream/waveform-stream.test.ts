import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { P_WAVES_ABSENT, P_WAVES_PRESENT } from '../ecg/atrial.ts';
import { beatsFromSamples, compareBeats } from '../eval/ec57.ts';
import { FIXTURES } from '../testdata.ts';
import { isBeatCode } from '../wfdb/codes.ts';
import { readAnnotations, readRecord } from '../wfdb/loader.ts';
import { toPhysical, type WfdbRecord } from '../wfdb/signal.ts';
import {
  type StreamOptions,
  type WaveformKind,
  WaveformStream,
  type WindowResult,
} from './waveform-stream.ts';

const T0 = Date.UTC(2025, 0, 1);

/** Feeds `x` in consecutive chunks of the given sizes (cycled), with exact timestamps. */
function feed(stream: WaveformStream, x: ArrayLike<number>, fs: number, sizes: readonly number[], t0 = T0) {
  const out: WindowResult[] = [];
  for (let i = 0, k = 0; i < x.length; k++) {
    const n = sizes[k % sizes.length]!;
    const samples = Array.from({ length: Math.min(n, x.length - i) }, (_, j) => x[i + j]!);
    out.push(...stream.push({ startMs: t0 + (i * 1000) / fs, rateHz: fs, samples }));
    i += n;
  }
  return out;
}

function run(
  kind: WaveformKind,
  x: ArrayLike<number>,
  fs: number,
  sizes: readonly number[] = [fs],
  options?: StreamOptions,
) {
  return feed(new WaveformStream(kind, options), x, fs, sizes);
}

const allBeats = (results: WindowResult[]) => results.flatMap((r) => r.beatsMs ?? []);
const signal = (rec: WfdbRecord, name: string) => rec.signals.find((s) => s.spec.description === name)!;

async function record100s() {
  const path = join(FIXTURES, 'wfdb-microdb', '100s');
  const rec = await readRecord(path);
  const fs = rec.signals[0]!.samplingFrequency;
  const reference = (await readAnnotations(path, 'atr')).annotations.filter((a) => isBeatCode(a.code));
  return { x: toPhysical(rec.signals[0]!), fs, reference };
}

describe('WaveformStream on ECG', () => {
  it('finds the reference beats of mitdb 100s fed in 1-s chunks, each once, with per-window heart rate', async () => {
    const { x, fs, reference } = await record100s();
    const results = run('ecg', x, fs);
    expect(results).toHaveLength(6); // 60 s: windows complete every 10 s, the last reports up to 58.5 s
    const beats = allBeats(results);
    for (let i = 1; i < beats.length; i++) expect(beats[i]! - beats[i - 1]!).toBeGreaterThanOrEqual(200);
    // EC57 match (150 ms) over the reported span, leaving out a match window at its end.
    const end = Math.round(((results.at(-1)!.endMs - T0) / 1000 - 0.15) * fs);
    const test = beats.map((t) => Math.round(((t - T0) * fs) / 1000)).filter((s) => s < end);
    const ref = reference.filter((a) => a.sample < end);
    const cmp = compareBeats(ref, beatsFromSamples(test), {
      samplingFrequency: fs,
      startSample: 0,
      endSample: end,
    });
    expect(cmp.sensitivity).toBeGreaterThanOrEqual(0.99);
    expect(cmp.positivePredictivity).toBeGreaterThanOrEqual(0.99);
    // Heart rate per window against the reference RR intervals ending in the window.
    const refMs = reference.map((a) => T0 + (a.sample * 1000) / fs);
    for (const r of results) {
      const rr: number[] = [];
      for (let i = 1; i < refMs.length; i++)
        if (refMs[i]! >= r.startMs && refMs[i]! < r.endMs) rr.push(refMs[i]! - refMs[i - 1]!);
      const refRate = (60_000 * rr.length) / rr.reduce((a, b) => a + b, 0);
      expect(r.leadOff).toBe(false);
      expect(r.quality).toBeGreaterThan(0.9);
      expect(Math.abs(r.rate! - refRate)).toBeLessThanOrEqual(2);
    }
    // Windows tile the time line.
    for (let i = 1; i < results.length; i++) expect(results[i]!.startMs).toBe(results[i - 1]!.endMs);
    expect(results[0]!.startMs).toBe(T0);
    // HRV once 30 NN intervals are in, and a rhythm call on 20 s of clean RR.
    expect(results.at(-1)!.hrv!.beats).toBeGreaterThanOrEqual(60);
    expect(results.at(-1)!.hrv!.sdnnMs).toBeGreaterThan(0);
    expect(results.at(-1)!.rhythm).toBe('not-af');
  });

  it('gives the same beats and rates whatever the chunk sizes', async () => {
    const { x, fs } = await record100s();
    const signal30 = x.subarray(0, 30 * fs);
    const reference = run('ecg', signal30, fs);
    const refBeats = allBeats(reference);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 1, maxLength: 20 }), (sizes) => {
        const results = run('ecg', signal30, fs, sizes);
        expect(results).toHaveLength(reference.length);
        const beats = allBeats(results);
        expect(beats).toHaveLength(refBeats.length);
        for (const [k, t] of beats.entries())
          expect(Math.abs(t - refBeats[k]!)).toBeLessThanOrEqual(2000 / fs);
        for (const [k, r] of results.entries()) {
          expect(r.rate).toBeCloseTo(reference[k]!.rate!, 6);
          expect(r.quality).toBeCloseTo(reference[k]!.quality, 6);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('calls AF on an AF recording and not on a normal one (CinC 2017 A00004, A00001, 300 Hz)', async () => {
    const calls = async (name: string) => {
      const rec = await readRecord(join(FIXTURES, 'challenge-2017', name));
      const results = run('ecg', toPhysical(rec.signals[0]!), 300);
      return results.map((r) => r.rhythm).filter((c) => c !== undefined);
    };
    const af = await calls('A00004');
    expect(af.length).toBeGreaterThan(0);
    expect(af.every((c) => c === 'af-suspected')).toBe(true);
    const normal = await calls('A00001');
    expect(normal.length).toBeGreaterThan(0);
    expect(normal.every((c) => c === 'not-af')).toBe(true);
  });

  it('screens AF live on both halves of its definition: RR irregularity and P waves (CinC 2017)', async () => {
    const screen = async (name: string) => {
      const rec = await readRecord(join(FIXTURES, 'challenge-2017', name));
      const last = run('ecg', toPhysical(rec.signals[0]!), 300)
        .filter((r) => r.rhythm !== undefined)
        .at(-1);
      return { rhythm: last?.rhythm, basis: last?.rhythmBasis, p: last?.pWaveConsistency ?? Number.NaN };
    };
    // Sinus rhythm with irregular RR and repeating (inverted) P waves: RR irregularity alone called it AF.
    const ectopy = await screen('A00066');
    expect(ectopy).toMatchObject({ rhythm: 'not-af', basis: 'irregular-rr-with-p-waves' });
    expect(ectopy.p).toBeGreaterThanOrEqual(P_WAVES_PRESENT);
    // AF with a fairly even ventricular response: RR irregularity alone missed it; no P waves, narrow QRS.
    const even = await screen('A00071');
    expect(even).toMatchObject({ rhythm: 'af-suspected', basis: 'variable-rr-without-p-waves' });
    expect(even.p).toBeLessThan(P_WAVES_ABSENT);
    expect(await screen('A00004')).toMatchObject({ rhythm: 'af-suspected', basis: 'irregular-rr' });
  });

  it('gives no rate on a noisy recording (CinC 2017 A04282)', async () => {
    const rec = await readRecord(join(FIXTURES, 'challenge-2017', 'A04282'));
    const results = run('ecg', toPhysical(rec.signals[0]!), 300);
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      expect(r.rate).toBeUndefined();
      expect(r.quality).toBeLessThan(0.5);
    }
  });

  it('reports lead-off with no rate or beats for all-null and for flat chunks, then recovers', async () => {
    const { x, fs } = await record100s();
    const stream = new WaveformStream('ecg');
    const nulls = feed(stream, new Array(20 * fs).fill(null), fs, [fs]);
    expect(nulls.length).toBe(2);
    for (const r of nulls) {
      expect(r.leadOff).toBe(true);
      expect(r.rate).toBeUndefined();
      expect(r.beatsMs).toEqual([]);
      expect(r.quality).toBe(0);
    }
    const flat = feed(stream, new Float64Array(20 * fs).fill(0.3), fs, [fs], T0 + 20_000);
    for (const r of flat) {
      expect(r.leadOff).toBe(true);
      expect(r.rate).toBeUndefined();
    }
    // The ECG resumes: after one window of transition the rate is back.
    const ecg = feed(stream, x.subarray(0, 30 * fs), fs, [fs], T0 + 40_000);
    expect(ecg.at(-1)!.leadOff).toBe(false);
    expect(ecg.at(-1)!.rate).toBeGreaterThan(70);
    expect(ecg.at(-1)!.rate).toBeLessThan(78);
  });

  it('bridges small gaps with missing samples, absorbs jitter, and restarts on a long gap or a rate change', async () => {
    const { x, fs } = await record100s();
    const exact = run('ecg', x, fs);
    // ±20 ms timestamp jitter after the first chunk (which sets the stream's clock) changes nothing.
    const jittered = new WaveformStream('ecg');
    const jitterResults: WindowResult[] = [];
    for (let i = 0, k = 0; i < x.length; i += fs, k++) {
      const samples = Array.from(x.subarray(i, i + fs));
      jitterResults.push(
        ...jittered.push({
          startMs: T0 + (i * 1000) / fs + (k === 0 ? 0 : k % 2 ? 20 : -20),
          rateHz: fs,
          samples,
        }),
      );
    }
    expect(allBeats(jitterResults)).toEqual(allBeats(exact));
    // A lost 1-s chunk: time stays aligned, the windows go on, no beat is reported inside the gap.
    const gappy = new WaveformStream('ecg');
    const gapResults: WindowResult[] = [];
    for (let i = 0; i < x.length; i += fs) {
      if (i === 25 * fs) continue;
      gapResults.push(
        ...gappy.push({
          startMs: T0 + (i * 1000) / fs,
          rateHz: fs,
          samples: Array.from(x.subarray(i, i + fs)),
        }),
      );
    }
    expect(gapResults).toHaveLength(6);
    expect(gapResults.map((r) => r.startMs)).toEqual(exact.map((r) => r.startMs));
    const inGap = allBeats(gapResults).filter((t) => t >= T0 + 24_800 && t < T0 + 26_200);
    expect(inGap).toEqual([]);
    for (const r of gapResults) expect(Math.abs(r.rate! - 74)).toBeLessThan(3);
    // A gap longer than maxGapMs restarts the windows at the new chunk.
    const restart = new WaveformStream('ecg', { maxGapMs: 2000 });
    feed(restart, x.subarray(0, 15 * fs), fs, [fs]);
    const after = feed(restart, x.subarray(20 * fs), fs, [fs], T0 + 20_000);
    expect(after[0]!.startMs).toBe(T0 + 20_000);
    // So does a change of sampling rate.
    const rateChange = new WaveformStream('ecg');
    feed(rateChange, x.subarray(0, 15 * fs), fs, [fs]);
    const resampled = Float64Array.from({ length: 25 * 180 }, (_, i) => x[20 * fs + 2 * i]!);
    const afterRate = feed(rateChange, resampled, 180, [180], T0 + 15_000);
    expect(afterRate[0]!.startMs).toBe(T0 + 15_000);
    expect(afterRate[0]!.rate).toBeGreaterThan(68);
  });
});

describe('WaveformStream restarts', () => {
  it('analyses a restarted stream exactly as a new one, though it reuses the old buffers', async () => {
    const { x, fs } = await record100s();
    const segment = fc.record({
      from: fc.integer({ min: 0, max: 40 }),
      seconds: fc.integer({ min: 1, max: 20 }),
      // How the previous stream ends: a long gap, unusable input (a reset), or a change of rate and back.
      cut: fc.constantFrom('gap', 'bad-input', 'rate-change'),
    });
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), (segments) => {
        const reused = new WaveformStream('ecg', { maxGapMs: 2000 });
        let t0 = T0;
        for (const { from, seconds, cut } of segments) {
          const part = x.subarray(from * fs, (from + seconds) * fs);
          if (cut === 'bad-input') reused.push({ startMs: t0, rateHz: Number.NaN, samples: [1] });
          if (cut === 'rate-change') reused.push({ startMs: t0, rateHz: fs / 2, samples: [0, 0, 0] });
          const fresh = feed(new WaveformStream('ecg', { maxGapMs: 2000 }), part, fs, [fs], t0);
          expect(feed(reused, part, fs, [fs], t0)).toEqual(fresh);
          t0 += (seconds + 60) * 1000;
        }
      }),
      { numRuns: 15 },
    );
  });
});

describe('WaveformStream on PPG and respiration', () => {
  it('reports a pulse rate that agrees with the ECG heart rate of the same record (a103l)', async () => {
    const rec = await readRecord(join(FIXTURES, 'challenge-2015', 'a103l-e'));
    const ppg = run('ppg', toPhysical(signal(rec, 'PLETH')), 250);
    const ecg = run('ecg', toPhysical(signal(rec, 'II')), 250);
    expect(ppg).toHaveLength(ecg.length);
    let compared = 0;
    for (const [k, p] of ppg.entries()) {
      const e = ecg[k]!;
      if (p.rate === undefined || e.rate === undefined) continue;
      compared++;
      expect(Math.abs(p.rate - e.rate)).toBeLessThan(3);
      expect(p.beatsMs!.length).toBeGreaterThan(0);
      expect(p.hrv).toBeUndefined();
      expect(p.rhythm).toBeUndefined();
    }
    expect(compared).toBeGreaterThanOrEqual(4);
  });

  it('reports the respiration rate of a real impedance trace (v102s, hand count 11.5 /min)', async () => {
    const rec = await readRecord(join(FIXTURES, 'challenge-2015', 'v102s-e'));
    const results = run('resp', toPhysical(rec.signals[0]!), 250);
    const rated = results.filter((r) => r.rate !== undefined);
    expect(rated.length).toBeGreaterThanOrEqual(4);
    for (const r of rated) {
      expect(Math.abs(r.rate! - 11.5)).toBeLessThan(1.5);
      expect(r.beatsMs).toBeUndefined();
    }
    // The first window holds less than the 15 s a rate needs.
    expect(results[0]!.rate).toBeUndefined();
  });

  it('reports lead-off for a flat or missing PPG and respiration', () => {
    for (const kind of ['ppg', 'resp'] as const) {
      const stream = new WaveformStream(kind);
      const flat = feed(stream, new Float64Array(40 * 50).fill(512), 50, [50]);
      const missing = feed(stream, new Array(40 * 50).fill(null), 50, [50], T0 + 40_000);
      for (const r of [...flat, ...missing]) {
        expect(r.leadOff).toBe(true);
        expect(r.rate).toBeUndefined();
      }
    }
  });
});
