import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateSeries } from './thresholds.ts';
import {
  DEFAULT_HEART_RATE_TREND,
  evaluateTrend,
  initialTrendState,
  slopePerHour,
  type TrendRule,
  type TrendState,
  trendPoints,
  trendSlope,
} from './trends.ts';

const T0 = 1_700_000_000_000;
const MIN = 60_000;

describe('slopePerHour', () => {
  it('fits a straight line exactly, even at epoch-millisecond times', () => {
    const pts = Array.from({ length: 31 }, (_, i) => ({ at: T0 + i * MIN, value: 70 + 0.5 * i }));
    expect(slopePerHour(pts)).toBeCloseTo(30, 9);
    expect(slopePerHour(pts.slice(0, 1))).toBeUndefined();
    expect(slopePerHour([pts[0]!, { ...pts[0]! }])).toBeUndefined();
  });
  it('property: never NaN for finite points', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 1e12 }),
            value: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
          }),
        ),
        (pts) => {
          const s = slopePerHour(pts);
          if (s !== undefined) expect(Number.isFinite(s)).toBe(true);
        },
      ),
    );
  });
});

describe('heart-rate rise trend', () => {
  const feed = (f: (i: number) => number, minutes: number) =>
    evaluateSeries(
      (s, p) => evaluateTrend(DEFAULT_HEART_RATE_TREND, s, p),
      initialTrendState,
      Array.from({ length: minutes + 1 }, (_, i) => ({ at: T0 + i * MIN, value: f(i) })),
    );
  it('fires on a sustained rise of 20/min over 30 min, once', () => {
    const r = feed((i) => 70 + (20 * i) / 30, 40);
    expect(r.events.map((e) => e.type)).toEqual(['onset']);
    expect(r.events[0]!.at).toBe(T0 + 24 * MIN); // window 80 % covered
    expect(r.events[0]!.condition).toBe('trend:heart-rate:rise');
  });
  it('stays quiet on a flat or noisy flat series and on a slow drift', () => {
    expect(feed((i) => 80 + (i % 2 === 0 ? 5 : -5), 60).events).toEqual([]);
    expect(feed((i) => 70 + (5 * i) / 30, 60).events).toEqual([]);
  });
  it('clears when the rise stops (slope below half the threshold)', () => {
    const r = feed((i) => (i <= 30 ? 70 + i : 100), 80);
    expect(r.events.map((e) => e.type)).toEqual(['onset', 'clear']);
  });
});

describe('trend window (incremental sums)', () => {
  /** Irregular, non-decreasing times with gaps long enough to empty the window, and noisy values. */
  const series = fc
    .array(
      fc.record({
        gap: fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 3 * 3_600_000 })),
        value: fc.double({ min: 20, max: 250, noNaN: true }),
      }),
      { maxLength: 300 },
    )
    .map((steps) => {
      let at = T0;
      return steps.map(({ gap, value }) => {
        at += gap;
        return { at, value };
      });
    });
  const rule: TrendRule = { ...DEFAULT_HEART_RATE_TREND, windowMs: 10 * MIN, minPoints: 3 };

  it('property: holds exactly the points the window covers, and their least-squares slope', () => {
    fc.assert(
      fc.property(series, (points) => {
        let state: TrendState = initialTrendState;
        for (const [i, p] of points.entries()) {
          state = evaluateTrend(rule, state, p).state;
          // The reference: every point so far newer than the window's start, fitted from scratch.
          const expected = points.slice(0, i + 1).filter((q) => q.at > p.at - rule.windowMs);
          expect(trendPoints(state)).toEqual(expected);
          const want = slopePerHour(expected);
          const got = trendSlope(state);
          if (want === undefined) expect(got).toBeUndefined();
          else expect(Math.abs((got as number) - want)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(want)));
        }
      }),
    );
  });

  it('property: a state stepped twice gives the same answers (the shared log never leaks)', () => {
    fc.assert(
      fc.property(series, fc.nat(), (points, pick) => {
        if (points.length < 2) return;
        const states: TrendState[] = [initialTrendState];
        for (const p of points) states.push(evaluateTrend(rule, states.at(-1)!, p).state);
        const k = pick % (states.length - 1);
        const before = trendPoints(states[k]!);
        const next = { at: points.at(-1)!.at + 1_000, value: 80 };
        // Branch from an old state, then from the newest: neither sees the other's point.
        const branch = evaluateTrend(rule, states[k]!, { ...next, at: (points[k - 1]?.at ?? T0) + 1 });
        const main = evaluateTrend(rule, states.at(-1)!, next);
        expect(trendPoints(states[k]!)).toEqual(before);
        expect(trendPoints(branch.state).at(-1)?.value).toBe(80);
        expect(trendPoints(main.state)).toEqual([
          ...points.filter((q) => q.at > next.at - rule.windowMs),
          next,
        ]);
      }),
    );
  });

  it('keeps a long stream exact across compactions (1 Hz for 3 hours)', () => {
    let state: TrendState = initialTrendState;
    const minutes = 180;
    for (let i = 0; i <= minutes * 60; i++)
      state = evaluateTrend(DEFAULT_HEART_RATE_TREND, state, {
        at: T0 + i * 1000,
        value: 70 + i / 120,
      }).state;
    expect(trendPoints(state)).toHaveLength(30 * 60);
    expect(trendSlope(state)).toBeCloseTo(30, 6); // +0.5/min = 30/h
    expect(state.window.log.at.length).toBeLessThan(30 * 60 + 4096 + 2);
  });
});
