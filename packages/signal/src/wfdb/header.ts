// WFDB header (.hea) parser. Pure: takes the header text, returns a description of the record.
// Field grammar follows wfdb-python `_header.py` and the WFDB C library (see shared reference notes).

export interface SignalSpec {
  /** Data file name as written in the header (relative to the header's directory). */
  fileName: string;
  /** Storage format code: 212, 16, 80, ... */
  format: number;
  /** Samples of this signal per frame (the `x4` in `212x4`); 1 unless stated. */
  samplesPerFrame: number;
  skew: number;
  /** Bytes to skip at the start of the data file (the `+24` in `16+24`). */
  byteOffset: number;
  /** ADC units per physical unit; 0 or absent in the header means 200. */
  gain: number;
  /** Digital value that maps to physical zero; defaults to adcZero. */
  baseline: number;
  units: string;
  adcResolution: number;
  adcZero: number;
  initialValue: number | undefined;
  checksum: number | undefined;
  blockSize: number;
  description: string;
}

export interface RecordHeader {
  name: string;
  signalCount: number;
  /** Frame rate in frames per second (Hz). Defaults to 250 when absent. */
  samplingFrequency: number;
  counterFrequency: number | undefined;
  baseCounter: number | undefined;
  /** Number of frames per signal, undefined when the header does not say. */
  frameCount: number | undefined;
  baseTime: string | undefined;
  baseDate: string | undefined;
  signals: SignalSpec[];
  /** Free-text comment lines (without the leading `#`). */
  comments: string[];
}

export class WfdbHeaderError extends Error {
  override name = 'WfdbHeaderError';
}

const DEFAULT_FS = 250;
const DEFAULT_GAIN = 200;

const RECORD_LINE =
  /^(?<name>[-\w]+)(?:\/(?<nseg>\d+))?\s+(?<nsig>\d+)(?:\s+(?<fs>[0-9.eE+-]+)(?:\/(?<cf>[0-9.eE+-]+)(?:\((?<bc>[-0-9.eE+]+)\))?)?(?:\s+(?<nsamp>\d+)(?:\s+(?<time>[\d:.]+)(?:\s+(?<date>[\d/]+))?)?)?)?\s*$/;

const FORMAT_FIELD = /^(?<fmt>\d+)(?:x(?<spf>\d+))?(?::(?<skew>\d+))?(?:\+(?<off>\d+))?$/;
const GAIN_FIELD = /^(?<gain>[-+]?[0-9.]+(?:[eE][-+]?\d+)?)(?:\((?<base>[-+]?\d+)\))?(?:\/(?<units>\S+))?$/;

function splitLines(text: string): string[] {
  return text.split(/\r?\n|\r/);
}

/**
 * A piece of the header for an error message: escaped (a header is outside input; its bytes must not reach
 * a terminal raw) and cut short.
 */
function quoted(text: string | undefined): string {
  if (text === undefined) return '""';
  const cut = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return JSON.stringify(cut).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Control characters other than tab, line breaks, vertical tab and form feed. */
function hasControlBytes(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && (c < 0x09 || c > 0x0d)) return true;
  }
  return false;
}

/** Parses a header's text. Throws WfdbHeaderError naming the offending field. */
export function parseHeader(text: string): RecordHeader {
  // A binary file given as a header (a .dat, say): said so, not quoted.
  if (hasControlBytes(text.slice(0, 4096)))
    throw new WfdbHeaderError("header: not a text file (control bytes in it): give the record's .hea");
  const comments: string[] = [];
  const content: string[] = [];
  for (const raw of splitLines(text)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      comments.push(line.slice(1).trim());
      continue;
    }
    content.push(line);
  }
  const recordLine = content[0];
  if (recordLine === undefined) throw new WfdbHeaderError('header: no record line');
  const m = RECORD_LINE.exec(recordLine);
  if (!m?.groups) throw new WfdbHeaderError(`header: malformed record line ${quoted(recordLine)}`);
  const g = m.groups;
  if (g.nseg !== undefined) {
    throw new WfdbHeaderError(
      `header: record ${quoted(g.name)} is multi-segment (${g.nseg} segments); read each segment record instead`,
    );
  }
  const signalCount = Number(g.nsig);
  const samplingFrequency = g.fs !== undefined ? Number(g.fs) : DEFAULT_FS;
  if (!(samplingFrequency > 0) || !Number.isFinite(samplingFrequency)) {
    throw new WfdbHeaderError(`header: sampling frequency ${quoted(g.fs)} must be a positive number`);
  }
  const signalLines = content.slice(1);
  if (signalLines.length < signalCount) {
    throw new WfdbHeaderError(
      `header: record line declares ${signalCount} signals but ${signalLines.length} signal lines follow`,
    );
  }
  const signals = signalLines.slice(0, signalCount).map((l, i) => parseSignalLine(l, i));
  return {
    name: g.name!,
    signalCount,
    samplingFrequency,
    counterFrequency: g.cf !== undefined ? Number(g.cf) : undefined,
    baseCounter: g.bc !== undefined ? Number(g.bc) : undefined,
    frameCount: g.nsamp !== undefined ? Number(g.nsamp) : undefined,
    baseTime: g.time,
    baseDate: g.date,
    signals,
    comments,
  };
}

function intField(value: string | undefined, field: string, index: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n))
    throw new WfdbHeaderError(`header: signal ${index} ${field} ${quoted(value)} is not an integer`);
  return n;
}

function parseSignalLine(line: string, index: number): SignalSpec {
  const parts = line.split(/\s+/);
  const [fileName, fmtText, gainText, resText, zeroText, initText, sumText, blockText] = parts;
  if (fileName === undefined || fmtText === undefined) {
    throw new WfdbHeaderError(`header: signal ${index} line ${quoted(line)} lacks a format field`);
  }
  const fm = FORMAT_FIELD.exec(fmtText);
  if (!fm?.groups)
    throw new WfdbHeaderError(`header: signal ${index} format ${quoted(fmtText)} is malformed`);
  const adcZero = intField(zeroText, 'adczero', index, 0);
  let gain = DEFAULT_GAIN;
  let baseline = adcZero;
  let units = 'mV';
  if (gainText !== undefined) {
    const gm = GAIN_FIELD.exec(gainText);
    if (!gm?.groups)
      throw new WfdbHeaderError(`header: signal ${index} gain ${quoted(gainText)} is malformed`);
    const parsedGain = Number(gm.groups.gain);
    gain = parsedGain === 0 ? DEFAULT_GAIN : parsedGain;
    if (gm.groups.base !== undefined) baseline = Number(gm.groups.base);
    if (gm.groups.units !== undefined) units = gm.groups.units;
  }
  return {
    fileName,
    format: Number(fm.groups.fmt),
    samplesPerFrame: fm.groups.spf !== undefined ? Number(fm.groups.spf) : 1,
    skew: fm.groups.skew !== undefined ? Number(fm.groups.skew) : 0,
    byteOffset: fm.groups.off !== undefined ? Number(fm.groups.off) : 0,
    gain,
    baseline,
    units,
    adcResolution: intField(resText, 'adcres', index, 0),
    adcZero,
    initialValue: initText !== undefined ? intField(initText, 'initval', index, 0) : undefined,
    checksum: sumText !== undefined ? intField(sumText, 'checksum', index, 0) : undefined,
    blockSize: intField(blockText, 'blocksize', index, 0),
    description: parts.slice(8).join(' '),
  };
}
