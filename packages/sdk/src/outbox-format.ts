import { crc32 } from 'node:zlib';

/**
 * On-disk record framing of outbox segments: [u32 BE payload length][u32 BE CRC-32 of payload][payload].
 * The CRC makes a torn or zero-filled tail (crash during append) detectable, not just a short one.
 */
export const FRAME_HEADER_BYTES = 8;
/** Larger than any message the platform accepts (256 KiB), small enough to reject garbage lengths. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

export function encodeFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(crc32(payload), 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export interface ScannedFrame {
  /** Offset of the frame header in the file. */
  readonly offset: number;
  readonly length: number;
}

export interface ScanResult {
  readonly frames: ScannedFrame[];
  /** Bytes covered by whole, valid frames; anything after is a torn or damaged tail. */
  readonly validBytes: number;
}

/** Reads frames from the start of a segment until the first incomplete or damaged one. */
export function scanFrames(data: Buffer): ScanResult {
  const frames: ScannedFrame[] = [];
  let offset = 0;
  while (offset + FRAME_HEADER_BYTES <= data.length) {
    const length = data.readUInt32BE(offset);
    const end = offset + FRAME_HEADER_BYTES + length;
    if (length === 0 || length > MAX_RECORD_BYTES || end > data.length) break;
    const payload = data.subarray(offset + FRAME_HEADER_BYTES, end);
    if (crc32(payload) !== data.readUInt32BE(offset + 4)) break;
    frames.push({ offset, length });
    offset = end;
  }
  return { frames, validBytes: offset };
}

const SEGMENT_NAME = /^(\d{16})\.seg$/;

export const segmentName = (firstId: number): string => `${String(firstId).padStart(16, '0')}.seg`;

export function segmentFirstId(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

export interface CursorState {
  /** Every record with a smaller id is acknowledged or dropped. */
  readonly head: number;
  /** Every record with a smaller id has been sent at least once (resend with DUP). */
  readonly sent: number;
  /** Opaque transport data for the sent range (the HTTP Idempotency-Key). */
  readonly tag?: string;
}

export function parseCursor(text: string, path: string): CursorState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`outbox cursor ${path} is not JSON`);
  }
  const o = raw as Record<string, unknown>;
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (typeof o !== 'object' || o === null || !isCount(o.head) || !isCount(o.sent))
    throw new Error(`outbox cursor ${path} needs non-negative integers head and sent`);
  if (o.tag !== undefined && typeof o.tag !== 'string')
    throw new Error(`outbox cursor ${path}: tag must be a string`);
  const base = { head: o.head, sent: Math.max(o.sent, o.head) };
  return o.tag === undefined ? base : { ...base, tag: o.tag as string };
}
