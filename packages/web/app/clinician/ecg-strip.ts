/**
 * Draws a waveform channel (ecg-buffer.ts) on a canvas as a bedside monitor does: a sweep at 25 mm/s over
 * ECG paper (1 mm and 5 mm grid), 10 mm/mV for ECG (other waveforms are scaled to fit), every sample at
 * its own time, a gap where samples are missing or the stream stopped. One requestAnimationFrame loop;
 * the canvas follows its CSS size and the device pixel ratio, so lines stay sharp on HiDPI screens.
 */
import {
  type Channel,
  CSS_PX_PER_MM,
  GAIN_MM_PER_MV,
  type SweepLayout,
  type SweepPart,
  sweepLayout,
} from './ecg-buffer.ts';

interface Colours {
  readonly background: string;
  readonly minor: string;
  readonly major: string;
  readonly trace: string;
  readonly text: string;
}

/** The wall clock the stream handler and the strip share (smooth, monotonic within the page). */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export type StripState = 'waiting' | 'live' | 'no-signal' | 'lead-off' | 'frozen';

export class EcgStrip {
  private channel: Channel | undefined;
  private frame = 0;
  private frozenAt: number | undefined;
  private baseline: number | undefined;
  private grid: HTMLCanvasElement | undefined;
  private colours: Colours | undefined;
  private size = { w: 0, h: 0, dpr: 0 };
  private lastT: number | undefined;
  leadOff = false;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  show(channel: Channel | undefined): void {
    if (channel !== this.channel) this.baseline = undefined;
    this.channel = channel;
  }

  start(): void {
    const loop = () => {
      this.draw();
      this.frame = requestAnimationFrame(loop);
    };
    this.frame = requestAnimationFrame(loop);
  }

  stop(): void {
    cancelAnimationFrame(this.frame);
  }

  /** Holds the picture still (to read it); the buffer keeps filling meanwhile. */
  freeze(on: boolean): void {
    this.frozenAt = on ? (this.lastT ?? undefined) : undefined;
  }

  /** What the strip shows now, for the status line beside it. */
  state(): StripState {
    const c = this.channel;
    if (this.frozenAt !== undefined) return 'frozen';
    if (!c || this.lastT === undefined) return 'waiting';
    if (this.leadOff) return 'lead-off';
    const end = c.ring.endMs;
    return end === undefined || this.lastT - end > 1000 ? 'no-signal' : 'live';
  }

