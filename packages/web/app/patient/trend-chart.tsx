/**
 * One vital sign's trend as a uPlot chart: the average per bucket as a solid line, the lowest and highest
 * as dashed lines, and the usual adult range as a shaded band. The chart is a picture: the same series is
 * said in words right under it (and is the chart's accessible name).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { chartColumns, type TrendPoint } from './trend.ts';
import { usualRange, VITAL_INFO } from './vitals.ts';

const HEIGHT = 180;

const cssVar = (name: string, fallback: string): string =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

export function TrendChart(props: {
  code: string;
  points: readonly TrendPoint[];
  bucketS: number;
  /** The window shown, epoch ms: the whole period, however little of it has data. */
  from: number;
  to: number;
  summary: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const info = VITAL_INFO.get(props.code);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const text = cssVar('--text', '#14202b');
    const muted = cssVar('--muted', '#4a5968');
    const accent = cssVar('--accent', '#0b5cad');
    const band = cssVar('--ok-bg', '#e2f4e7');
    const line = cssVar('--line', '#c9d2dc');
    const axis: uPlot.Axis = {
      stroke: muted,
      grid: { stroke: line, width: 1 },
      ticks: { stroke: line, width: 1 },
    };
    const opts: uPlot.Options = {
      width: Math.max(260, el.clientWidth),
      height: HEIGHT,
      scales: {
        x: { time: true, range: () => [props.from / 1000, props.to / 1000] },
        y: {
          // Keep the usual range in view so a reading is seen against it.
          range: (_u, min, max) => {
            const lo = Math.min(min ?? info?.low ?? 0, info?.low ?? Number.POSITIVE_INFINITY);
            const hi = Math.max(max ?? info?.high ?? 1, info?.high ?? Number.NEGATIVE_INFINITY);
            const pad = Math.max((hi - lo) * 0.1, 1);
            return [Math.floor(lo - pad), Math.ceil(hi + pad)];
          },
        },
      },
      series: [
        {},
        // uPlot shows the points themselves when they are few (an isolated reading is then still seen).
        { label: 'Average', stroke: accent, width: 2 },
        { label: 'Lowest', stroke: muted, width: 1, dash: [4, 4], points: { show: false } },
        { label: 'Highest', stroke: text, width: 1, dash: [1, 3], points: { show: false } },
      ],
      axes: [axis, { ...axis, size: 44 }],
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      hooks: info
        ? {
            drawClear: [
              (u) => {
                const top = u.valToPos(info.high, 'y', true);
                const bottom = u.valToPos(info.low, 'y', true);
                u.ctx.save();
                u.ctx.fillStyle = band;
                u.ctx.fillRect(u.bbox.left, top, u.bbox.width, bottom - top);
                u.ctx.restore();
              },
            ],
          }
        : {},
    };
    const plot = new uPlot(opts, chartColumns(props.points, props.bucketS) as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(260, el.clientWidth), height: HEIGHT }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.points, props.bucketS, props.from, props.to, props.code, info]);
  return (
    <figure class="trend-chart" data-testid="trend-chart" data-code={props.code}>
      <div ref={host} class="trend-plot" role="img" aria-label={props.summary} />
      <figcaption>
        {props.summary}
        {info ? <span class="hint"> Shaded band: the usual range, {usualRange(info)}.</span> : null}
      </figcaption>
    </figure>
  );
}
