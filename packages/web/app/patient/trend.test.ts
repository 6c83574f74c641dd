import { describe, expect, it } from 'vitest';
import { chartColumns, type TrendPoint, trendSummary, trendsPath } from './trend.ts';

const at = (min: number) => new Date(Date.UTC(2026, 0, 1, 0, min)).toISOString();
const p = (min: number, avg: number, n = 1): TrendPoint => ({
  t: at(min),
  n,
  avg,
  min: avg - 1,
  max: avg + 1,
});

describe('patient trends', () => {
  it('asks for the window ending now, with the bucket for its length', () => {
    const now = Date.UTC(2026, 0, 8);
    const path = trendsPath('p/1', '7d', ['heart-rate', 'spo2'], now);
    const url = new URL(path, 'http://x');
    expect(url.pathname).toBe('/api/v1/patients/p%2F1/trends');
    expect(url.searchParams.get('codes')).toBe('heart-rate,spo2');
    expect(url.searchParams.get('from')).toBe('2026-01-01T00:00:00.000Z');
    expect(url.searchParams.get('to')).toBe('2026-01-08T00:00:00.000Z');
    expect(url.searchParams.get('bucket')).toBe('3600');
    expect(new URL(trendsPath('p', '24h', ['news2'], now), 'http://x').searchParams.get('bucket')).toBe(
      '900',
    );
  });

  it('sorts points and breaks the line where data is missing', () => {
    const cols = chartColumns([p(30, 72), p(0, 70), p(15, 71)], 900);
    expect(cols[0]).toEqual([0, 15, 30].map((m) => Date.parse(at(m)) / 1000));
    expect(cols[1]).toEqual([70, 71, 72]);
    const gap = chartColumns([p(0, 70), p(15, 71), p(120, 80)], 900);
    expect(gap[1]).toEqual([70, 71, null, 80]);
    expect(gap[0][2]).toBe(Date.parse(at(30)) / 1000);
    expect(gap[2]).toEqual([69, 70, null, 79]);
    expect(chartColumns([], 900)).toEqual([[], [], [], []]);
  });

  it('says the series in words for people who cannot see the chart', () => {
    expect(trendSummary('spo2', [p(0, 97, 3), p(15, 95, 1)], 'Last 24 hours')).toBe(
      'Oxygen saturation, last 24 hours: lowest 94 %, highest 98 %, average 97 % (4 readings).',
    );
    expect(trendSummary('heart-rate', [], 'Last 7 days')).toBe('Heart rate: no readings in the last 7 days.');
  });
});
