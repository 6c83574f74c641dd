import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './fs-util.ts';

/**
 * Hands out message sequence numbers, strictly increasing from 1, never repeating for the life of the
 * device key, including across restarts and crashes (the platform rejects a reused seq as a replay).
 */
export interface SequenceStore {
  next(): Promise<number>;
}

export class MemorySequenceStore implements SequenceStore {
  constructor(private last = 0) {}

  async next(): Promise<number> {
    this.last += 1;
    return this.last;
  }
}

export interface FileSequenceStoreOptions {
  /** Numbers reserved per disk write. A crash skips at most this many numbers. Default 1000. */
  readonly blockSize?: number;
}

/**
 * Persists a high-water mark: before handing out numbers up to R it writes R to disk (atomically, with
 * fsync). After a restart it continues above R, so a crash can skip numbers but never reuse one.
 */
export class FileSequenceStore implements SequenceStore {
  private readonly blockSize: number;
  private last = 0;
  private reserved = -1;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string,
    opts: FileSequenceStoreOptions = {},
  ) {
    this.blockSize = opts.blockSize ?? 1000;
    if (!Number.isSafeInteger(this.blockSize) || this.blockSize < 1)
      throw new Error('FileSequenceStore blockSize must be a positive integer');
  }

  next(): Promise<number> {
    const result = this.chain.then(() => this.take());
    this.chain = result.catch(() => undefined);
    return result;
  }

  private async take(): Promise<number> {
    if (this.reserved < 0) {
      this.reserved = await readMark(this.path);
      this.last = this.reserved;
    }
    if (this.last >= this.reserved) {
      const mark = this.reserved + this.blockSize;
      if (!Number.isSafeInteger(mark)) throw new Error('sequence numbers exhausted (2^53)');
      await writeFileAtomic(this.path, `${mark}\n`);
      this.reserved = mark;
    }
    this.last += 1;
    return this.last;
  }
}

async function readMark(path: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  const mark = Number(text.trim());
  // A damaged mark must stop the device: guessing low would reuse numbers the platform has seen.
  if (!/^\d+\s*$/.test(text) || !Number.isSafeInteger(mark))
    throw new Error(`sequence file ${path} is damaged (expected a non-negative integer)`);
  return mark;
}
