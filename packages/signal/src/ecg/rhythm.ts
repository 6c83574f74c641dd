// One-call rhythm analysis of an ECG lead: signal quality, beats, heart rate, HRV and an AF screen, with no
// HR or rhythm call made on artefact. The AF screen uses both parts of the clinical definition: RR
// irregularity (af.ts) and the absence of repeating P waves (atrial.ts).
import { MIN_RR_FOR_AF, type RrIrregularity, rrIrregularity } from './af.ts';
import { type AfBasis, type PWaveConsistency, pWaveConsistency, screenAf } from './atrial.ts';
import { type HrvSummary, hrvSummary, rrFromBeats } from './hrv.ts';
import { detectQrs } from './qrs.ts';
import {
  assessQuality,
  beatConformity,
  cleanMask,
  type SignalQuality,
  templateCorrelation,
} from './quality.ts';

export type RhythmCall = 'af' | 'not-af' | 'unclassifiable';

export interface RhythmAnalysis {
  quality: SignalQuality;
  /** Template-matching quality of the detected beats (tSQI), NaN with fewer than 3 beats. */
  templateCorrelation: number;
  /** Detected beats (sample indices). */
  beats: Int32Array;
  /** HRV and mean HR over the RR intervals between beats in clean segments; undefined when unclassifiable. */
  hrv?: HrvSummary;
  /** RR irregularity features (all intervals between clean beats, ectopy included, as AF screening needs). */
  irregularity?: RrIrregularity;
  /** Share of the RR intervals that were valid (both beats clean and of the usual shape, RR ≤ 3 s). */
  validShare?: number;
  /** Consistency of the atrial activity before the QRS (repeating P waves); undefined when unclassifiable. */
  pWaves?: PWaveConsistency;
  call: RhythmCall;
  /** What the AF / not-AF call rests on; undefined when unclassifiable. */
  basis?: AfBasis;
  /** Why the call is "unclassifiable". */
  reason?: string;
}

/** Orphanidou et al. (2015): mean template correlation below 0.66 means the beats are not trustworthy. */
export const MIN_TEMPLATE_CORRELATION = 0.66;
/** Physiological range of the mean heart rate for a call (bpm). */
const HR_RANGE = [30, 220] as const;
/** Longest RR (s) accepted inside a clean stretch before it is taken for a missed beat or a dropout. */
const MAX_RR = 3;

/** Analyses one ECG lead (mV) sampled at `samplingFrequency` Hz. */
export function analyseRhythm(signal: ArrayLike<number>, samplingFrequency: number): RhythmAnalysis {
  const quality = assessQuality(signal, samplingFrequency);
  const clean = cleanMask(quality, signal.length);
  const beats = detectQrs(
    Float64Array.from(signal, (v) => (Number.isFinite(v) ? v : 0)),
    samplingFrequency,
  );
  const tsqi = templateCorrelation(signal, beats, samplingFrequency);
  const base = { quality, templateCorrelation: tsqi, beats };
  if (!quality.usable) return { ...base, call: 'unclassifiable', reason: 'too little clean signal' };
  if (!(tsqi >= MIN_TEMPLATE_CORRELATION))
    return { ...base, call: 'unclassifiable', reason: 'beats do not match a common template' };
  const rr = rrFromBeats(beats, samplingFrequency).intervals;
  const conforming = beatConformity(signal, beats, samplingFrequency);
  const good = (b: number): boolean => clean[beats[b]!] === 1 && conforming[b] === 1;
  const valid = Array.from(rr, (v, i) => good(i) && good(i + 1) && v <= MAX_RR);
  const used = rr.filter((_, i) => valid[i]);
  const usedSeconds = used.reduce((a, b) => a + b, 0);
  if (usedSeconds < 0.5 * (signal.length / samplingFrequency))
    return { ...base, call: 'unclassifiable', reason: 'too few clean beats' };
  if (used.length < MIN_RR_FOR_AF) return { ...base, call: 'unclassifiable', reason: 'too few beats' };
  const hrv = hrvSummary(rr, { accept: valid });
  const meanHr = 60 / (used.reduce((a, b) => a + b, 0) / used.length);
  if (meanHr < HR_RANGE[0] || meanHr > HR_RANGE[1])
    return {
      ...base,
      call: 'unclassifiable',
      reason: `mean heart rate ${meanHr.toFixed(0)} bpm implausible`,
    };
  const irregularity = rrIrregularity(used);
  const pWaves = pWaveConsistency(
    signal,
    beats,
    samplingFrequency,
    Array.from(beats, (_, b) => good(b)),
  );
  const validShare = used.length / rr.length;
  const { af, basis } = screenAf(irregularity, pWaves, { validShare });
  return { ...base, hrv, irregularity, validShare, pWaves, call: af ? 'af' : 'not-af', basis };
}
