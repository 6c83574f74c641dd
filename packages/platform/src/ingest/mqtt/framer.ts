/**
 * Splits a TCP byte stream into whole MQTT control packets using only the fixed header, so that an oversize
 * packet is refused from its first bytes (before it is buffered) and the gateway can stop taking packets
 * while a client is over its in-flight limit without losing the bytes already received.
 */
export type FrameResult =
  | { kind: 'frame'; frame: Buffer; type: number }
  | { kind: 'need-more' }
  | { kind: 'oversize'; size: number }
  | { kind: 'malformed'; detail: string };

const MAX_LENGTH_BYTES = 4;

export class MqttFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Bytes received but not yet returned as a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Drops everything buffered (used when the connection stops taking packets). */
  clear(): void {
    this.chunks = [];
    this.buffered = 0;
  }

  next(): FrameResult {
    if (this.buffered < 2) return { kind: 'need-more' };
    const header = this.readHeader();
    if (header.kind !== 'header') return header;
    const size = header.headerBytes + header.remaining;
    if (size > this.maxPacketBytes) return { kind: 'oversize', size };
    if (this.buffered < size) return { kind: 'need-more' };
    const type = this.byteAt(0) >> 4;
    return { kind: 'frame', frame: this.take(size), type };
  }

  private readHeader():
    | { kind: 'header'; headerBytes: number; remaining: number }
    | { kind: 'need-more' }
    | { kind: 'malformed'; detail: string } {
    let remaining = 0;
    let multiplier = 1;
    for (let i = 0; i < MAX_LENGTH_BYTES; i++) {
      if (1 + i >= this.buffered) return { kind: 'need-more' };
      const byte = this.byteAt(1 + i);
      remaining += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return { kind: 'header', headerBytes: 2 + i, remaining };
      multiplier *= 128;
    }
    return { kind: 'malformed', detail: 'remaining length: more than 4 bytes' };
  }

  private byteAt(index: number): number {
    let offset = index;
    for (const chunk of this.chunks) {
      if (offset < chunk.length) return chunk[offset]!;
      offset -= chunk.length;
    }
    throw new RangeError(`framer: byte ${index} is beyond the ${this.buffered} buffered bytes`);
  }

  private take(size: number): Buffer {
    const first = this.chunks[0]!;
    let frame: Buffer;
    if (first.length >= size) {
      frame = first.subarray(0, size);
      if (first.length === size) this.chunks.shift();
      else this.chunks[0] = first.subarray(size);
    } else {
      const all = Buffer.concat(this.chunks, this.buffered);
      frame = all.subarray(0, size);
      this.chunks = all.length > size ? [all.subarray(size)] : [];
    }
    this.buffered -= size;
    return frame;
  }
}
