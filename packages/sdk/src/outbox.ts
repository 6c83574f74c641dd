import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './fs-util.ts';
import { type CursorState, encodeFrame, FRAME_HEADER_BYTES } from './outbox-format.ts';
import { type Entry, readCursor, readEntries, SegmentFiles } from './outbox-segments.ts';

/**
 * What happens when the outbox is full:
 * - `drop-oldest` (default): the oldest unsent readings make room, because clinically the newest data
 *   matters most. Every dropped record is counted in `stats().dropped` and reported to `onDrop`.
 * - `reject-new`: `append` rejects with OutboxFullError and nothing already stored is lost.
 */
export type OutboxFullPolicy = 'drop-oldest' | 'reject-new';

export interface OutboxOptions {
  /** Bound on the stored, unacknowledged records (framing included). Default 64 MiB. Disk use can
   * exceed it by at most one segment of acknowledged records awaiting deletion. */
  readonly maxBytes?: number;
  /** Segment file size; at most maxBytes / 2. Default min(4 MiB, maxBytes / 4). */
  readonly segmentBytes?: number;
  readonly whenFull?: OutboxFullPolicy;
  /** Wait this long to gather more appends into one fsync (group commit). Default 0: appends that
   * arrive while an fsync is running still share the next one. */
  readonly groupCommitMs?: number;
  /** fsync appended records before `append` resolves. Default true; false only for tests/benchmarks. */
  readonly sync?: boolean;
  readonly onDrop?: (dropped: DroppedRecords) => void;
}

export interface DroppedRecords {
  readonly count: number;
  readonly firstId: number;
  readonly lastId: number;
}

export interface OutboxRecord {
  /** Position in this outbox, increasing; not the message seq. */
  readonly id: number;
  readonly jws: string;
  /** True when the record was handed to a transport before (a resend must be marked DUP). */
  readonly sent: boolean;
}

export interface OutboxStats {
  readonly records: number;
  readonly bytes: number;
  readonly dropped: number;
  readonly appended: number;
  readonly acked: number;
  readonly segments: number;
  /** Bytes of torn or damaged records cut off the segment tails when the outbox was opened. */
  readonly tornBytesDiscarded: number;
}

export class OutboxFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboxFullError';
  }
}

interface Pending {
  readonly payload: Buffer;
  readonly resolve: (id: number) => void;
  readonly reject: (e: Error) => void;
}

const CURSOR_FILE = 'cursor.json';

