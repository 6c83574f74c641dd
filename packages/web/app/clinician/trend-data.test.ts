import { describe, expect, it } from 'vitest';
import { alignSeries, maxSilenceSeconds, summarise, type Trends, trendWindow } from './trend-data.ts';

const T0 = Date.parse('2025-03-01T00:00:00Z');
const pt = (minutes: number, avg: number, min = avg, max = avg) => ({
  t: new Date(T0 + minutes * 60_000).toISOString(),
  n: 1,
  avg,
  min,
  max,
});
const s = (minutes: number) => (T0 + minutes * 60_000) / 1000;

const trends = (series: Trends['series'], bucketSeconds = 60): Trends => ({
  patientId: 'p1',
  from: new Date(T0).toISOString(),
  to: new Date(T0 + 86_400_000).toISOString(),
  bucketSeconds,
  series,
});

describe('aligning trend series for a chart', () => {
  it('puts series on one time axis, drawing through where only the other has a point', () => {
    const a = alignSeries(
      trends({ 'heart-rate': [pt(0, 70), pt(2, 72)], 'pulse-rate': [pt(1, 71), pt(2, 73)] }),
      ['heart-rate', 'pulse-rate'],
    );
    expect(a.x).toEqual([s(0), s(1), s(2)]);
    expect(a.ys).toEqual([
      [70, undefined, 72],
      [undefined, 71, 73],
    ]);
  });

  it('breaks a line where its own silence is longer than its usual spacing', () => {
    const a = alignSeries(trends({ spo2: [pt(0, 95), pt(1, 96), pt(60, 94)] }), ['spo2']);
    // 59 min without SpO2 is more than 10 min: a null right after the last point before the silence.
    expect(a.x).toEqual([s(0), s(1), s(2), s(60)]);
    expect(a.ys[0]).toEqual([95, 96, null, 94]);
  });

  it('draws blood pressure an hour apart as a line, and NEWS2 across any silence', () => {
    const bp = alignSeries(trends({ 'bp-systolic': [pt(0, 120), pt(60, 130)] }), ['bp-systolic']);
    expect(bp.ys[0]).toEqual([120, 130]);
    const n = alignSeries(trends({ news2: [pt(0, 1), pt(600, 5)] }), ['news2']);
    expect(n.ys[0]).toEqual([1, 5]);
    expect(maxSilenceSeconds('heart-rate', 1800)).toBe(5400);
  });

  it('is empty for a series without data', () => {
    expect(alignSeries(trends({}), ['spo2'])).toEqual({ x: [], ys: [[]] });
  });
});

describe('trend summary and window', () => {
  it('gives the latest value and the extremes of the bucket minima and maxima', () => {
    const sum = summarise(trends({ 'heart-rate': [pt(2, 80, 60, 90), pt(0, 70, 55, 120)] }), 'heart-rate');
    expect(sum).toEqual({
      code: 'heart-rate',
      latest: 80,
      latestAt: pt(2, 0).t,
      min: 55,
      max: 120,
      points: 2,
    });
    expect(summarise(trends({}), 'spo2')).toEqual({ code: 'spo2', points: 0 });
  });

  it('asks for the last 24 hours or 7 days', () => {
    const now = T0 + 10 * 86_400_000;
    expect(trendWindow('24h', now)).toEqual({
      from: new Date(now - 86_400_000).toISOString(),
      to: new Date(now).toISOString(),
    });
    expect(Date.parse(trendWindow('7d', now).from)).toBe(now - 7 * 86_400_000);
  });
});
