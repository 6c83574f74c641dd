import { describe, expect, it } from 'vitest';
import {
  CSS_PX_PER_MM,
  Playout,
  preferredCode,
  SampleRing,
  sweepLayout,
  WaveformChannels,
  type WaveformChunk,
} from './ecg-buffer.ts';

const T0 = Date.parse('2025-03-01T12:00:00Z');
const values = (ring: SampleRing, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => ring.valueAt(from + i));

describe('SampleRing', () => {
  it('places every sample at start + k / rate, across chunks', () => {
    const ring = new SampleRing(250, 10, T0);
    ring.write(T0, [1, 2, 3, 4]);
    ring.write(T0 + 16, [5, 6]); // 4 samples of 4 ms later
    expect(ring.firstIndex).toBe(0);
    expect(ring.endIndex).toBe(6);
    expect(values(ring, 0, 6)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ring.timeOf(5)).toBe(T0 + 20);
    expect(ring.endMs).toBe(T0 + 24);
    expect(ring.indexAt(T0 + 8)).toBe(2);
  });

  it('absorbs timestamp jitter under half a sample', () => {
    const ring = new SampleRing(250, 10, T0);
    ring.write(T0, [1, 2]);
    ring.write(T0 + 8 + 1.5, [3]);
    expect(values(ring, 0, 3)).toEqual([1, 2, 3]);
  });

  it('leaves a hole between chunks as NaN, and a missing sample too', () => {
    const ring = new SampleRing(100, 10, T0);
    ring.write(T0, [1, 2]);
    ring.write(T0 + 50, [3, null, 5]);
    expect(values(ring, 0, 8).map((v) => (Number.isNaN(v) ? 'gap' : v))).toEqual([
      1,
      2,
      'gap',
      'gap',
      'gap',
      3,
      'gap',
      5,
    ]);
  });

  it('overwrites an overlapping resend and fills in a late chunk behind', () => {
    const ring = new SampleRing(100, 10, T0);
    ring.write(T0 + 20, [3, 4, 5]);
    ring.write(T0 + 30, [40, 50, 60]);
    expect(values(ring, 2, 6)).toEqual([3, 40, 50, 60]);
    ring.write(T0, [1, 2]);
    expect(ring.firstIndex).toBe(0);
    expect(values(ring, 0, 6)).toEqual([1, 2, 3, 40, 50, 60]);
  });

  it('keeps only its capacity, wrapping, and drops a chunk older than that', () => {
    const ring = new SampleRing(10, 1, T0); // 10 samples
    for (let k = 0; k < 3; k++)
      ring.write(T0 + k * 600, [k * 6, k * 6 + 1, k * 6 + 2, k * 6 + 3, k * 6 + 4, k * 6 + 5]);
    expect(ring.endIndex).toBe(18);
    expect(ring.firstIndex).toBe(8);
    expect(values(ring, 8, 18)).toEqual([8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect(ring.valueAt(7)).toBeNaN();
    expect(ring.write(T0, [0, 0])).toBe(false);
  });

  it('starts afresh after a jump longer than the buffer (device clock reset)', () => {
    const ring = new SampleRing(10, 1, T0);
    ring.write(T0, [1, 2, 3]);
    ring.write(T0 + 60_000, [7, 8]);
    expect(ring.firstIndex).toBe(600);
    expect(values(ring, 600, 602)).toEqual([7, 8]);
    expect(ring.valueAt(0)).toBeNaN();
  });

  it('handles chunks before the anchor (negative indices)', () => {
    const ring = new SampleRing(10, 1, T0);
    ring.write(T0 - 500, [1, 2, 3]);
    expect(ring.firstIndex).toBe(-5);
    expect(values(ring, -5, -2)).toEqual([1, 2, 3]);
  });

  it('gives the mean and range of finite samples', () => {
    const ring = new SampleRing(100, 1, T0);
    ring.write(T0, [1, null, 3, 5]);
    expect(ring.mean(0, 4)).toBe(3);
    expect(ring.range(0, 4)).toEqual({ min: 1, max: 5 });
    expect(ring.mean(50, 60)).toBeUndefined();
    expect(ring.range(50, 60)).toBeUndefined();
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new SampleRing(0, 1, T0)).toThrow(RangeError);
  });
});

describe('Playout', () => {
  it('delays by the worst lateness of recent chunks plus a chunk and a margin', () => {
    const p = new Playout({ marginMs: 100 });
    expect(p.signalTime(1000)).toBeUndefined();
    // Chunks of 1 s, arriving 300 ms and then 500 ms after their last sample.
    p.observe(T0 + 1300, T0 + 1000, 1000);
    expect(p.signalTime(T0 + 1300)).toBe(T0 + 1300 - 1400);
    p.observe(T0 + 2500, T0 + 2000, 1000);
    // It slides towards the new delay at no more than 5 % of elapsed time.
    const t = p.signalTime(T0 + 2300) as number;
    expect(T0 + 2300 - t).toBeCloseTo(1400 + 50, 6);
    let last = 0;
    for (let wall = T0 + 2300; wall < T0 + 10_000; wall += 16) last = p.signalTime(wall) as number;
    expect(p.delayMs).toBeCloseTo(1600, 6);
    expect(last).toBeGreaterThan(0);
  });

  it('jumps when far off, and forgets on reset', () => {
    const p = new Playout();
    p.observe(T0, T0, 1000);
    p.signalTime(T0);
    p.observe(T0 + 100, T0 - 10_000, 1000);
    const t = p.signalTime(T0 + 100) as number;
    expect(T0 + 100 - t).toBeGreaterThan(10_000);
    p.reset();
    expect(p.signalTime(T0 + 200)).toBeUndefined();
  });
});

describe('sweep layout', () => {
  it('moves at 25 mm/s and aligns sweeps to the window', () => {
    const width = 25 * CSS_PX_PER_MM * 4; // 4 seconds of strip
    const l = sweepLayout(10_500, width);
    expect(l.windowMs).toBeCloseTo(4000, 6);
    expect(l.cycleStart).toBeCloseTo(8000, 6);
    expect(l.cursorX).toBeCloseTo(2.5 * 25 * CSS_PX_PER_MM, 6);
    expect(l.current).toEqual({ from: l.cycleStart, to: 10_500, base: l.cycleStart });
    // The previous sweep shows from just after the gap ahead of the cursor to the start of this one.
    expect(l.previous.to).toBe(l.cycleStart);
    expect((l.previous.from - l.previous.base) * l.pxPerMs).toBeCloseTo(l.cursorX + 12, 6);
    expect((l.previous.to - l.previous.base) * l.pxPerMs).toBeCloseTo(width, 6);
  });
});

describe('WaveformChannels', () => {
  const chunk = (start: number, n: number, over: Partial<WaveformChunk> = {}): WaveformChunk => ({
    deviceId: 'd1',
    code: 'ecg-ii',
    rateHz: 250,
    start: new Date(start).toISOString(),
    samples: Array.from({ length: n }, (_, i) => i / 100),
    unit: 'mV',
    ...over,
  });

  it('keeps each code in its own buffer and says when a code is new', () => {
    const w = new WaveformChannels(10);
    expect(w.push(chunk(T0, 250), T0 + 1300)).toBe(true);
    expect(w.push(chunk(T0 + 1000, 250), T0 + 2300)).toBe(false);
    expect(w.push(chunk(T0, 100, { code: 'ppg', rateHz: 100, unit: '1' }), T0 + 1300)).toBe(true);
    expect(w.codes()).toEqual(['ecg-ii', 'ppg']);
    const ecg = w.get('ecg-ii');
    expect(ecg?.ring.endIndex).toBe(500);
    expect(ecg?.playout.signalTime(T0 + 2300)).toBeLessThan(T0 + 2000);
  });

  it('starts afresh when the device or the rate changes, and ignores empty or bad chunks', () => {
    const w = new WaveformChannels(10);
    w.push(chunk(T0, 250), T0);
    w.push(chunk(T0 + 1000, 500, { rateHz: 500 }), T0);
    expect(w.get('ecg-ii')?.ring.rateHz).toBe(500);
    w.push(chunk(T0 + 2000, 250, { deviceId: 'd2' }), T0);
    expect(w.get('ecg-ii')?.deviceId).toBe('d2');
    expect(w.push(chunk(T0, 0), T0)).toBe(false);
    expect(w.push({ ...chunk(T0, 5), start: 'nope' }, T0)).toBe(false);
  });

  it('prefers lead II for the strip', () => {
    expect(preferredCode(['ppg', 'ecg-i', 'ecg-ii'])).toBe('ecg-ii');
    expect(preferredCode(['ppg', 'ecg-v1'])).toBe('ecg-v1');
    expect(preferredCode(['respiration'])).toBe('respiration');
    expect(preferredCode([])).toBeUndefined();
  });
});
