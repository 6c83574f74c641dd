import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateSeries } from './thresholds.ts';
import {
  DEFAULT_HEART_RATE_TREND,
  evaluateStaleness,
  evaluateTechnical,
  evaluateTrend,
  initialTechnicalState,
  initialTrendState,
  type StalenessState,
  slopePerHour,
  stalenessDueAt,
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

describe('device offline (stale data)', () => {
  const start: StalenessState = { active: false, lastSeenAt: T0 };
  it('goes offline at twice the expected interval, not before, and clears on data', () => {
    expect(evaluateStaleness('d1', 5000, start, { type: 'tick', now: T0 + 9999 }).events).toEqual([]);
    const off = evaluateStaleness('d1', 5000, start, { type: 'tick', now: T0 + 10_000 });
    expect(off.events[0]).toMatchObject({
      type: 'onset',
      condition: 'technical:device-offline:d1',
      category: 'technical',
    });
    expect(evaluateStaleness('d1', 5000, off.state, { type: 'tick', now: T0 + 20_000 }).events).toEqual([]);
    const back = evaluateStaleness('d1', 5000, off.state, { type: 'data', at: T0 + 21_000 });
    expect(back.events.map((e) => e.type)).toEqual(['clear']);
    expect(stalenessDueAt(back.state, 5000)).toBe(T0 + 31_000);
  });
  it("does not count the platform's own downtime: silence counts from when it listens again", () => {
    // Data every second until T0; the platform is down 11 s and listens again at T0 + 11 s.
    const listening = evaluateStaleness('d1', 1000, start, { type: 'listening', at: T0 + 11_000 });
    expect(listening.events).toEqual([]);
    expect(stalenessDueAt(listening.state, 1000)).toBe(T0 + 13_000);
    expect(evaluateStaleness('d1', 1000, listening.state, { type: 'tick', now: T0 + 12_000 }).events).toEqual(
      [],
    );
    // A device back within twice its interval raises nothing.
    const back = evaluateStaleness('d1', 1000, listening.state, { type: 'data', at: T0 + 12_500 });
    expect(back.events).toEqual([]);
    // One that stays silent is found at twice its interval after the platform listens, saying so.
    const off = evaluateStaleness('d1', 1000, listening.state, { type: 'tick', now: T0 + 13_000 });
    expect(off.events[0]).toMatchObject({
      type: 'onset',
      reason: 'no data for 13 s (expected every 1 s), 2 s of it since the platform started listening',
    });
    // Listening before the last data changes nothing.
    const early = evaluateStaleness('d1', 1000, start, { type: 'listening', at: T0 - 5000 });
    expect(stalenessDueAt(early.state, 1000)).toBe(T0 + 2000);
  });
  it('after a start, gives devices the reconnect grace where it is longer than twice their interval', () => {
    const listening = (intervalMs: number) =>
      evaluateStaleness('d1', intervalMs, start, {
        type: 'listening',
        at: T0 + 11_000,
        reconnectGraceMs: 30_000,
      }).state;
    const fast = listening(1000);
    expect(stalenessDueAt(fast, 1000)).toBe(T0 + 41_000);
    expect(evaluateStaleness('d1', 1000, fast, { type: 'tick', now: T0 + 40_999 }).events).toEqual([]);
    expect(evaluateStaleness('d1', 1000, fast, { type: 'tick', now: T0 + 41_000 }).events[0]).toMatchObject({
      type: 'onset',
      reason: 'no data for 41 s (expected every 1 s), 30 s of it since the platform started listening',
    });
    // A device reporting every minute: twice its interval is the longer, and rules.
    expect(stalenessDueAt(listening(60_000), 60_000)).toBe(T0 + 131_000);
    // Once it has reported again the grace is spent: its next silence is judged at twice its interval.
    const back = evaluateStaleness('d1', 1000, fast, { type: 'data', at: T0 + 20_000 });
    expect(stalenessDueAt(back.state, 1000)).toBe(T0 + 22_000);
    // Listening before the last data: no grace (the device was heard since).
    const early = evaluateStaleness('d1', 1000, start, {
      type: 'listening',
      at: T0 - 5000,
      reconnectGraceMs: 30_000,
    });
    expect(stalenessDueAt(early.state, 1000)).toBe(T0 + 2000);
  });
  it('property: offline exactly at the first tick twice the interval (or the grace) after max(last data, listening)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: -120, max: 120 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 90 }),
        (intervalS, listenS, tickS, graceS) => {
          const i = intervalS * 1000;
          const listenAt = T0 + listenS * 1000;
          const listen = { type: 'listening' as const, at: listenAt, reconnectGraceMs: graceS * 1000 };
          let st = evaluateStaleness('d1', i, start, listen).state;
          const due = Math.max(T0, listenAt) + (listenAt > T0 ? Math.max(2 * i, graceS * 1000) : 2 * i);
          let onsetAt: number | undefined;
          for (const t of [...tickS].sort((a, b) => a - b).map((x) => T0 + x * 1000)) {
            const r = evaluateStaleness('d1', i, st, { type: 'tick', now: t });
            st = r.state;
            if (r.events.length > 0 && onsetAt === undefined) onsetAt = t;
          }
          const firstDueTick = [...tickS]
            .sort((a, b) => a - b)
            .map((x) => T0 + x * 1000)
            .find((t) => t >= due);
          expect(onsetAt).toBe(firstDueTick);
        },
      ),
    );
  });
  it('refuses a bad interval or time', () => {
    expect(evaluateStaleness('d1', 0, start, { type: 'tick', now: T0 }).refused).toMatch(
      /expectedIntervalMs/,
    );
    expect(evaluateStaleness('d1', 5000, start, { type: 'data', at: Number.NaN }).refused).toMatch(/finite/);
  });
});

describe('technical conditions', () => {
  it('lead off, low battery with hysteresis, poor signal for 10 s', () => {
    let s = initialTechnicalState;
    const types: string[] = [];
    const report = (r: Parameters<typeof evaluateTechnical>[2]) => {
      const step = evaluateTechnical('d1', s, r);
      s = step.state;
      types.push(...step.events.map((e) => `${e.type} ${e.condition}`));
    };
    report({ at: T0, leadOff: true, battery: 50, signalQuality: 0.9 });
    report({ at: T0 + 1000, leadOff: false, battery: 19 });
    report({ at: T0 + 2000, battery: 22 });
    report({ at: T0 + 3000, battery: 25, signalQuality: 0.3 });
    report({ at: T0 + 13_000, signalQuality: 0.3 });
    report({ at: T0 + 14_000, signalQuality: 0.65 });
    expect(types).toEqual([
      'onset technical:lead-off:d1',
      'clear technical:lead-off:d1',
      'onset technical:low-battery:d1',
      'clear technical:low-battery:d1',
      'onset technical:poor-signal:d1',
      'clear technical:poor-signal:d1',
    ]);
  });
  it('refuses a NaN battery with a reason naming it', () => {
    expect(evaluateTechnical('d1', initialTechnicalState, { at: T0, battery: Number.NaN }).refused).toMatch(
      /battery: value/,
    );
  });
});
