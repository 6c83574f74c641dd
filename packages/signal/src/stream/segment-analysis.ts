// Analysis of one stretch of a stream ("segment": the reported stretch plus context around it), per kind of
// waveform. Pure functions over a contiguous copy of the samples (NaN = missing); the stream decides which
// beats to report and turns them into rates, HRV and rhythm calls.

import { detectQrs } from '../ecg/qrs.ts';
import { assessQuality, beatConformity, cleanMask, templateCorrelation } from '../ecg/quality.ts';
import { MIN_TEMPLATE_CORRELATION } from '../ecg/rhythm.ts';
import { detectPulses, holdMissing, pulseTemplateCorrelation } from '../ppg/pulse.ts';
import { respirationRate } from '../resp/rate.ts';

export interface Segment {
  /** Samples of the segment; NaN = missing. */
  readonly values: Float64Array;
  readonly rateHz: number;
  /** Offsets within `values` of the reported stretch [from, to). */
  readonly from: number;
  readonly to: number;
}

export interface SegmentAnalysis {
  /** Beat offsets within the segment, ascending (ECG, PPG). */
  beats: Int32Array;
  /** Per beat: 1 when it lies in clean signal and has the usual shape. */
  good: Uint8Array;
  /** Per sample of the segment: 1 when clean. */
  clean: Uint8Array;
  /** 0–1 quality of the reported stretch. */
  quality: number;
  /** Most of the reported stretch missing or flat. */
  leadOff: boolean;
  /** Clean enough for a rate. */
  measurable: boolean;
  /** Respiration only: breaths/min over the stretch that ends with the reported one. */
  rate?: number;
}

/** Segment length (s) of the unit-free flat/clipping check used for PPG and respiration. */
const CHECK_SEGMENT_S = 2;
/** A segment with at least this share of samples at its extreme values is clipped (as for the ECG). */
const RAIL_SHARE = 0.2;
/** Least share of the reported stretch that must be clean for a rate. */
const MIN_CLEAN_SHARE = 0.5;
/**
 * Template correlation a PPG needs for a rate. Higher than the ECG's 0.66: a smooth pulse wave correlates
 * fairly well even with a distorted copy. Chosen on one ICU pleth (a103l, 13-s stretches: 0.81–0.99 where
 * clean, with respiratory amplitude changes; 0.79 across its worst movement artefact), so a first estimate.
 */
const MIN_PULSE_CORRELATION = 0.8;

function clamp01(v: number): number {
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
}

function missingFlags(values: Float64Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i]!)) out[i] = 1;
  return out;
}

/** Per beat: 1 when its sample is clean and its shape conforms. */
function goodBeats(beats: Int32Array, clean: Uint8Array, conforming: Uint8Array): Uint8Array {
  const out = new Uint8Array(beats.length);
  for (let k = 0; k < beats.length; k++) out[k] = clean[beats[k]!] === 1 && conforming[k] === 1 ? 1 : 0;
  return out;
}

/**
 * Unit-free segment checks for signals without a physical scale (PPG, impedance): a 2-s segment is flat when
 * its samples take fewer than four distinct values (an idle or disconnected input) and clipped when a fifth
 * of them sit at its extreme values. Returns per-sample flat and clean flags.
 */
