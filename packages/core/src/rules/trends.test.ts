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
