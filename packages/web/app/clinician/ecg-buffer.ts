/**
 * The buffer and clocks behind the ECG strip, without the DOM (ecg-strip.ts draws from them).
 *
 * - `SampleRing` holds the last seconds of one waveform, each sample at its exact time: sample k is at
 *   `anchorMs + k * 1000 / rateHz`, whatever the chunking. A chunk's `start` places it; a hole between
 *   chunks, or a missing (null) sample, is NaN, so the strip shows a gap instead of a line across it.
 * - `Playout` maps the browser's clock to the signal's (device) clock with a steady delay, so chunks that
 *   arrive in bursts are drawn as a continuous sweep; the delay follows the network slowly (a few percent
 *   of speed), never by jumping, unless it is far off (a device clock reset).
 * - `sweepLayout` places the sweep: at 25 mm/s the newest signal is drawn left of a moving cursor over the
 *   previous sweep, with a small erased gap ahead of the cursor.
 */

/** CSS pixels per millimetre (CSS fixes 96 px per inch); what "25 mm/s" means on a screen. */
export const CSS_PX_PER_MM = 96 / 25.4;
export const PAPER_SPEED_MM_S = 25;
/** Standard gain: 10 mm per millivolt. */
export const GAIN_MM_PER_MV = 10;

export class SampleRing {
  readonly rateHz: number;
  readonly capacity: number;
  /** Signal time (epoch ms) of absolute sample index 0. */
  readonly anchorMs: number;
  private readonly data: Float32Array;
  /** Absolute index of the oldest sample held, and one past the newest. */
  private begin = 0;
  private end = 0;

  constructor(rateHz: number, seconds: number, anchorMs: number) {
    if (!(rateHz > 0 && Number.isFinite(rateHz)))
      throw new RangeError(`rateHz must be positive, got ${rateHz}`);
    this.rateHz = rateHz;
    this.capacity = Math.max(1, Math.ceil(rateHz * seconds));
    this.anchorMs = anchorMs;
    this.data = new Float32Array(this.capacity).fill(Number.NaN);
  }

  /** The (fractional) absolute sample index of a signal time. */
  indexAt(ms: number): number {
    return ((ms - this.anchorMs) * this.rateHz) / 1000;
  }

  timeOf(index: number): number {
    return this.anchorMs + (index * 1000) / this.rateHz;
  }

  get firstIndex(): number {
    return this.begin;
  }

  /** One past the newest sample. */
  get endIndex(): number {
    return this.end;
  }

  /** Signal time just after the newest sample (undefined while empty). */
  get endMs(): number | undefined {
    return this.end > this.begin ? this.timeOf(this.end) : undefined;
  }

  /** NaN outside what is held, or where no sample was received. */
  valueAt(index: number): number {
    if (index < this.begin || index >= this.end) return Number.NaN;
    return this.data[this.slot(index)] as number;
  }

  /**
   * Stores a chunk starting at `startMs`. A chunk after a hole leaves NaN in the hole; one that overlaps
   * what is held overwrites it (a resend); a late one fills in behind as far as the buffer reaches. A
   * chunk more than the buffer's length ahead starts afresh. Returns false when nothing was stored.
   */
  write(startMs: number, samples: ArrayLike<number | null>): boolean {
    const first = Math.round(this.indexAt(startMs));
    if (samples.length === 0 || !Number.isFinite(first)) return false;
    const last = first + samples.length;
    if (this.end === this.begin || first >= this.end + this.capacity) {
      // Empty, or so far ahead that nothing held would stay: restart at this chunk.
      this.data.fill(Number.NaN);
      this.begin = first;
      this.end = first;
    }
    if (first < this.begin) {
      const begin = Math.max(first, this.end - this.capacity);
      if (begin >= last) return false;
      for (let i = begin; i < this.begin; i++) this.data[this.slot(i)] = Number.NaN;
      this.begin = begin;
    }
    for (let i = this.end; i < first; i++) this.data[this.slot(i)] = Number.NaN;
    for (let i = Math.max(first, this.begin); i < last; i++) {
      const v = samples[i - first];
      this.data[this.slot(i)] = v === null || v === undefined || !Number.isFinite(v) ? Number.NaN : v;
    }
    if (last > this.end) this.end = last;
    this.begin = Math.max(this.begin, this.end - this.capacity);
    return true;
  }

  private slot(index: number): number {
    const r = index % this.capacity;
    return r < 0 ? r + this.capacity : r;
  }

  /** Mean of the finite samples in [from, to), or undefined when there is none (for the baseline). */
  mean(from: number, to: number): number | undefined {
    let sum = 0;
    let n = 0;
    for (let i = Math.max(from, this.begin); i < Math.min(to, this.end); i++) {
      const v = this.data[this.slot(i)] as number;
      if (!Number.isNaN(v)) {
        sum += v;
        n++;
      }
    }
    return n > 0 ? sum / n : undefined;
  }

  /** Smallest and largest finite sample in [from, to) (for scaling a waveform without a fixed gain). */
  range(from: number, to: number): { min: number; max: number } | undefined {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = Math.max(from, this.begin); i < Math.min(to, this.end); i++) {
      const v = this.data[this.slot(i)] as number;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return min <= max ? { min, max } : undefined;
  }
}

/**
 * The signal time to draw at a wall-clock instant: `wall - offset`. Each chunk's arrival says how late it
 * came (wall time of arrival minus the signal time of its last sample: clock difference plus transit);
 * the offset aims at the worst lateness of the last few chunks plus one chunk's length, so every sample
 * has arrived before the sweep reaches it.
 */
export class Playout {
  private readonly lags: number[] = [];
  private target: number | undefined;
  private current: number | undefined;
  private lastWall: number | undefined;

