/**
 * `GET /api/v1/patients/{id}/trends` turned into what the charts draw: one shared time axis per chart,
 * each series' bucket averages on it, and an explicit break where a series has no data for longer than
 * its usual spacing (a monitor taken off for an hour is a gap, not a straight line). Pure.
 */

export interface TrendPoint {
  /** Bucket start, ISO instant. */
  readonly t: string;
  readonly n: number;
  readonly avg: number;
  readonly min: number;
  readonly max: number;
}

export interface Trends {
  readonly patientId: string;
  readonly from: string;
  readonly to: string;
  readonly bucketSeconds: number;
  readonly series: Readonly<Record<string, readonly TrendPoint[]>>;
}

export interface TrendChart {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly codes: readonly string[];
}

export const TREND_CHARTS: readonly TrendChart[] = [
  { id: 'hr', title: 'Heart rate', unit: '/min', codes: ['heart-rate', 'pulse-rate'] },
  { id: 'spo2', title: 'Oxygen saturation (SpO₂)', unit: '%', codes: ['spo2'] },
  { id: 'rr', title: 'Respiratory rate', unit: '/min', codes: ['respiratory-rate'] },
  { id: 'bp', title: 'Blood pressure', unit: 'mmHg', codes: ['bp-systolic', 'bp-diastolic', 'bp-mean'] },
  { id: 'temp', title: 'Temperature', unit: '°C', codes: ['body-temperature'] },
  { id: 'news2', title: 'NEWS2 score', unit: 'points', codes: ['news2'] },
];

export const TREND_CODES: readonly string[] = TREND_CHARTS.flatMap((c) => c.codes);

const MIN_S = 60;
/** Longest silence still drawn as a line, by code: monitors are continuous, BP and temperature are not. */
const MAX_SILENCE_S: Readonly<Record<string, number>> = {
  'bp-systolic': 2 * 3600,
  'bp-diastolic': 2 * 3600,
  'bp-mean': 2 * 3600,
  'body-temperature': 13 * 3600,
  // NEWS2 is recorded when it changes: between two points it held the earlier value.
  news2: Number.POSITIVE_INFINITY,
};

export function maxSilenceSeconds(code: string, bucketSeconds: number): number {
  return Math.max(3 * bucketSeconds, MAX_SILENCE_S[code] ?? 10 * MIN_S);
}

/**
 * uPlot's data: x in epoch seconds; per series a value, `undefined` where only another series has a point
 * (drawn through) and `null` where the series itself is silent too long (a break).
 */
export interface Aligned {
  readonly x: number[];
  readonly ys: (number | null | undefined)[][];
}

export function alignSeries(trends: Trends, codes: readonly string[]): Aligned {
  const byCode = codes.map((c) => {
    const m = new Map<number, number>();
    for (const p of trends.series[c] ?? []) {
      const t = Math.round(Date.parse(p.t) / 1000);
      if (Number.isFinite(t) && Number.isFinite(p.avg)) m.set(t, p.avg);
    }
    return m;
  });
  const times = new Set<number>();
  for (const m of byCode) for (const t of m.keys()) times.add(t);
  // A break marker just after each over-long silence, so the line stops there.
  codes.forEach((c, i) => {
    const own = [...(byCode[i] as Map<number, number>).keys()].sort((a, b) => a - b);
    const limit = maxSilenceSeconds(c, trends.bucketSeconds);
    for (let k = 1; k < own.length; k++) {
      const prev = own[k - 1] as number;
      if ((own[k] as number) - prev > limit) times.add(prev + trends.bucketSeconds);
    }
  });
  const x = [...times].sort((a, b) => a - b);
  const ys = codes.map((c, i) => {
    const m = byCode[i] as Map<number, number>;
    const limit = maxSilenceSeconds(c, trends.bucketSeconds);
    const own = [...m.keys()].sort((a, b) => a - b);
    let j = 0;
    return x.map((t) => {
      const v = m.get(t);
      if (v !== undefined) return v;
      // Between two own points: a break if they are too far apart, else drawn through.
      while (j < own.length && (own[j] as number) < t) j++;
      const before = own[j - 1];
      const after = own[j];
      if (before === undefined || after === undefined) return undefined;
      return after - before > limit ? null : undefined;
    });
  });
  return { x, ys };
}

export interface TrendSummary {
  readonly code: string;
  readonly latest?: number;
  readonly latestAt?: string;
  readonly min?: number;
  readonly max?: number;
  readonly points: number;
}

/** The text beside a chart (the same facts without seeing it): latest, lowest and highest. */
export function summarise(trends: Trends, code: string): TrendSummary {
  const points = trends.series[code] ?? [];
  if (points.length === 0) return { code, points: 0 };
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let latest = points[0] as TrendPoint;
  for (const p of points) {
    if (p.min < min) min = p.min;
    if (p.max > max) max = p.max;
    if (Date.parse(p.t) >= Date.parse(latest.t)) latest = p;
  }
  return { code, latest: latest.avg, latestAt: latest.t, min, max, points: points.length };
}

/** The query window: the last 24 hours or 7 days up to `now`. */
export function trendWindow(range: '24h' | '7d', now: number): { from: string; to: string } {
  const span = range === '24h' ? 86_400_000 : 7 * 86_400_000;
  return { from: new Date(now - span).toISOString(), to: new Date(now).toISOString() };
}
