/**
 * Backups of the embedded database: PGlite's own dump of its data folder, a gzipped tarball, and the way
 * back. Only while the platform is stopped (PGlite has one writer, and it leaves postmaster.pid behind while
 * open). The master key is never in a backup: a stolen backup alone holds no readable patient identity.
 * PostgreSQL is backed up with its own tools (pg_dump, base backups).
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { holdDataDir, holdStoppedDataDir } from './pglite-lock.ts';

export class BackupError extends Error {
  override name = 'BackupError';
}

const backupError = (m: string) => new BackupError(m);

/** Writes a gzipped tarball of the PGlite data folder to outFile (created 0600, never overwritten). */
export async function backupPglite(pgDir: string, outFile: string): Promise<{ bytes: number }> {
  if (!existsSync(join(pgDir, 'PG_VERSION')))
    throw new BackupError(`${pgDir} holds no embedded database: check --data-dir`);
  // Held while the dump is made: a platform started meanwhile is refused.
  const hold = holdStoppedDataDir(dirname(pgDir), backupError);
  try {
    return await dumpTo(pgDir, outFile);
  } finally {
    hold.release();
  }
}

async function dumpTo(pgDir: string, outFile: string): Promise<{ bytes: number }> {
  let out: Awaited<ReturnType<typeof open>>;
  try {
    out = await open(outFile, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BackupError(
      code === 'EEXIST'
        ? `${outFile} exists: choose another --out (a backup never overwrites a file)`
        : `cannot create ${outFile}: ${(e as Error).message}`,
    );
  }
  try {
    const db = await PGlite.create(pgDir, { extensions: { btree_gist } });
    let dump: Blob;
    try {
      dump = await db.dumpDataDir('gzip');
    } finally {
      await db.close();
    }
    const bytes = Buffer.from(await dump.arrayBuffer());
    await out.writeFile(bytes);
    await out.sync();
    return { bytes: bytes.length };
  } finally {
    await out.close();
  }
}

/** Restores a backup into pgDir, which must not exist yet or be empty (made private, 0700). */
export async function restorePglite(backupFile: string, pgDir: string): Promise<void> {
  if (existsSync(pgDir) && (await readdir(pgDir)).length > 0)
    throw new BackupError(`${pgDir} is not empty: restore into a fresh --data-dir`);
  let tarball: Buffer;
  try {
    tarball = await readFile(backupFile);
  } catch (e) {
    throw new BackupError(`cannot read ${backupFile}: ${(e as Error).message}`);
  }
  await mkdir(pgDir, { recursive: true, mode: 0o700 });
  await chmod(pgDir, 0o700);
  const hold = holdDataDir(dirname(pgDir), backupError);
  try {
    const db = await PGlite.create(pgDir, {
      extensions: { btree_gist },
      loadDataDir: new Blob([new Uint8Array(tarball)], { type: 'application/x-gzip' }),
    });
    await db.close();
  } finally {
    hold.release();
  }
}
