import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SeriesPoint } from './condition.ts';
import {
  DEFAULT_THRESHOLDS,
  evaluateSeries,
  evaluateThreshold,
  initialThresholdState,
  patientThresholds,
  type ThresholdRule,
  validateThresholdRule,
} from './thresholds.ts';

const T0 = 1_700_000_000_000;
const series = (values: number[], stepMs = 1000): SeriesPoint[] =>
  values.map((value, i) => ({ at: T0 + i * stepMs, value }));
const run = (rule: ThresholdRule, values: number[], stepMs = 1000) =>
  evaluateSeries((s, p) => evaluateThreshold(rule, s, p), initialThresholdState, series(values, stepMs));
const hrHigh: ThresholdRule = {
  vital: 'heart-rate',
  direction: 'high',
  limit: 120,
  hysteresis: 5,
  priority: 'medium',
};

describe('threshold rules', () => {
  it('onset on the first reading above the limit, not at it', () => {
    const r = run(hrHigh, [100, 120, 121]);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({
      type: 'onset',
      condition: 'threshold:heart-rate:high',
      at: T0 + 2000,
      value: 121,
    });
  });
  it('"for N seconds": the breach must last N s', () => {
    const rule = { ...hrHigh, forMs: 10_000 };
    expect(run(rule, [130, 130, 130, 130, 130, 130, 130, 130, 130, 130]).events).toEqual([]); // 9 s
    const r = run(rule, [130, 130, 130, 130, 130, 130, 130, 130, 130, 130, 130]); // 10 s
    expect(r.events.map((e) => [e.type, e.at])).toEqual([['onset', T0 + 10_000]]);
    expect(run(rule, [130, 130, 130, 130, 130, 110, 130, 130, 130, 130, 130]).events).toEqual([]); // interrupted
  });
  it('"N readings in a row"', () => {
    const rule = { ...hrHigh, consecutive: 3 };
    expect(run(rule, [130, 130, 100, 130, 130]).events).toEqual([]);
    expect(run(rule, [130, 130, 130]).events.map((e) => e.type)).toEqual(['onset']);
  });
  it('clears only past the hysteresis margin', () => {
    const r = run(hrHigh, [130, 120, 116, 118, 115]);
    expect(r.events.map((e) => [e.type, e.value])).toEqual([
      ['onset', 130],
      ['clear', 115],
    ]);
    const low: ThresholdRule = {
      vital: 'spo2',
      direction: 'low',
      limit: 90,
      hysteresis: 2,
      priority: 'medium',
    };
    expect(run(low, [89, 91, 92]).events.map((e) => [e.type, e.value])).toEqual([
      ['onset', 89],
      ['clear', 92],
    ]);
  });
  it('clearConsecutive needs readings in a row past the margin', () => {
    const r = run({ ...hrHigh, clearConsecutive: 2 }, [130, 100, 125, 100, 100]);
    expect(r.events.map((e) => [e.type, e.at])).toEqual([
      ['onset', T0],
      ['clear', T0 + 4000],
    ]);
  });
  it('refuses NaN, infinite and out-of-order points with a reason, keeping the state', () => {
    const s1 = evaluateThreshold(hrHigh, initialThresholdState, { at: T0, value: 100 }).state;
    for (const p of [
      { at: T0 + 1, value: Number.NaN },
      { at: Number.NaN, value: 100 },
      { at: T0 - 1, value: 130 },
    ]) {
      const r = evaluateThreshold(hrHigh, s1, p);
      expect(r.refused).toMatch(/heart-rate: (value|at)/);
      expect(r.state).toBe(s1);
    }
  });
  it('validates rules, naming the field', () => {
    expect(validateThresholdRule({ ...hrHigh, consecutive: 0 })).toMatch(/consecutive must be/);
    expect(validateThresholdRule({ ...hrHigh, hysteresis: -1 })).toMatch(/hysteresis/);
    expect(validateThresholdRule({ ...hrHigh, limit: Number.NaN })).toMatch(/limit/);
    expect(DEFAULT_THRESHOLDS.map(validateThresholdRule).filter(Boolean)).toEqual([]);
  });
  it('per-patient limits override the defaults', () => {
    const mine = patientThresholds([{ ...hrHigh, limit: 140 }]);
    expect(mine).toHaveLength(DEFAULT_THRESHOLDS.length);
    expect(mine.find((r) => r.vital === 'heart-rate' && r.direction === 'high')!.limit).toBe(140);
  });
  it('property: onsets and clears alternate, starting with onset, for any finite series', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 5000 }),
        (values, consecutive, forMs) => {
          const r = run({ ...hrHigh, consecutive, forMs }, values);
          expect(r.refused).toEqual([]);
          expect(r.events.map((e) => e.type)).toEqual(
            r.events.map((_, i) => (i % 2 === 0 ? 'onset' : 'clear')),
          );
          for (const e of r.events) {
            if (e.type === 'onset') expect(e.value!).toBeGreaterThan(120);
            else expect(e.value!).toBeLessThanOrEqual(115);
          }
        },
      ),
    );
  });
});