function unitFreeSegments(filled: Float64Array, fs: number): { flat: Uint8Array; clean: Uint8Array } {
  const n = filled.length;
  const flat = new Uint8Array(n);
  const clean = new Uint8Array(n);
  const seg = Math.max(1, Math.round(CHECK_SEGMENT_S * fs));
  const seen = new Set<number>();
  for (let start = 0; start < n; start += seg) {
    const end = n - (start + seg) < seg / 2 ? n : start + seg;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    seen.clear();
    for (let i = start; i < end; i++) {
      const v = filled[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (seen.size < 4) seen.add(v);
    }
    let rail = 0;
    for (let i = start; i < end; i++) if (filled[i] === lo || filled[i] === hi) rail++;
    const isFlat = seen.size < 4;
    const ok = !isFlat && rail < RAIL_SHARE * (end - start);
    flat.fill(isFlat ? 1 : 0, start, end);
    clean.fill(ok ? 1 : 0, start, end);
    if (end === n) break;
  }
  return { flat, clean };
}

/** Share of [from, to) that is missing or flat, and the share that is clean and present. */
function stretchShares(
  missing: Uint8Array,
  flat: Uint8Array,
  clean: Uint8Array,
  from: number,
  to: number,
): { absent: number; cleanShare: number } {
  let absent = 0;
  let ok = 0;
  for (let i = from; i < to; i++) {
    if (missing[i] || flat[i]) absent++;
    else if (clean[i]) ok++;
  }
  const len = Math.max(1, to - from);
  return { absent: absent / len, cleanShare: ok / len };
}

/**
 * Beats in [from, to). The template quality is taken over the beats of the reported stretch and of the
 * context before it, so that a short window still has enough beats for a template.
 */
function beatsIn(beats: Int32Array, from: number, to: number): Int32Array {
  let a = 0;
  while (a < beats.length && beats[a]! < from) a++;
  let b = a;
  while (b < beats.length && beats[b]! < to) b++;
  return beats.subarray(a, b);
}

/** ECG: the package's QRS detector, signal-quality rules (mV) and template matching. */
export function analyseEcgSegment(s: Segment): SegmentAnalysis {
  const fs = s.rateHz;
  const filled = holdMissing(s.values);
  const missing = missingFlags(s.values);
  const quality = assessQuality(filled, fs);
  const clean = cleanMask(quality, filled.length);
  const flat = new Uint8Array(filled.length);
  for (const seg of quality.segments) if (seg.issue === 'flat') flat.fill(1, seg.start, seg.end);
  for (let i = 0; i < clean.length; i++) if (missing[i]) clean[i] = 0;
  const beats = detectQrs(filled, fs);
  const conforming = beatConformity(filled, beats, fs);
  const tsqi = templateCorrelation(filled, beatsIn(beats, 0, s.to), fs);
  return beatSegment(s, { missing, flat, clean }, beats, conforming, tsqi, MIN_TEMPLATE_CORRELATION);
}

/** PPG: pulse detection, unit-free flat/clipping checks and pulse-shape template matching. */
export function analysePpgSegment(s: Segment): SegmentAnalysis {
  const fs = s.rateHz;
  const filled = holdMissing(s.values);
  const missing = missingFlags(s.values);
  const { flat, clean } = unitFreeSegments(filled, fs);
  for (let i = 0; i < clean.length; i++) if (missing[i]) clean[i] = 0;
  const beats = detectPulses(filled, fs);
  // Shape conformity around the upstroke, as pulseTemplateCorrelation looks at it.
  const shift = Math.round(0.05 * fs);
  const centres = beats.map((b) => b + shift);
  const conforming = beatConformity(filled, centres, fs, { halfWidth: 0.2 });
  const tsqi = pulseTemplateCorrelation(filled, beatsIn(beats, 0, s.to), fs);
  return beatSegment(s, { missing, flat, clean }, beats, conforming, tsqi, MIN_PULSE_CORRELATION);
}

/**
 * The verdict on a segment of beats (ECG or PPG): its good beats, a quality index (clean share times the
 * template correlation), lead off when most of the reported stretch is missing or flat, and whether it is
 * clean and regular enough to measure.
 */
function beatSegment(
  s: Segment,
  masks: { missing: Uint8Array; flat: Uint8Array; clean: Uint8Array },
  beats: Int32Array,
  conforming: Parameters<typeof goodBeats>[2],
  tsqi: number,
  minCorrelation: number,
): SegmentAnalysis {
  const { missing, flat, clean } = masks;
  const good = goodBeats(beats, clean, conforming);
  const { absent, cleanShare } = stretchShares(missing, flat, clean, s.from, s.to);
  const leadOff = absent >= 0.5;
  return {
    beats,
    good,
    clean,
    quality: clamp01(cleanShare * clamp01(tsqi)),
    leadOff,
    measurable: !leadOff && cleanShare >= MIN_CLEAN_SHARE && tsqi >= minCorrelation,
  };
}

/** Respiration: the whole segment (ending with the reported stretch) goes to `respirationRate`. */
export function analyseRespSegment(s: Segment): SegmentAnalysis {
  const fs = s.rateHz;
  const filled = holdMissing(s.values);
  const missing = missingFlags(s.values);
  const { flat, clean } = unitFreeSegments(filled, fs);
  const { absent } = stretchShares(missing, flat, clean, s.from, s.to);
  const leadOff = absent >= 0.5;
  const estimate = respirationRate(s.values.subarray(0, s.to), fs);
  const measurable = !leadOff && estimate.rate !== undefined;
  const result: SegmentAnalysis = {
    beats: new Int32Array(0),
    good: new Uint8Array(0),
    clean,
    quality: leadOff ? 0 : clamp01(estimate.quality),
    leadOff,
    measurable,
  };
  if (measurable) result.rate = estimate.rate;
  return result;
}
