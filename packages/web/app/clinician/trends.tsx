/**
 * Trends of a patient over the last 24 hours or 7 days: heart rate, SpO2, respiratory rate, blood
 * pressure, temperature and NEWS2, one uPlot chart each (bucket averages; a break where a series was
 * silent). Each chart says its latest value and range in text, and series differ by dash as well as
 * colour. Loaded as its own chunk from the patient view, so the census never downloads uPlot.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { get, query } from '../api.ts';
import { useLoad } from '../ui/async.ts';
import { ErrorNotice, Loading } from '../ui/kit.tsx';
import { serverNow } from './census-cache.ts';
import {
  alignSeries,
  summarise,
  TREND_CHARTS,
  TREND_CODES,
  type TrendChart,
  type Trends,
  trendWindow,
} from './trend-data.ts';
import { formatVital, VITAL_INFO } from './vitals.ts';

type Range = '24h' | '7d';
const REFRESH_MS = 60_000;

export function TrendsPanel({ patientId }: { patientId: string }) {
  const [range, setRange] = useState<Range>('24h');
  const [generation, setGeneration] = useState(0);
  // The last minutes keep coming in: refresh the picture every minute.
  useEffect(() => {
    const t = setInterval(() => setGeneration((g) => g + 1), REFRESH_MS);
    return () => clearInterval(t);
  }, []);
  const trends = useLoad(
    () =>
      get<Trends>(
        `/api/v1/patients/${encodeURIComponent(patientId)}/trends${query({
          codes: TREND_CODES.join(','),
          ...trendWindow(range, serverNow()),
        })}`,
      ),
    [patientId, range, generation],
  );
  return (
    <div class="trends">
      <fieldset class="choice-group">
        <legend class="visually-hidden">Trend period</legend>
        {(
          [
            ['24h', 'Last 24 hours'],
            ['7d', 'Last 7 days'],
          ] as const
        ).map(([value, label]) => (
          <button key={value} type="button" aria-pressed={range === value} onClick={() => setRange(value)}>
            {label}
          </button>
        ))}
      </fieldset>
      <ErrorNotice error={trends.error} />
      {!trends.data ? (
        trends.error ? null : (
          <Loading what="the trends" />
        )
      ) : (
        <div class="trend-grid">
          {TREND_CHARTS.map((c) => (
            <TrendFigure key={c.id} chart={c} trends={trends.data as Trends} />
          ))}
        </div>
      )}
    </div>
  );
}

const DASHES: readonly number[][] = [[], [6, 4], [2, 3]];

function TrendFigure({ chart, trends }: { chart: TrendChart; trends: Trends }) {
  const box = useRef<HTMLDivElement>(null);
  const summaries = chart.codes.map((c) => summarise(trends, c)).filter((s) => s.points > 0);
  const hasData = summaries.length > 0;

  useEffect(() => {
    const el = box.current;
    if (!el || !hasData) return;
    const style = getComputedStyle(el);
    const css = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
    const colours = [css('--trend-1', '#0b5cad'), css('--trend-2', '#8a4b00'), css('--trend-3', '#1d6b34')];
    const axis = { stroke: css('--muted', '#4a5968'), grid: { stroke: css('--line', '#c9d2dc'), width: 1 } };
    const aligned = alignSeries(trends, chart.codes);
    const from = Date.parse(trends.from) / 1000;
    const to = Date.parse(trends.to) / 1000;
    const plot = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: 170,
        scales: { x: { time: true, range: [from, to] } },
        axes: [axis, { ...axis, size: 44 }],
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        series: [
          {},
          ...chart.codes.map((code, i) => ({
            label: VITAL_INFO[code]?.short ?? code,
            stroke: colours[i % colours.length],
            width: 2,
            dash: DASHES[i % DASHES.length] as number[],
            ...(code === 'news2' ? { paths: uPlot.paths.stepped?.({ align: 1 }) } : {}),
            value: (_u: uPlot, v: number | null) =>
              v === null || v === undefined ? '–' : formatVital(code, v),
          })),
        ],
      },
      [aligned.x, ...aligned.ys] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(200, el.clientWidth), height: 170 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [trends, chart, hasData]);

  const titleId = `trend-${chart.id}`;
  return (
    <figure class="trend-figure" aria-labelledby={titleId}>
      <figcaption>
        <h3 id={titleId}>
          {chart.title}
          {chart.unit ? <span class="muted"> ({chart.unit})</span> : null}
        </h3>
        <p class="trend-summary">
          {hasData
            ? summaries
                .map(
                  (s) =>
                    `${VITAL_INFO[s.code]?.short ?? s.code}: latest ${formatVital(s.code, s.latest)}, range ${formatVital(s.code, s.min)}–${formatVital(s.code, s.max)}`,
                )
                .join('; ')
            : 'No data in this period.'}
        </p>
      </figcaption>
      {hasData ? <div ref={box} class="trend-canvas" aria-hidden="true" /> : null}
    </figure>
  );
}
