// Streaming analysis of live waveform data (ECG, PPG, respiration) arriving in chunks of any size.
//
// Time line: samples are numbered from the stream's first sample; sample i is at startMs + i·1000/rate of
// the first chunk (the stream keeps its own sample clock; chunk timestamps only detect gaps and overlaps).
// Every `windowS` of samples a window completes. To see each beat with context on both sides, a window
// reports the stretch that ends LOOKAHEAD_S before the newest sample, so consecutive results tile the time
// line with a constant lag: [0, W − L), [W − L, 2W − L), ... The analysed segment adds CONTEXT_S before the
// reported stretch (detector thresholds settle) and the look-ahead after it. A beat is reported by the
// window whose stretch holds it; a beat that the next analysis places a little differently, across the
// boundary, is recognised by the refractory period and not reported again.
// Windows complete at fixed sample counts, so the results do not depend on how the samples were chunked.

import type { AfBasis } from '../ecg/atrial.ts';
import { BeatHistory } from './beat-history.ts';
import { PWaveHistory } from './p-wave-history.ts';
import { hrvOver, meanRate, rhythmOver } from './rr-measures.ts';
import { SampleRing } from './sample-ring.ts';
import {
  analyseEcgSegment,
  analysePpgSegment,
  analyseRespSegment,
  type Segment,
  type SegmentAnalysis,
} from './segment-analysis.ts';

export type WaveformKind = 'ecg' | 'ppg' | 'resp';

export interface StreamChunk {
  readonly startMs: number; // epoch ms of the first sample
  readonly rateHz: number; // any positive rate (MIN_RATE_HZ–MAX_RATE_HZ, i.e. 1–10 000 Hz, accepted)
  readonly samples: ArrayLike<number | null>; // physical units (ECG mV); null = missing sample (lead off / dropout)
}

export interface HrvWindow {
  /** SDNN and RMSSD in ms (Task Force definitions, see ecg/hrv.ts). */
  readonly sdnnMs: number;
  readonly rmssdMs: number;
  /** pNN50 in percent (0–100). */
  readonly pnn50: number;
  /** NN intervals used. */
  readonly beats: number;
  /** Time from the first to the last beat of the RR series considered (ms). */
  readonly spanMs: number;
}

export interface WindowResult {
  readonly kind: WaveformKind;
  /** The stretch this result describes; consecutive results tile the time line (see the module comment). */
  readonly startMs: number;
  readonly endMs: number;
  readonly quality: number; // 0..1 signal-quality index of the stretch
  readonly leadOff: boolean; // most of the stretch missing (nulls) or flat
  /** bpm (ecg heart rate, ppg pulse rate) or breaths/min (resp, over the RESP_SPAN_S ending at endMs). */
  readonly rate?: number;
  /** resp: where the stretch the rate was measured over begins (RESP_SPAN_S back, or the stream's start). */
  readonly rateFromMs?: number;
  /**
   * Beat times (epoch ms) found in this stretch (ecg, ppg), ascending, each reported once across windows. A
   * beat that the previous window did not report (it placed it just past its end) is reported here even if
   * this analysis puts it up to 150 ms before startMs. Empty when lead off.
   */
  readonly beatsMs?: readonly number[];
  /** ecg only, over the last `hrvWindowS` of clean beats, when enough beats and this window has a rate. */
  readonly hrv?: HrvWindow;
  /**
   * ecg only, when enough RR intervals in the last `afWindowS` and this window has a rate: the AF screen of
   * that stretch from both parts of the clinical definition (RR irregularity and P waves, ecg/atrial.ts).
   */
  readonly rhythm?: 'af-suspected' | 'not-af';
  /** Where the stretch `rhythm` looked at begins: `afWindowS` back, or the stream's start if later. */
  readonly rhythmFromMs?: number;
  /** What `rhythm` rests on (see AfBasis). */
  readonly rhythmBasis?: AfBasis;
  /** The P-wave consistency behind `rhythm` (−1..1), when enough beats could be compared. */
  readonly pWaveConsistency?: number;
}

export interface StreamOptions {
  readonly windowS?: number /* default 10, 2–120 */;
  readonly hrvWindowS?: number /* default 300, 10–900 */;
  readonly afWindowS?: number /* default 60, 10–900 */;
  /** Largest gap or overlap (ms) bridged without restarting (default 5000); gaps are filled as missing. */
  readonly maxGapMs?: number;
}

/** Identifies the algorithms behind WindowResult (for FHIR Provenance); bump when results change. */
export const WAVEFORM_ANALYSIS_VERSION = 'openiomt-signal/2';

