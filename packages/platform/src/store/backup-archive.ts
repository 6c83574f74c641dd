/**
 * The container of an `openiomt backup`: a POSIX ustar archive (read by any `tar`) of regular files with
 * plain relative names. Written and read here, in memory: a backup is the embedded database's dump and the
 * audit folder's few small files. The reader takes outside input (a file someone hands to `restore`), so
 * it refuses anything it would not write itself (links, absolute or `..` names, bad checksums, truncation)
 * with an ArchiveError saying what is wrong, and never writes anything.
 */

export interface ArchiveEntry {
  /** A relative path of plain segments, e.g. `audit/tree-heads.jsonl`. */
  readonly name: string;
  readonly data: Uint8Array;
  /** Permission bits, e.g. 0o600. */
  readonly mode: number;
}

export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

const BLOCK = 512;
/** Segments of letters, digits, `.`, `_`, `-`; neither `.` nor `..`. At most 100 bytes (ustar's name field). */
const NAME = /^(?!\.{1,2}(\/|$))[A-Za-z0-9._-]+(\/(?!\.{1,2}(\/|$))[A-Za-z0-9._-]+)*$/;
/** ustar's 12-byte octal size field holds at most 8 GiB - 1. */
const MAX_SIZE = 0o77777777777;
const MAX_ENTRIES = 1000;

export function isArchiveName(name: string): boolean {
  return name.length <= 100 && NAME.test(name);
}

/** The archive of these files, in this order, ending with the two zero blocks ustar requires. */
export function packArchive(entries: readonly ArchiveEntry[], mtime = new Date()): Buffer {
  const parts: Buffer[] = [];
  const names = new Set<string>();
  for (const e of entries) {
    if (!isArchiveName(e.name)) throw new ArchiveError(`cannot archive the name ${JSON.stringify(e.name)}`);
    if (names.has(e.name)) throw new ArchiveError(`${e.name} is in the archive twice`);
    names.add(e.name);
    parts.push(header(e, Math.floor(mtime.getTime() / 1000)), Buffer.from(e.data));
    const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

function header(e: ArchiveEntry, mtimeS: number): Buffer {
  if (e.data.length > MAX_SIZE) throw new ArchiveError(`${e.name} is too large for an archive entry`);
  const h = Buffer.alloc(BLOCK);
  h.write(e.name, 0, 100, 'ascii');
  octal(h, 100, 8, e.mode & 0o7777);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, e.data.length);
  octal(h, 136, 12, mtimeS);
  h.write('0', 156, 1, 'ascii'); // a regular file
  h.write('ustar\u0000', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  octal(h, 148, 7, checksum(h));
  h[155] = 0x20;
  return h;
}

/** A zero-padded octal number ending in NUL, filling `width` bytes. */
function octal(buf: Buffer, at: number, width: number, value: number): void {
  buf.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, at, width, 'ascii');
}

const checksum = (h: Uint8Array): number => h.reduce((sum, b) => sum + b, 0);

/** The regular files of an archive, as written by packArchive (or by `tar` with such plain contents). */
export function unpackArchive(archive: Uint8Array): ArchiveEntry[] {
  const buf = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const entries: ArchiveEntry[] = [];
  const names = new Set<string>();
  let at = 0;
  for (;;) {
    if (at + BLOCK > buf.length)
      throw new ArchiveError('the archive is cut short (no end-of-archive blocks)');
    const h = buf.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) return entries;
    if (entries.length >= MAX_ENTRIES)
      throw new ArchiveError(`more than ${MAX_ENTRIES} files in the archive`);
    const name = text(h, 0, 100);
    const where = `archive entry ${entries.length + 1}${name ? ` (${JSON.stringify(name)})` : ''}`;
    const stored = readOctal(h, 148, 8);
    const sum = checksum(h) - h.subarray(148, 156).reduce((s, b) => s + b, 0) + 8 * 0x20;
    if (stored !== sum)
      throw new ArchiveError(`${where}: header checksum mismatch (not a tar archive, or damaged)`);
    const type = String.fromCharCode(h[156] as number);
    if (type !== '0' && type !== '\u0000')
      throw new ArchiveError(`${where}: not a regular file (type ${JSON.stringify(type)})`);
    if (text(h, 345, 155) !== '') throw new ArchiveError(`${where}: long names are not used in a backup`);
    if (!isArchiveName(name)) throw new ArchiveError(`${where}: the name is not a plain relative path`);
    if (names.has(name)) throw new ArchiveError(`${where}: the name comes twice`);
    const size = readOctal(h, 124, 12);
    const mode = readOctal(h, 100, 8);
    if (size === undefined || mode === undefined)
      throw new ArchiveError(`${where}: size or mode is not an octal number`);
    const start = at + BLOCK;
    if (start + size > buf.length) throw new ArchiveError(`${where}: the archive is cut short`);
    entries.push({ name, data: Uint8Array.from(buf.subarray(start, start + size)), mode: mode & 0o7777 });
    names.add(name);
    at = start + Math.ceil(size / BLOCK) * BLOCK;
  }
}

/** A NUL-terminated ASCII field. */
function text(h: Buffer, at: number, width: number): string {
  const field = h.subarray(at, at + width);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? width : end).toString('latin1');
}

/** An octal field (spaces or NUL around the digits), or undefined when it is not one. */
function readOctal(h: Buffer, at: number, width: number): number | undefined {
  const digits = text(h, at, width).trim();
  if (!/^[0-7]{1,12}$/.test(digits)) return undefined;
  return Number.parseInt(digits, 8);
}
