import { open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from './fs-util.ts';
import type { OutboxRecord } from './outbox.ts';
import {
  type CursorState,
  FRAME_HEADER_BYTES,
  parseCursor,
  scanFrames,
  segmentFirstId,
  segmentName,
} from './outbox-format.ts';

/**
 * The outbox's files: its segment files (found and repaired at open, appended to, rotated, deleted once
 * empty), the in-memory index types that point into them, record reads, the cursor and tail repair.
 */
export interface Segment {
  readonly first: number;
  readonly path: string;
  bytes: number;
  live: number;
}

export interface Entry {
  readonly id: number;
  readonly seg: Segment;
  readonly offset: number;
  readonly length: number;
}

/** Reads the chosen records, one read per run of records in the same segment. */
export async function readEntries(chosen: readonly Entry[], sentBelow: number): Promise<OutboxRecord[]> {
  const out: OutboxRecord[] = [];
  let i = 0;
  while (i < chosen.length) {
    const seg = chosen[i]!.seg;
    let j = i;
    while (j < chosen.length && chosen[j]!.seg === seg) j++;
    const first = chosen[i]!;
    const last = chosen[j - 1]!;
    const end = last.offset + FRAME_HEADER_BYTES + last.length;
    const buf = Buffer.allocUnsafe(end - first.offset);
    const handle = await open(seg.path, 'r');
    try {
      await handle.read(buf, 0, buf.length, first.offset);
    } finally {
      await handle.close();
    }
    for (const e of chosen.slice(i, j)) {
      const at = e.offset - first.offset + FRAME_HEADER_BYTES;
      const jws = buf.toString('utf8', at, at + e.length);
      out.push({ id: e.id, jws, sent: e.id < sentBelow });
    }
    i = j;
  }
  return out;
}

export async function readCursor(path: string): Promise<CursorState> {
  try {
    return parseCursor(await readFile(path, 'utf8'), path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { head: 0, sent: 0 };
    throw e;
  }
}

export async function truncateFile(path: string, length: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** What opening the segment files found: the live records from the cursor's head on, in id order. */
export interface Recovered {
  readonly entries: Entry[];
  /** Their bytes on disk, framing included. */
  readonly liveBytes: number;
  /** The id the next appended record takes. */
  readonly nextId: number;
  /** Bytes of torn or damaged records cut off the segment tails. */
  readonly tornBytes: number;
}

/** An outbox's segment files, oldest first, and the one appends go to. */
export class SegmentFiles {
  private segments: Segment[] = [];
  private active: { seg: Segment; handle: Awaited<ReturnType<typeof open>> } | undefined;

  constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    private readonly sync: boolean,
  ) {}

  get count(): number {
    return this.segments.length;
  }

  /**
   * Reads the segments in the folder at open, cutting off torn or damaged tails (a crash during an append),
   * and returns the records from `head` on; ids continue from `nextId` at least.
   */
  async recover(head: number, nextId: number): Promise<Recovered> {
    const names = (await readdir(this.dir)).filter((n) => segmentFirstId(n) !== undefined).sort();
    const entries: Entry[] = [];
    let liveBytes = 0;
    let tornBytes = 0;
    let lastEnd = -1;
    for (const name of names) {
      const seg: Segment = { first: segmentFirstId(name)!, path: join(this.dir, name), bytes: 0, live: 0 };
      const data = await readFile(seg.path);
      const { frames, validBytes } = scanFrames(data);
      if (validBytes < data.length) {
        tornBytes += data.length - validBytes;
        await truncateFile(seg.path, validBytes);
      }
      seg.bytes = validBytes;
      frames.forEach((f, i) => {
        const id = seg.first + i;
        if (id < head) return;
        entries.push({ id, seg, offset: f.offset, length: f.length });
        liveBytes += FRAME_HEADER_BYTES + f.length;
        seg.live += 1;
      });
      this.segments.push(seg);
      lastEnd = seg.first + frames.length;
      nextId = Math.max(nextId, lastEnd);
    }
    const last = this.segments.at(-1);
    // Reuse the newest segment for appends only if its numbering continues without a gap.
    if (last && lastEnd === nextId && last.bytes < this.segmentBytes)
      this.active = { seg: last, handle: await open(last.path, 'a') };
    await this.deleteEmpty(head);
    return { entries, liveBytes, nextId, tornBytes };
  }

  /**
   * Appends encoded frames (`bytes` in all), the first numbered `firstId`, and syncs them; resolves with
   * the segment they went to and the offset of the first. A failed write is cut off again.
   */
  async append(frames: Buffer[], bytes: number, firstId: number): Promise<{ seg: Segment; start: number }> {
    // Rotate before a batch that would take the active segment past segmentBytes, so disk use stays within
    // maxBytes plus one segment (a segment is larger only when a single record is).
    const active = this.active?.seg.bytes;
    if (active === undefined || (active > 0 && active + bytes > this.segmentBytes)) await this.roll(firstId);
    const { seg, handle } = this.active!;
    const start = seg.bytes;
    try {
      await handle.writev(frames);
      if (this.sync) await handle.datasync();
    } catch (e) {
      // Cut off a partial write so later appends do not land behind garbage.
      await handle.truncate(start).catch(() => undefined);
      throw e;
    }
    seg.bytes = start + bytes;
    return { seg, start };
  }

  /** Deletes segments without live records whose every id is below `durableHead`, the head in the
   * cursor on disk, so that a crash never finds the cursor behind the segments. */
  async deleteEmpty(durableHead: number): Promise<void> {
    const dead = this.segments.filter(
      (s, i) =>
        s.live === 0 && s !== this.active?.seg && (this.segments[i + 1]?.first ?? Infinity) <= durableHead,
    );
    if (dead.length === 0) return;
    this.segments = this.segments.filter((s) => !dead.includes(s));
    for (const s of dead) await unlink(s.path).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.active?.handle.close();
    this.active = undefined;
  }

  private async roll(first: number): Promise<void> {
    await this.active?.handle.close();
    const seg: Segment = { first, path: join(this.dir, segmentName(first)), bytes: 0, live: 0 };
    const handle = await open(seg.path, 'a', 0o600);
    if (this.sync) await fsyncDir(this.dir);
    this.segments.push(seg);
    this.active = { seg, handle };
  }
}