/** Look-ahead after the reported stretch (s): room for the detectors' search-back and edge effects. */
const LOOKAHEAD_S = 1.5;
/** Context before the reported stretch (s): the QRS detector learns its thresholds over 2 s. */
const CONTEXT_S = 3;
/** Respiration rates are taken over this much signal (s) ending with the reported stretch. */
export const RESP_SPAN_S = 30;
/** A beat this close (s) to a missing sample is not trusted (the gap filler may have made an edge). */
const MISSING_GUARD_S = 0.2;
/** A beat up to this far (s) before the reported stretch is still reported if no earlier window had it. */
const EDGE_TOLERANCE_S = 0.15;
/** Shortest time between two reported beats (s): the detectors' refractory periods. */
const REFRACTORY_S: Readonly<Record<WaveformKind, number>> = { ecg: 0.2, ppg: 0.25, resp: 0 };
/** Timestamp disagreement (ms) absorbed as clock jitter without inserting or dropping samples. */
const JITTER_MS = 50;
/** Rates outside this range are refused: below it there is no waveform, above it memory and CPU grow. */
export const MIN_RATE_HZ = 1;
export const MAX_RATE_HZ = 10_000;
/** Timestamps beyond ±this (ms, ~31 700 years from 1970) are refused: sample times must stay finite. */
const MAX_ABS_TIME_MS = 1e15;
/** Samples of larger magnitude are treated as missing (no physiological signal in any unit is that large). */
const MAX_ABS_SAMPLE = 1e9;

interface ResolvedOptions {
  windowS: number;
  hrvWindowS: number;
  afWindowS: number;
  maxGapMs: number;
}

function option(v: number | undefined, fallback: number, lo: number, hi: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : fallback;
}

function resolveOptions(o: StreamOptions | undefined): ResolvedOptions {
  return {
    windowS: option(o?.windowS, 10, 2, 120),
    hrvWindowS: option(o?.hrvWindowS, 300, 10, 900),
    afWindowS: option(o?.afWindowS, 60, 10, 900),
    maxGapMs: option(o?.maxGapMs, 5000, 0, 600_000),
  };
}

/** Per-stream state, created by the first usable chunk. */
interface StreamState {
  readonly rateHz: number;
  readonly t0Ms: number;
  readonly ring: SampleRing;
  readonly beats: BeatHistory;
  /** ecg only: the snippets of the last AF window's beats, for the P-wave half of the AF screen. */
  readonly pWaves: PWaveHistory | undefined;
  readonly scratch: Float64Array;
  readonly windowN: number;
  readonly lookN: number;
  readonly contextN: number;
  readonly respSpanN: number;
  nextEnd: number;
  reportStart: number;
  lastReported: number;
}

function isUsableRate(rate: unknown): rate is number {
  return typeof rate === 'number' && rate >= MIN_RATE_HZ && rate <= MAX_RATE_HZ;
}

/** The most beats `seconds` of signal can hold: 5 a second (300 /min), plus slack. */
function beatsWithin(seconds: number): number {
  return Math.ceil(5 * seconds) + 16;
}

/** Longest chunk accepted, in seconds of signal (a backlog upload may be long, but not unbounded). */
const MAX_CHUNK_S = 3600;

/** Number of samples of a chunk, or -1 when `samples` is not a usable array-like. */
function sampleCount(samples: unknown, rateHz: number): number {
  const n = (samples as { length?: unknown } | null | undefined)?.length;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return -1;
  return n <= MAX_CHUNK_S * rateHz ? n : -1;
}

function sanitize(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_ABS_SAMPLE ? v : Number.NaN;
}

export class WaveformStream {
  private readonly options: ResolvedOptions;
  private state: StreamState | undefined;
  /** The state a reset let go of: its buffers serve the next stream of the same shape. */
  private retired: StreamState | undefined;

  constructor(
    readonly kind: WaveformKind,
    options?: StreamOptions,
  ) {
    if (kind !== 'ecg' && kind !== 'ppg' && kind !== 'resp')
      throw new TypeError(`unknown waveform kind ${kind}`);
    this.options = resolveOptions(options);
  }

  reset(): void {
    this.retired = this.state ?? this.retired;
    this.state = undefined;
  }

