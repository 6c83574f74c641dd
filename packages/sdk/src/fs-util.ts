import { link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Flushes a directory entry (file creation, rename, unlink) to disk; a no-op where the OS forbids it. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (e) {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic there.
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await handle?.close();
  }
}

/**
 * Replaces `path` with `data` so that a crash leaves either the old or the new content, never a mix:
 * write a temporary file, fsync it, rename it over the target, fsync the directory. With `exclusive`, an
 * existing `path` is never replaced: the file is hard-linked into place, which fails if it exists (EEXIST).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Buffer,
  mode = 0o600,
  opts: { exclusive?: boolean } = {},
): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(tmp, 'w', mode).catch((e: NodeJS.ErrnoException) => {
    // The error would name the temporary file, which the caller never heard of.
    throw Object.assign(new Error(`cannot write ${path}: ${e.code ?? e.message}`), { code: e.code });
  });
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await handle.close();
  if (opts.exclusive) {
    try {
      await link(tmp, path);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  } else await rename(tmp, path);
  await fsyncDir(dirname(path));
}