/** Durable store-and-forward buffer: append-only segment files plus a small cursor file. */
export class Outbox {
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private entries: Entry[] = [];
  private headIdx = 0;
  private liveBytes = 0;
  private readonly files: SegmentFiles;
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private cursorWrite: Promise<void> | undefined;
  private cursorDirty = false;
  private readonly listeners = new Set<() => void>();
  private drainWaiters: (() => void)[] = [];
  private counters = { dropped: 0, appended: 0, acked: 0, tornBytesDiscarded: 0 };
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly opts: OutboxOptions,
    private cursor: CursorState,
    private nextId: number,
  ) {
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 1024)
      throw new Error('outbox maxBytes must be an integer of at least 1024');
    const seg = opts.segmentBytes ?? Math.min(4 * 1024 * 1024, Math.floor(this.maxBytes / 4));
    this.segmentBytes = Math.max(1, Math.min(seg, Math.floor(this.maxBytes / 2)));
    this.files = new SegmentFiles(dir, this.segmentBytes, opts.sync ?? true);
  }

  static async open(dir: string, opts: OutboxOptions = {}): Promise<Outbox> {
    await mkdir(dir, { recursive: true });
    const cursor = await readCursor(join(dir, CURSOR_FILE));
    const box = new Outbox(dir, opts, cursor, Math.max(cursor.head, cursor.sent));
    await box.load();
    return box;
  }

  /** Stores one record; resolves with its id once it is on disk (fsync). */
  append(jws: string): Promise<number> {
    if (this.closed) return Promise.reject(new Error('outbox is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ payload: Buffer.from(jws, 'utf8'), resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Up to n records, oldest first, starting at the first record whose id is at least fromId. */
  async peek(n: number, fromId = 0): Promise<OutboxRecord[]> {
    for (let attempt = 0; ; attempt++) {
      const chosen = this.select(n, fromId);
      try {
        return await readEntries(chosen, this.cursor.sent);
      } catch (e) {
        // The segment was deleted under us by a concurrent ack: the selection is stale, choose again.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 3) throw e;
      }
    }
  }

  /** Removes the `count` oldest records (they were delivered). */
  ack(count: number): Promise<void> {
    const available = this.entries.length - this.headIdx;
    if (!Number.isInteger(count) || count < 0) throw new Error('ack count must be a non-negative integer');
    if (count === 0) return Promise.resolve();
    const last = this.entries[this.headIdx + Math.min(count, available) - 1];
    return last ? this.ackThrough(last.id) : Promise.resolve();
  }

  /** Removes every record with an id up to and including `id` (no-op for ids already gone). */
  async ackThrough(id: number): Promise<void> {
    const removed = this.removeThrough(id);
    if (removed === 0) return;
    this.counters.acked += removed;
    await this.persistCursor();
  }

  /** Records that every record up to `id` has been handed to a transport; durable before it resolves,
   * so a crash cannot make a resend look like a first send. `tag` is kept with the mark. */
  async markSent(id: number, tag?: string): Promise<void> {
    const sent = Math.max(this.cursor.sent, Math.min(id + 1, this.nextId));
    this.cursor =
      tag === undefined ? { head: this.cursor.head, sent } : { head: this.cursor.head, sent, tag };
    await this.persistCursor();
  }

  /** The tag stored with the last markSent (the transport's batch key for the sent range). */
  get sentTag(): string | undefined {
    return this.cursor.tag;
  }

  /** Id of the first record never handed to a transport. */
  get firstUnsentId(): number {
    return this.cursor.sent;
  }

  get length(): number {
    return this.entries.length - this.headIdx;
  }

  /** Calls `listener` whenever new records become durable. Returns the unsubscribe function. */
  onAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when every appended record has been acknowledged or dropped. */
  drained(): Promise<void> {
    if (this.length === 0 && this.pending.length === 0 && !this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  stats(): OutboxStats {
    return {
      records: this.length,
      bytes: this.liveBytes,
      segments: this.files.count,
      ...this.counters,
    };
  }

  /** Writes what is pending, then closes the files. Nothing else is written: closing equals a crash
   * after the last resolved operation, which is what makes crash behaviour testable. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    while (this.pending.length > 0 || this.flushing) await (this.flushing ?? this.flush());
    while (this.cursorWrite) await this.cursorWrite;
    this.closed = true;
    await this.files.close();
  }

  private async load(): Promise<void> {
    const found = await this.files.recover(this.cursor.head, this.nextId);
    this.entries = found.entries;
    this.liveBytes = found.liveBytes;
    this.nextId = found.nextId;
    this.counters.tornBytesDiscarded = found.tornBytes;
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.flushing) return;
    const ms = this.opts.groupCommitMs ?? 0;
    const run = () => {
      this.flushTimer = undefined;
      void this.flush();
    };
    if (ms > 0) this.flushTimer = setTimeout(run, ms);
    else queueMicrotask(run);
  }

  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.writeBatch().finally(() => {
      this.flushing = undefined;
      if (this.pending.length > 0) this.scheduleFlush();
      else this.checkDrained();
    });
    return this.flushing;
  }

  /** Takes pending appends up to one segment's worth, makes room, writes and fsyncs them together. */
  private async writeBatch(): Promise<void> {
    const batch: Pending[] = [];
    let batchBytes = 0;
    while (this.pending.length > 0) {
      const p = this.pending[0]!;
      const frame = FRAME_HEADER_BYTES + p.payload.length;
      if (batch.length > 0 && batchBytes + frame > this.segmentBytes) break;
      this.pending.shift();
      if (frame > this.maxBytes) {
        p.reject(new OutboxFullError(`record of ${frame} bytes exceeds outbox maxBytes ${this.maxBytes}`));
        continue;
      }
      if (!this.makeRoom(batchBytes + frame)) {
        p.reject(new OutboxFullError(`outbox full (${this.liveBytes} of ${this.maxBytes} bytes)`));
        continue;
      }
      batch.push(p);
      batchBytes += frame;
    }
    if (batch.length === 0) return;
    try {
      await this.writeFrames(batch, batchBytes);
    } catch (e) {
      for (const p of batch) p.reject(e as Error);
      return;
    }
    for (const listener of this.listeners) listener();
  }

  /** True when `extra` more bytes fit, dropping the oldest records first if the policy allows. */
  private makeRoom(extra: number): boolean {
    if (this.liveBytes + extra <= this.maxBytes) return true;
    if ((this.opts.whenFull ?? 'drop-oldest') === 'reject-new') return false;
    let count = 0;
    const first = this.entries[this.headIdx];
    let lastId = -1;
    while (this.liveBytes + extra > this.maxBytes && this.length > 0) {
      lastId = this.entries[this.headIdx]!.id;
      this.removeThrough(lastId);
      count += 1;
    }
    if (count > 0 && first) {
      this.counters.dropped += count;
      void this.persistCursor().catch(() => undefined);
      try {
        this.opts.onDrop?.({ count, firstId: first.id, lastId });
      } catch {
        // A failing observer must not lose the reading being appended.
      }
    }
    return this.liveBytes + extra <= this.maxBytes;
  }

  private async writeFrames(batch: Pending[], batchBytes: number): Promise<void> {
    const frames = batch.map((p) => encodeFrame(p.payload));
    const { seg, start } = await this.files.append(frames, batchBytes, this.nextId);
    let offset = start;
    batch.forEach((p, i) => {
      const entry: Entry = { id: this.nextId, seg, offset, length: p.payload.length };
      this.nextId += 1;
      this.entries.push(entry);
      seg.live += 1;
      offset += frames[i]!.length;
      p.resolve(entry.id);
    });
    this.liveBytes += batchBytes;
    this.counters.appended += batch.length;
  }

  /** Removes live records up to and including `id` from memory; returns how many. */
  private removeThrough(id: number): number {
    let removed = 0;
    while (this.headIdx < this.entries.length && this.entries[this.headIdx]!.id <= id) {
      const e = this.entries[this.headIdx]!;
      this.headIdx += 1;
      this.liveBytes -= FRAME_HEADER_BYTES + e.length;
      e.seg.live -= 1;
      removed += 1;
      const head = e.id + 1;
      this.cursor = { ...this.cursor, head, sent: Math.max(this.cursor.sent, head) };
    }
    if (this.headIdx > 1024 && this.headIdx * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.headIdx);
      this.headIdx = 0;
    }
    if (removed > 0) this.checkDrained();
    return removed;
  }

  /** Writes the cursor; concurrent callers share one write that includes all their changes. */
  private async persistCursor(): Promise<void> {
    this.cursorDirty = true;
    while (this.cursorWrite) await this.cursorWrite;
    if (!this.cursorDirty) return;
    this.cursorDirty = false;
    const snapshot = this.cursor;
    const text = `${JSON.stringify(snapshot)}\n`;
    this.cursorWrite = writeFileAtomic(join(this.dir, CURSOR_FILE), text).finally(() => {
      this.cursorWrite = undefined;
    });
    await this.cursorWrite;
    await this.files.deleteEmpty(snapshot.head);
  }

  private select(n: number, fromId: number): Entry[] {
    let lo = this.headIdx;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.id < fromId) lo = mid + 1;
      else hi = mid;
    }
    return this.entries.slice(lo, lo + Math.max(0, n));
  }

  private checkDrained(): void {
    if (this.length > 0 || this.pending.length > 0 || this.flushing) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}