  /**
   * Appends a chunk; returns the results of every analysis window completed by it (usually 0 or 1). Never
   * throws on bad input: a chunk with a non-finite/<=0 rate, a rate change, or a time gap/overlap > maxGapMs
   * restarts the stream (state reset) and is then used as the first chunk. Smaller gaps are filled with
   * missing samples; smaller overlaps drop the samples already received; disagreements up to 50 ms are
   * taken as clock jitter. A chunk whose rate is outside MIN_RATE_HZ–MAX_RATE_HZ or whose startMs is not
   * a finite time resets the stream and is dropped; one whose `samples` is not an array-like is dropped.
   * Non-finite samples and samples beyond ±1e9 count as missing.
   */
  push(chunk: StreamChunk): WindowResult[] {
    const out: WindowResult[] = [];
    try {
      this.append(chunk, out);
    } catch {
      // Defensive: the contract is never to throw on device input. Start afresh rather than keep state
      // that an unforeseen input may have left inconsistent.
      this.reset();
    }
    return out;
  }

  private append(chunk: StreamChunk, out: WindowResult[]): void {
    const rate = chunk?.rateHz;
    const startMs = chunk?.startMs;
    if (!isUsableRate(rate) || typeof startMs !== 'number' || !(Math.abs(startMs) <= MAX_ABS_TIME_MS)) {
      this.reset();
      return;
    }
    const samples = chunk.samples;
    const n = sampleCount(samples, rate);
    if (n < 0) return; // not an array of samples: ignored (the next chunk sees a gap)
    let skip = 0;
    let st = this.state;
    if (st !== undefined && Math.abs(st.rateHz - rate) > 1e-6 * rate) st = undefined;
    if (st !== undefined) {
      const delta = startMs - (st.t0Ms + (st.ring.length * 1000) / st.rateHz);
      if (!(Math.abs(delta) <= this.options.maxGapMs)) st = undefined;
      else if (Math.abs(delta) > JITTER_MS) {
        const gap = Math.round((delta * st.rateHz) / 1000);
        for (let i = 0; i < gap; i++) this.appendSample(st, Number.NaN, out);
        skip = Math.min(n, Math.max(0, -gap));
      }
    }
    if (st === undefined) {
      st = this.createState(rate, startMs);
      this.state = st;
    }
    for (let i = skip; i < n; i++) this.appendSample(st, sanitize(samples[i]), out);
  }

  /**
   * A fresh stream state. The buffers of the state it replaces are reused when they have the right size: a
   * device that drops out and comes back restarts its stream, and a ward's worth of ~70 KB allocations at once
   * (every patch back after a network outage) would land on the garbage collector together.
   */
  private createState(rateHz: number, t0Ms: number): StreamState {
    const { windowS, hrvWindowS, afWindowS } = this.options;
    const windowN = Math.max(1, Math.round(windowS * rateHz));
    const lookN = Math.round(LOOKAHEAD_S * rateHz);
    const contextN = Math.round(CONTEXT_S * rateHz);
    const respSpanN = Math.round(Math.max(windowS, RESP_SPAN_S) * rateHz);
    const segmentN = this.kind === 'resp' ? respSpanN + lookN : windowN + lookN + contextN;
    const beatCapacity = beatsWithin(Math.max(hrvWindowS, afWindowS));
    const old = this.state ?? this.retired;
    this.retired = undefined;
    const reuse = old?.ring.capacity === segmentN + 1 && old.beats.capacity === beatCapacity;
    if (reuse) {
      old.ring.clear();
      old.beats.clear();
    }
    const reusePWaves = reuse && old.pWaves?.rateHz === rateHz;
    if (reusePWaves) old.pWaves?.clear();
    const pWaves =
      this.kind !== 'ecg'
        ? undefined
        : reusePWaves
          ? old.pWaves
          : new PWaveHistory(rateHz, beatsWithin(afWindowS), afWindowS);
    return {
      rateHz,
      t0Ms,
      ring: reuse ? old.ring : new SampleRing(segmentN + 1),
      beats: reuse ? old.beats : new BeatHistory(beatCapacity),
      pWaves,
      scratch: reuse ? old.scratch : new Float64Array(segmentN + 1),
      windowN,
      lookN,
      contextN,
      respSpanN,
      nextEnd: windowN,
      reportStart: 0,
      lastReported: Number.NEGATIVE_INFINITY,
    };
  }

  private appendSample(st: StreamState, value: number, out: WindowResult[]): void {
    st.ring.push(value);
    if (st.ring.length === st.nextEnd) {
      out.push(this.analyseWindow(st));
      st.nextEnd += st.windowN;
    }
  }

  private timeOf(st: StreamState, sample: number): number {
    return st.t0Ms + (sample * 1000) / st.rateHz;
  }

