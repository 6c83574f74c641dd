/**
 * Trend windows and series for the patient's charts: the query for a window, the columns uPlot draws (a
 * gap in the data breaks the line rather than drawing across it), and the same series in words for people
 * who cannot see the chart.
 */
import { formatNumber, VITAL_INFO } from './vitals.ts';

/** One bucket of a series, as `GET /api/v1/patients/{id}/trends` answers. */
export interface TrendPoint {
  readonly t: string;
  readonly n: number;
  readonly avg: number;
  readonly min: number;
  readonly max: number;
}

export interface TrendsAnswer {
  /** The window the platform answered for (ISO instants). */
  readonly from?: string;
  readonly to?: string;
  readonly series: Readonly<Record<string, readonly TrendPoint[]>>;
}

export type TrendWindow = '24h' | '7d';

export const TREND_WINDOWS: Readonly<Record<TrendWindow, { label: string; ms: number; bucketS: number }>> = {
  // ~96 and ~168 points: enough to see a trend on a phone without thinning the line to noise.
  '24h': { label: 'Last 24 hours', ms: 86_400_000, bucketS: 900 },
  '7d': { label: 'Last 7 days', ms: 7 * 86_400_000, bucketS: 3600 },
};

/** The trends path for a window ending now. */
export function trendsPath(
  patientId: string,
  window: TrendWindow,
  codes: readonly string[],
  now: number,
): string {
  const w = TREND_WINDOWS[window];
  const q = new URLSearchParams({
    codes: codes.join(','),
    from: new Date(now - w.ms).toISOString(),
    to: new Date(now).toISOString(),
    bucket: String(w.bucketS),
  });
  return `/api/v1/patients/${encodeURIComponent(patientId)}/trends?${q}`;
}

/** uPlot columns: x in epoch seconds, then average, minimum and maximum (null = no line). */
export type ChartColumns = [number[], (number | null)[], (number | null)[], (number | null)[]];

/**
 * Points sorted by time; where two neighbours are further apart than 1.5 buckets a null point is put
 * between them, so the chart shows the gap (the device was off) instead of a line across it.
 */
export function chartColumns(points: readonly TrendPoint[], bucketS: number): ChartColumns {
  const sorted = [...points]
    .map((p) => ({ ...p, x: Date.parse(p.t) / 1000 }))
    .filter((p) => Number.isFinite(p.x))
    .sort((a, b) => a.x - b.x);
  const cols: ChartColumns = [[], [], [], []];
  let previous: number | undefined;
  for (const p of sorted) {
    if (previous !== undefined && p.x - previous > 1.5 * bucketS) {
      cols[0].push(previous + bucketS);
      cols[1].push(null);
      cols[2].push(null);
      cols[3].push(null);
    }
    cols[0].push(p.x);
    cols[1].push(p.avg);
    cols[2].push(p.min);
    cols[3].push(p.max);
    previous = p.x;
  }
  return cols;
}

/** The series in one sentence: lowest, highest, average over the window, or that there is nothing. */
export function trendSummary(code: string, points: readonly TrendPoint[], windowLabel: string): string {
  const i = VITAL_INFO.get(code);
  const name = i?.title ?? code;
  const n = points.reduce((s, p) => s + p.n, 0);
  if (n === 0) return `${name}: no readings in the ${windowLabel.toLowerCase()}.`;
  const decimals = i?.decimals ?? 1;
  const unit = i?.unit ? ` ${i.unit}` : '';
  const low = Math.min(...points.map((p) => p.min));
  const high = Math.max(...points.map((p) => p.max));
  const avg = points.reduce((s, p) => s + p.avg * p.n, 0) / n;
  const f = (v: number) => formatNumber(v, decimals);
  return `${name}, ${windowLabel.toLowerCase()}: lowest ${f(low)}${unit}, highest ${f(high)}${unit}, average ${f(avg)}${unit} (${n} ${n === 1 ? 'reading' : 'readings'}).`;
}
