import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BeatHistory } from './beat-history.ts';
import { SampleRing } from './sample-ring.ts';

describe('SampleRing', () => {
  it('copies and counts missing samples like a plain array, across wrap-around', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(Number.NaN)), {
          maxLength: 150,
        }),
        fc.nat(),
        fc.nat(),
        (capacity, values, a, b) => {
          const ring = new SampleRing(capacity);
          for (const v of values) ring.push(v);
          expect(ring.length).toBe(values.length);
          expect(ring.oldest).toBe(Math.max(0, values.length - capacity));
          if (values.length === 0) return;
          const held = values.length - ring.oldest;
          const from = ring.oldest + (a % held);
          const to = from + (b % (values.length - from + 1));
          const out = new Float64Array(to - from);
          ring.copy(from, to, out);
          expect(Array.from(out)).toEqual(values.slice(from, to));
          const naive = values.slice(from, to + 1).filter(Number.isNaN).length;
          expect(ring.missingBetween(from, to)).toBe(naive);
          if (ring.oldest > 0)
            expect(ring.missingBetween(ring.oldest - 1, to)).toBe(Number.POSITIVE_INFINITY);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('BeatHistory', () => {
  it('keeps the latest beats and marks an interval valid only when both beats are good and linked', () => {
    const h = new BeatHistory(4);
    h.add(0, true, false);
    h.add(100, true, true);
    h.add(200, false, true);
    h.add(300, true, true);
    h.add(400, true, true);
    h.add(500, true, false);
    expect(h.size).toBe(4);
    expect(h.last).toBe(500);
    // Beats 200–500 remain; intervals end at 300, 400, 500 (1 s each at 100 Hz).
    const rr = h.intervals(0, 1000, 100);
    expect(rr.map((r) => [r.end, r.seconds, r.valid])).toEqual([
      [300, 1, false], // previous beat not good
      [400, 1, true],
      [500, 1, false], // not linked (missing samples before it)
    ]);
    expect(h.intervals(350, 450, 100).map((r) => r.end)).toEqual([400]);
  });
});
