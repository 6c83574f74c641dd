// MIT-format annotation file parser (WFDB `getann` semantics). Pure: bytes in, annotations out.
// Stream of 16-bit little-endian words: code = word >> 10, data = word & 0x3ff. Codes 59..63 are
// pseudo-annotations (SKIP, NUM, SUB, CHN, AUX) that modify the annotation before them.
import { CODE, symbolOf } from './codes.ts';

export interface Annotation {
  /** Time in samples (of the annotation file's time base; see AnnotationFile.timeResolution). */
  sample: number;
  code: number;
  symbol: string;
  subtype: number;
  channel: number;
  num: number;
  aux: string;
}

export interface AnnotationFile {
  annotations: Annotation[];
  /** Ticks per second of `sample`, when the file declares one ("## time resolution: f"). */
  timeResolution: number | undefined;
  /** Custom code → symbol table declared in "## annotation type definitions". */
  customLabels: Map<number, { symbol: string; description: string }>;
}

export class WfdbAnnotationError extends Error {
  override name = 'WfdbAnnotationError';
}

const SKIP = 59;
const NUM = 60;
const SUB = 61;
const CHN = 62;
const AUX = 63;

interface RawAnnotation {
  sample: number;
  code: number;
  subtype: number;
  channel: number;
  num: number;
  aux: string;
}

function signedByte(v: number): number {
  const b = v & 0xff;
  return b > 127 ? b - 256 : b;
}

/** Decodes the raw annotation stream, including definition notes. */
export function decodeAnnotationStream(bytes: Uint8Array): RawAnnotation[] {
  if (bytes.length % 2 !== 0) {
    throw new WfdbAnnotationError(`annotation file: length ${bytes.length} is odd (expected 16-bit words)`);
  }
  const words = bytes.length / 2;
  const word = (i: number): number => bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
  const out: RawAnnotation[] = [];
  let i = 0;
  let time = 0;
  let channel = 0;
  let num = 0;
  let current: RawAnnotation | undefined;
  const readSkip = (at: number): number => {
    if (at + 2 >= words) throw new WfdbAnnotationError(`annotation file: SKIP at word ${at} is truncated`);
    // High 16-bit word first (PDP-11 order), then the low word.
    return (word(at + 1) << 16) | word(at + 2) | 0;
  };
  while (i < words) {
    const w = word(i);
    const code = w >> 10;
    const data = w & 0x3ff;
    if (code === 0 && data === 0) break; // logical end of file
    if (code === SKIP) {
      time += readSkip(i);
      i += 3;
      continue;
    }
    if (code === NUM || code === SUB || code === CHN || code === AUX) {
      if (current === undefined) {
        throw new WfdbAnnotationError(
          `annotation file: pseudo-annotation ${code} at word ${i} precedes any annotation`,
        );
      }
      if (code === NUM) num = current.num = signedByte(data);
      else if (code === SUB) current.subtype = signedByte(data);
      else if (code === CHN) channel = current.channel = data & 0xff;
      else {
        const len = data & 0xff;
        const start = 2 * (i + 1);
        if (start + len > bytes.length)
          throw new WfdbAnnotationError(`annotation file: AUX at word ${i} is truncated`);
        current.aux = decodeAux(bytes.subarray(start, start + len));
        i += Math.ceil(len / 2);
      }
      i += 1;
      continue;
    }
    time += data;
    current = { sample: time, code, subtype: 0, channel, num, aux: '' };
    out.push(current);
    i += 1;
  }
  return out;
}

function decodeAux(raw: Uint8Array): string {
  let end = raw.length;
  while (end > 0 && raw[end - 1] === 0) end--; // mitdb counts a trailing NUL in the length
  return new TextDecoder('latin1').decode(raw.subarray(0, end));
}

const TIME_RESOLUTION = /^## time resolution: ([0-9.eE+-]+)/;
const DEFINITION = /^(\d+) (\S+) (.*)$/;

/** Parses an annotation file, separating definition notes at time 0 from the annotations. */
export function parseAnnotations(bytes: Uint8Array): AnnotationFile {
  const raw = decodeAnnotationStream(bytes);
  let timeResolution: number | undefined;
  const customLabels = new Map<number, { symbol: string; description: string }>();
  let inDefinitions = false;
  let first = 0;
  for (; first < raw.length; first++) {
    const a = raw[first]!;
    if (a.sample !== 0 || a.code !== CODE.NOTE) break;
    const tr = TIME_RESOLUTION.exec(a.aux);
    if (tr) {
      timeResolution = Number(tr[1]);
      continue;
    }
    if (a.aux.startsWith('## annotation type definitions')) {
      inDefinitions = true;
      continue;
    }
    if (a.aux.startsWith('## end of definitions')) {
      inDefinitions = false;
      continue;
    }
    const def = inDefinitions ? DEFINITION.exec(a.aux.replace(/\n$/, '')) : null;
    if (!def) break;
    customLabels.set(Number(def[1]), { symbol: def[2]!, description: def[3]! });
  }
  const annotations: Annotation[] = [];
  for (let k = first; k < raw.length; k++) {
    const a = raw[k]!;
    // Null annotations (code 0) are placeholders writers emit after definitions; they carry nothing.
    if (a.code === CODE.NOTQRS) continue;
    const symbol = customLabels.get(a.code)?.symbol ?? symbolOf(a.code);
    annotations.push({ ...a, symbol });
  }
  return { annotations, timeResolution, customLabels };
}

/** Converts annotation times from the file's time resolution to a signal's sampling frequency. */
export function rescaleAnnotations(file: AnnotationFile, samplingFrequency: number): Annotation[] {
  const res = file.timeResolution;
  if (res === undefined || res === samplingFrequency) return file.annotations;
  const k = samplingFrequency / res;
  return file.annotations.map((a) => ({ ...a, sample: Math.round(a.sample * k) }));
}
