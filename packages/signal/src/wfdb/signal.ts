// WFDB signal-file decoding (formats 212, 16, 61, 80, 24, 32) and frame demultiplexing. Pure: bytes in,
// digital sample arrays out. Layout notes: a frame holds `samplesPerFrame` consecutive samples of signal 0,
// then of signal 1, ...; format 212 packs that flat stream two samples per three bytes.
import type { RecordHeader, SignalSpec } from './header.ts';

export interface WfdbSignal {
  spec: SignalSpec;
  /** Samples per second of this signal: frame rate × samples per frame. */
  samplingFrequency: number;
  /** Digital (ADC) values; the format's invalid-sample code is kept as is. */
  digital: Int32Array;
}

export interface WfdbRecord {
  header: RecordHeader;
  signals: WfdbSignal[];
  /**
   * Signal files that hold fewer frames than the header declares (a copy or download cut short). Their
   * signals are decoded as far as the file goes; a reader that analyses them should say so.
   */
  shortFiles: ShortFile[];
}

/** A signal file holding `frames` of the `declaredFrames` frames (samples per signal) its header declares. */
export interface ShortFile {
  fileName: string;
  frames: number;
  declaredFrames: number;
}

export class WfdbFormatError extends Error {
  override name = 'WfdbFormatError';
}

/** Digital code that marks a missing sample, per format (wfdb-python INVALID_SAMPLE_VALUE). */
export const INVALID_SAMPLE: Readonly<Record<number, number>> = {
  80: -128,
  212: -2048,
  16: -32768,
  61: -32768,
  24: -(2 ** 23),
  32: -(2 ** 31),
};

const BITS_PER_SAMPLE: Readonly<Record<number, number>> = { 80: 8, 212: 12, 16: 16, 61: 16, 24: 24, 32: 32 };

/** Decodes `count` samples of a flat sample stream stored in `format`, starting at byte `offset`. */
export function decodeStream(bytes: Uint8Array, format: number, offset: number, count: number): Int32Array {
  const out = new Int32Array(count);
  let p = offset;
  switch (format) {
    case 212:
      for (let i = 0; i < count; i += 2) {
        const b0 = bytes[p]!;
        const b1 = bytes[p + 1]!;
        const a = b0 | ((b1 & 0x0f) << 8);
        out[i] = a > 2047 ? a - 4096 : a;
        if (i + 1 < count) {
          const b = bytes[p + 2]! | ((b1 & 0xf0) << 4);
          out[i + 1] = b > 2047 ? b - 4096 : b;
        }
        p += 3;
      }
      return out;
    case 16:
      for (let i = 0; i < count; i++, p += 2) out[i] = ((bytes[p]! | (bytes[p + 1]! << 8)) << 16) >> 16;
      return out;
    case 61:
      for (let i = 0; i < count; i++, p += 2) out[i] = ((bytes[p + 1]! | (bytes[p]! << 8)) << 16) >> 16;
      return out;
    case 80:
      for (let i = 0; i < count; i++) out[i] = bytes[p + i]! - 128;
      return out;
    case 24:
      for (let i = 0; i < count; i++, p += 3)
        out[i] = ((bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16)) << 8) >> 8;
      return out;
    case 32:
      for (let i = 0; i < count; i++, p += 4) {
        out[i] = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
      }
      return out;
    default:
      throw new WfdbFormatError(
        `signal format ${format} is not supported (supported: 212, 16, 61, 80, 24, 32)`,
      );
  }
}

/** How many whole samples of `format` fit in `byteCount` bytes. */
function samplesInBytes(format: number, byteCount: number): number {
  const bits = BITS_PER_SAMPLE[format];
  if (bits === undefined) {
    throw new WfdbFormatError(
      `signal format ${format} is not supported (supported: 212, 16, 61, 80, 24, 32)`,
    );
  }
  // Format 212: a trailing 2-byte group still carries one sample.
  if (format === 212) return Math.floor(byteCount / 3) * 2 + (byteCount % 3 >= 2 ? 1 : 0);
  return Math.floor((byteCount * 8) / bits);
}

/**
 * Decodes every signal of a record. `files` maps each data file name used in the header to its bytes.
 * Signals sharing a file are demultiplexed frame by frame.
 */
export function decodeRecord(header: RecordHeader, files: ReadonlyMap<string, Uint8Array>): WfdbRecord {
  const signals: WfdbSignal[] = new Array(header.signals.length);
  const shortFiles: ShortFile[] = [];
  const groups = new Map<string, number[]>();
  header.signals.forEach((s, i) => {
    const list = groups.get(s.fileName) ?? [];
    list.push(i);
    groups.set(s.fileName, list);
  });
  for (const [fileName, indices] of groups) {
    const bytes = files.get(fileName);
    if (bytes === undefined) throw new WfdbFormatError(`signal file "${fileName}" was not supplied`);
    const specs = indices.map((i) => header.signals[i]!);
    const first = specs[0]!;
    for (const s of specs) {
      if (s.format !== first.format || s.byteOffset !== first.byteOffset) {
        throw new WfdbFormatError(
          `signal file "${fileName}": signals sharing a file must share format and byte offset`,
        );
      }
      if (s.skew !== 0)
        throw new WfdbFormatError(`signal file "${fileName}": skew ${s.skew} is not supported`);
    }
    const frameSize = specs.reduce((n, s) => n + s.samplesPerFrame, 0);
    const available = Math.floor(
      samplesInBytes(first.format, Math.max(0, bytes.length - first.byteOffset)) / frameSize,
    );
    const declared = header.frameCount !== undefined && header.frameCount > 0 ? header.frameCount : undefined;
    const frames = declared !== undefined ? Math.min(declared, available) : available;
    if (declared !== undefined && available < declared)
      shortFiles.push({ fileName, frames, declaredFrames: declared });
    const flat = decodeStream(bytes, first.format, first.byteOffset, frames * frameSize);
    let column = 0;
    specs.forEach((spec, k) => {
      const spf = spec.samplesPerFrame;
      const digital = new Int32Array(frames * spf);
      for (let f = 0, src = column, dst = 0; f < frames; f++, src += frameSize) {
        for (let j = 0; j < spf; j++) digital[dst++] = flat[src + j]!;
      }
      column += spf;
      signals[indices[k]!] = { spec, samplingFrequency: header.samplingFrequency * spf, digital };
    });
  }
  return { header, signals, shortFiles };
}

/** Physical values (digital − baseline) / gain; invalid samples become NaN. */
export function toPhysical(signal: WfdbSignal): Float64Array {
  const { digital, spec } = signal;
  const invalid = INVALID_SAMPLE[spec.format];
  const out = new Float64Array(digital.length);
  for (let i = 0; i < digital.length; i++) {
    const d = digital[i]!;
    out[i] = d === invalid ? Number.NaN : (d - spec.baseline) / spec.gain;
  }
  return out;
}

/** WFDB checksum: sum of the digital samples mod 2^16, as a signed 16-bit number. */
export function checksum(digital: Int32Array): number {
  let sum = 0;
  for (let i = 0; i < digital.length; i++) sum = (sum + digital[i]!) & 0xffff;
  return (sum << 16) >> 16;
}
