/**
 * Which waveforms of a reading are analysed, and how a chunk becomes the analyser's input. Per device one
 * ECG lead (lead II preferred, then modified lead II, then the others in catalogue order), the PPG and the
 * respiration wave.
 */
import {
  type DerivedSource,
  observationId,
  parseInstant,
  type ReadingMessage,
  WAVEFORM_CODES,
  type WaveformChunk,
  type WaveformCode,
} from '@openiomt/core';
import type { StreamChunk, WaveformKind } from '@openiomt/signal';

const ECG_PREFERENCE: readonly WaveformCode[] = [
  'ecg-ii',
  'ecg-mlii',
  ...WAVEFORM_CODES.filter((c) => c.startsWith('ecg-') && c !== 'ecg-ii' && c !== 'ecg-mlii'),
];

/** The chunks of one analysed waveform in a reading, each with the id of its stored Observation. */
export interface Channel {
  readonly kind: WaveformKind;
  readonly code: WaveformCode;
  readonly chunks: readonly { readonly chunk: WaveformChunk; readonly observationId: string }[];
}

const kindOf = (code: WaveformCode): WaveformKind | undefined =>
  code === 'ppg' ? 'ppg' : code === 'respiration' ? 'resp' : code.startsWith('ecg-') ? 'ecg' : undefined;

/** The reading's waveforms to analyse: at most one channel per kind. */
export function channelsOf(message: ReadingMessage): Channel[] {
  const byCode = new Map<WaveformCode, { chunk: WaveformChunk; observationId: string }[]>();
  message.waveforms.forEach((chunk, j) => {
    // Waveform Observations follow the vitals in a reading (core's mapObservations).
    const id = observationId(message, message.vitals.length + j);
    byCode.set(chunk.code, [...(byCode.get(chunk.code) ?? []), { chunk, observationId: id }]);
  });
  const channels: Channel[] = [];
  const lead = ECG_PREFERENCE.find((c) => byCode.has(c));
  for (const code of [lead, 'ppg', 'respiration'] as const) {
    const chunks = code === undefined ? undefined : byCode.get(code);
    const kind = code === undefined ? undefined : kindOf(code);
    if (code !== undefined && chunks && kind) channels.push({ kind, code, chunks });
  }
  return channels;
}

/** Physical values (origin + factor * sample; null stays null) at the chunk's start time and rate. */
export function toStreamChunk(chunk: WaveformChunk): (StreamChunk & { endMs: number }) | undefined {
  const startMs = parseInstant(chunk.start);
  if (startMs === undefined) return undefined;
  const samples = new Array<number | null>(chunk.data.length);
  for (let i = 0; i < chunk.data.length; i++) {
    const s = chunk.data[i];
    samples[i] = s === null || s === undefined ? null : chunk.origin + chunk.factor * s;
  }
  return { startMs, rateHz: chunk.rate, samples, endMs: startMs + (chunk.data.length * 1000) / chunk.rate };
}

/**
 * What a stream's results are derived from, kept for as long as a result may look back: the source chunks
 * of the recent past, and the rate Observations of earlier windows. HRV and the rhythm call span minutes;
 * they cite the earlier windows' rate Observations (which cite their chunks, and whose beats they reuse)
 * rather than hundreds of one-second chunks each.
 */
export class SourceLog {
  private readonly chunks: DerivedSource[] = [];
  private readonly windows: DerivedSource[] = [];

  constructor(
    private readonly chunkRetentionMs: number,
    private readonly windowRetentionMs: number,
  ) {}

  addChunk(source: DerivedSource): void {
    this.chunks.push(source);
    this.prune(source.endMs);
  }

  addWindow(source: DerivedSource): void {
    this.windows.push(source);
  }

  /** Sources for a result ending at endMs: earlier windows, then the chunks. */
  sourcesFor(endMs: number): DerivedSource[] {
    return [...this.windows.filter((w) => w.endMs <= endMs), ...this.chunks];
  }

  private prune(latestMs: number): void {
    keepEndingAfter(this.chunks, latestMs - this.chunkRetentionMs);
    keepEndingAfter(this.windows, latestMs - this.windowRetentionMs);
  }
}

/**
 * Drops, in place, the sources that end at or before `cutoff`. Not a new array per chunk: each would live
 * until the stream's next chunk, long enough to be promoted to the old generation and collected only by a
 * full GC (docs/benchmarks.md, stop 13).
 */
function keepEndingAfter(list: DerivedSource[], cutoff: number): void {
  let kept = 0;
  for (const s of list) if (s.endMs > cutoff) list[kept++] = s;
  list.length = kept;
}