  /** Re-reads the colours (the colour scheme changed). */
  restyle(): void {
    this.colours = undefined;
    this.grid = undefined;
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    this.fit();
    const { w, h, dpr } = this.size;
    if (w === 0 || h === 0) return;
    this.colours ??= readColours(this.canvas);
    const colours = this.colours;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    this.grid ??= drawGrid(w, h, dpr, colours);
    ctx.drawImage(this.grid, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const c = this.channel;
    const t = this.frozenAt ?? c?.playout.signalTime(wallNow());
    if (!c || t === undefined) return;
    this.lastT = t;
    const layout = sweepLayout(t, w);
    const ring = c.ring;
    const mid = h / 2;
    // Baseline: the mean of the last 2 s, followed slowly so the trace does not bob with each beat.
    const mean = ring.mean(Math.floor(ring.indexAt(t - 2000)), Math.ceil(ring.indexAt(t)));
    if (mean !== undefined)
      this.baseline = this.baseline === undefined ? mean : this.baseline + (mean - this.baseline) * 0.02;
    const base = this.baseline ?? 0;
    let pxPerUnit = GAIN_MM_PER_MV * CSS_PX_PER_MM;
    if (c.unit !== 'mV') {
      const r = ring.range(Math.floor(ring.indexAt(t - layout.windowMs)), Math.ceil(ring.indexAt(t)));
      const span = r ? Math.max(Math.abs(r.max - base), Math.abs(r.min - base)) : 0;
      pxPerUnit = span > 0 ? (h * 0.42) / span : 1;
    }
    ctx.lineWidth = 1.5;
    ctx.lineJoin = 'round';
    ctx.strokeStyle = colours.trace;
    for (const part of [layout.current, layout.previous])
      trace(ctx, c, part, layout, (v) => mid - (v - base) * pxPerUnit);
    this.label(ctx, layout, colours);
  }

  private label(ctx: CanvasRenderingContext2D, layout: SweepLayout, colours: Colours): void {
    const s = this.state();
    const text =
      s === 'no-signal' ? 'NO SIGNAL' : s === 'lead-off' ? 'LEAD OFF' : s === 'frozen' ? 'FROZEN' : '';
    if (!text) return;
    ctx.font = 'bold 14px system-ui, sans-serif';
    ctx.fillStyle = colours.text;
    // Next to the cursor (the newest data), inside the strip.
    const x = Math.min(Math.max(8, layout.cursorX + 16), this.size.w - ctx.measureText(text).width - 8);
    ctx.fillText(text, x, 20);
  }

  private fit(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (w === this.size.w && h === this.size.h && dpr === this.size.dpr) return;
    this.size = { w, h, dpr };
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.grid = undefined;
  }
}

/** One sweep part as a polyline, broken at every missing sample. */
function trace(
  ctx: CanvasRenderingContext2D,
  c: Channel,
  part: SweepPart,
  layout: SweepLayout,
  y: (v: number) => number,
): void {
  if (part.to <= part.from) return;
  const ring = c.ring;
  const i0 = Math.max(ring.firstIndex, Math.ceil(ring.indexAt(part.from)));
  const i1 = Math.min(ring.endIndex, Math.ceil(ring.indexAt(part.to)));
  ctx.beginPath();
  let pen = false;
  for (let i = i0; i < i1; i++) {
    const v = ring.valueAt(i);
    if (Number.isNaN(v)) {
      pen = false;
      continue;
    }
    const x = (ring.timeOf(i) - part.base) * layout.pxPerMs;
    if (pen) ctx.lineTo(x, y(v));
    else ctx.moveTo(x, y(v));
    pen = true;
  }
  ctx.stroke();
}

function drawGrid(w: number, h: number, dpr: number, colours: Colours): HTMLCanvasElement {
  const g = document.createElement('canvas');
  g.width = Math.round(w * dpr);
  g.height = Math.round(h * dpr);
  const ctx = g.getContext('2d');
  if (!ctx) return g;
  ctx.fillStyle = colours.background;
  ctx.fillRect(0, 0, g.width, g.height);
  const mm = CSS_PX_PER_MM * dpr;
  for (const [every, colour] of [
    [1, colours.minor],
    [5, colours.major],
  ] as const) {
    ctx.beginPath();
    ctx.strokeStyle = colour;
    ctx.lineWidth = every === 5 ? Math.max(1, dpr) : Math.max(0.5, dpr / 2);
    for (let x = 0; x <= g.width; x += mm * every) {
      const px = Math.round(x) + 0.5;
      ctx.moveTo(px, 0);
      ctx.lineTo(px, g.height);
    }
    // Horizontal lines from the middle (the baseline) outwards.
    const mid = g.height / 2;
    for (let d = 0; d <= mid; d += mm * every)
      for (const y of d === 0 ? [mid] : [mid - d, mid + d]) {
        const py = Math.round(y) + 0.5;
        ctx.moveTo(0, py);
        ctx.lineTo(g.width, py);
      }
    ctx.stroke();
  }
  return g;
}

function readColours(el: Element): Colours {
  const s = getComputedStyle(el);
  const v = (name: string, fallback: string) => s.getPropertyValue(name).trim() || fallback;
  return {
    background: v('--ecg-bg', '#fff8f6'),
    minor: v('--ecg-minor', '#f4cfc8'),
    major: v('--ecg-major', '#e49c90'),
    trace: v('--ecg-trace', '#111111'),
    text: v('--ecg-text', '#b3001b'),
  };
}