  private analyseWindow(st: StreamState): WindowResult {
    const reportStart = st.reportStart;
    const reportEnd = Math.max(reportStart, st.nextEnd - st.lookN);
    st.reportStart = reportEnd;
    const isResp = this.kind === 'resp';
    const segStart = Math.max(st.ring.oldest, isResp ? reportEnd - st.respSpanN : reportStart - st.contextN);
    const segEnd = isResp ? reportEnd : st.nextEnd;
    const values = st.scratch.subarray(0, segEnd - segStart);
    st.ring.copy(segStart, segEnd, values);
    const segment: Segment = {
      values,
      rateHz: st.rateHz,
      from: reportStart - segStart,
      to: reportEnd - segStart,
    };
    const base = {
      kind: this.kind,
      startMs: this.timeOf(st, reportStart),
      endMs: this.timeOf(st, reportEnd),
    };
    if (isResp) {
      const a = analyseRespSegment(segment);
      return {
        ...base,
        quality: a.quality,
        leadOff: a.leadOff,
        ...(a.rate !== undefined ? { rate: a.rate, rateFromMs: this.timeOf(st, segStart) } : {}),
      };
    }
    const a = this.kind === 'ecg' ? analyseEcgSegment(segment) : analysePpgSegment(segment);
    const reported = this.recordBeats(st, a, values, segStart, reportStart, reportEnd);
    const result: {
      -readonly [K in keyof WindowResult]: WindowResult[K];
    } = {
      ...base,
      quality: a.quality,
      leadOff: a.leadOff,
      beatsMs: a.leadOff ? [] : reported.map((b) => this.timeOf(st, b)),
    };
    const from = reported[0] ?? reportEnd;
    const rate = a.measurable
      ? meanRate(st.beats.intervals(from, reportEnd, st.rateHz), (reportEnd - reportStart) / st.rateHz)
      : undefined;
    if (rate === undefined) return result;
    result.rate = rate;
    if (this.kind === 'ecg') {
      const hrv = hrvOver(
        st.beats,
        reportEnd - Math.round(this.options.hrvWindowS * st.rateHz),
        reportEnd,
        st.rateHz,
      );
      if (hrv) result.hrv = hrv;
      const afFrom = reportEnd - Math.round(this.options.afWindowS * st.rateHz);
      const screen = rhythmOver(st.beats, st.pWaves, afFrom, reportEnd, st.rateHz, this.options.afWindowS);
      if (screen) {
        result.rhythm = screen.rhythm;
        // A young stream looked at less than the AF window: the span says so.
        result.rhythmFromMs = this.timeOf(st, Math.max(afFrom, 0));
        result.rhythmBasis = screen.basis;
        if (Number.isFinite(screen.pWaveConsistency)) result.pWaveConsistency = screen.pWaveConsistency;
      }
    }
    return result;
  }

  /** Adds the segment's beats that belong to the reported stretch to the history; returns their samples. */
  private recordBeats(
    st: StreamState,
    a: SegmentAnalysis,
    values: Float64Array,
    segStart: number,
    reportStart: number,
    reportEnd: number,
  ): number[] {
    const fs = st.rateHz;
    const refractory = Math.max(1, Math.round(REFRACTORY_S[this.kind] * fs));
    const guard = Math.round(MISSING_GUARD_S * fs);
    const earliest = reportStart - Math.round(EDGE_TOLERANCE_S * fs);
    // Prefix count of unclean samples, to tell whether the stretch between two beats was clean throughout.
    const unclean = new Int32Array(a.clean.length + 1);
    for (let i = 0; i < a.clean.length; i++) unclean[i + 1] = unclean[i]! + (a.clean[i] ? 0 : 1);
    const reported: number[] = [];
    for (let k = 0; k < a.beats.length; k++) {
      const sample = segStart + a.beats[k]!;
      if (sample >= reportEnd) break;
      if (sample < earliest || sample - st.lastReported < refractory) continue;
      if (st.ring.missingBetween(sample - guard, sample + guard) > 0) continue;
      const prev = st.beats.last;
      const linked =
        prev !== undefined &&
        prev >= segStart &&
        st.ring.missingBetween(prev, sample) === 0 &&
        unclean[sample - segStart]! - unclean[prev - segStart]! === 0;
      const good = a.good[k] === 1 && !a.leadOff;
      st.beats.add(sample, good, linked);
      st.pWaves?.add(sample, values, segStart, good, linked, prev);
      st.lastReported = sample;
      reported.push(sample);
    }
    return reported;
  }
}