  constructor(
    private readonly options: {
      /** Chunks remembered for the worst lateness. */
      window?: number;
      /** Extra safety margin, ms. */
      marginMs?: number;
      /** Largest speed change while following the target (0.05: 5 %). */
      slew?: number;
      /** Beyond this difference the clock jumps instead of sliding. */
      jumpMs?: number;
    } = {},
  ) {}

  /** A chunk of `durationMs` whose last sample is at `endMs` (signal clock) arrived at `wallMs`. */
  observe(wallMs: number, endMs: number, durationMs: number): void {
    this.lags.push(wallMs - endMs);
    if (this.lags.length > (this.options.window ?? 10)) this.lags.shift();
    this.target = Math.max(...this.lags) + durationMs + (this.options.marginMs ?? 150);
    if (this.current === undefined) this.current = this.target;
  }

  /** Forget the clock (a new device or stream). */
  reset(): void {
    this.lags.length = 0;
    this.target = undefined;
    this.current = undefined;
    this.lastWall = undefined;
  }

  /** The signal time to show at `wallMs`; call once per frame with increasing times. */
  signalTime(wallMs: number): number | undefined {
    if (this.current === undefined || this.target === undefined) return undefined;
    const elapsed = this.lastWall === undefined ? 0 : Math.max(0, wallMs - this.lastWall);
    this.lastWall = wallMs;
    const diff = this.target - this.current;
    if (Math.abs(diff) > (this.options.jumpMs ?? 3000)) this.current = this.target;
    else {
      const step = elapsed * (this.options.slew ?? 0.05);
      this.current += Math.max(-step, Math.min(step, diff));
    }
    return wallMs - this.current;
  }

  /** The delay currently applied, ms (for display). */
  get delayMs(): number | undefined {
    return this.current;
  }
}

export interface SweepPart {
  readonly from: number;
  readonly to: number;
  readonly base: number;
}

export interface SweepLayout {
  /** Visible duration, ms. */
  readonly windowMs: number;
  /** Signal time at the left edge of the current sweep. */
  readonly cycleStart: number;
  /** Cursor position, px from the left. */
  readonly cursorX: number;
  readonly pxPerMs: number;
  /**
   * Times [from, to) drawn left of the cursor (this sweep) and right of the gap (the previous one); a
   * sample at time s of a part is drawn at x = (s - base) * pxPerMs.
   */
  readonly current: SweepPart;
  readonly previous: SweepPart;
}

/**
 * Where the sweep is at signal time `t` on a strip `widthPx` wide. Sweeps are aligned to multiples of the
 * window since the epoch, so a redraw at any moment puts every sample in the same place.
 */
export function sweepLayout(t: number, widthPx: number, pxPerMm = CSS_PX_PER_MM, gapPx = 12): SweepLayout {
  const pxPerMs = (PAPER_SPEED_MM_S * pxPerMm) / 1000;
  const windowMs = Math.max(1, widthPx) / pxPerMs;
  const cycleStart = Math.floor(t / windowMs) * windowMs;
  const cursorX = (t - cycleStart) * pxPerMs;
  const gapMs = gapPx / pxPerMs;
  return {
    windowMs,
    cycleStart,
    cursorX,
    pxPerMs,
    current: { from: cycleStart, to: t, base: cycleStart },
    previous: { from: t - windowMs + gapMs, to: cycleStart, base: cycleStart - windowMs },
  };
}

/** One waveform of the patient being watched: its samples, its clock, where it comes from. */
export interface Channel {
  readonly code: string;
  readonly deviceId: string;
  readonly unit: string;
  readonly ring: SampleRing;
  readonly playout: Playout;
}

export interface WaveformChunk {
  readonly deviceId: string;
  readonly code: string;
  readonly rateHz: number;
  /** ISO instant of the first sample. */
  readonly start: string;
  readonly samples: readonly (number | null)[];
  readonly unit: string;
}

/**
 * The waveforms of one patient by code (ecg-ii, ppg, ...). A new device or sampling rate for a code starts
 * its buffer and clock afresh (sample times of two devices do not line up). Keeps `seconds` of each.
 */
export class WaveformChannels {
  private readonly channels = new Map<string, Channel>();

  constructor(private readonly seconds = 30) {}

  /** Stores a chunk received at `wallMs`; returns true when it opened a channel not seen before. */
  push(chunk: WaveformChunk, wallMs: number): boolean {
    const start = Date.parse(chunk.start);
    if (!Number.isFinite(start) || !(chunk.rateHz > 0) || chunk.samples.length === 0) return false;
    let c = this.channels.get(chunk.code);
    const isNew = !c;
    if (!c || c.deviceId !== chunk.deviceId || c.ring.rateHz !== chunk.rateHz) {
      c = {
        code: chunk.code,
        deviceId: chunk.deviceId,
        unit: chunk.unit,
        ring: new SampleRing(chunk.rateHz, this.seconds, start),
        playout: new Playout(),
      };
      this.channels.set(chunk.code, c);
    }
    c.ring.write(start, chunk.samples);
    const durationMs = (chunk.samples.length * 1000) / chunk.rateHz;
    c.playout.observe(wallMs, start + durationMs, durationMs);
    return isNew;
  }

  get(code: string): Channel | undefined {
    return this.channels.get(code);
  }

  codes(): string[] {
    return [...this.channels.keys()];
  }
}

/** The lead to show first: lead II (or modified lead II), then any ECG lead, then any waveform. */
export function preferredCode(codes: readonly string[]): string | undefined {
  return (
    codes.find((c) => c === 'ecg-ii') ??
    codes.find((c) => c === 'ecg-mlii') ??
    codes.find((c) => c.startsWith('ecg-')) ??
    codes[0]
  );
}
