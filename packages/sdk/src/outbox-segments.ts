import { open, readFile } from 'node:fs/promises';
import type { OutboxRecord } from './outbox.ts';
import { type CursorState, FRAME_HEADER_BYTES, parseCursor } from './outbox-format.ts';

/** File-level helpers of the outbox: its in-memory index types, record reads, cursor and tail repair. */
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
