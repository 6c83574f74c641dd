/**
 * Backups of an embedded data folder: PGlite's own dump of its database and the audit folder (the signing
 * key, tree heads and key history that `audit verify` checks the log against), in one gzipped ustar archive
 * with a manifest of SHA-256 digests; and the way back. Only while the platform is stopped (PGlite has one
 * writer). The master key is never in a backup: a stolen backup alone holds no readable patient identity.
 * PostgreSQL is backed up with its own tools (pg_dump, base backups).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { type ArchiveEntry, ArchiveError, packArchive, unpackArchive } from './backup-archive.ts';
import { holdDataDir, holdStoppedDataDir } from './pglite-lock.ts';

export class BackupError extends Error {
  override name = 'BackupError';
}

const backupError = (m: string) => new BackupError(m);
const MANIFEST = 'openiomt-backup.json';
const DATABASE = 'database.tar';
const AUDIT = 'audit';

interface Manifest {
  readonly format: 'openiomt-backup';
  readonly version: 1;
  readonly createdAt: string;
  readonly files: readonly { readonly name: string; readonly bytes: number; readonly sha256: string }[];
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Writes the backup of dataDir to outFile (created 0600, never overwritten). Returns its size and the
 * audit files it holds (none when the folder has no audit log yet).
 */
export async function backupDataDir(
  dataDir: string,
  outFile: string,
): Promise<{ bytes: number; auditFiles: string[] }> {
  const pgDir = join(dataDir, 'pg');
  if (!existsSync(join(pgDir, 'PG_VERSION')))
    throw new BackupError(`${pgDir} holds no embedded database: check --data-dir`);
  // Held while the backup is made: a platform started meanwhile is refused.
  const hold = holdStoppedDataDir(dataDir, backupError);
  try {
    const out = await createExclusive(outFile);
    try {
      const files: ArchiveEntry[] = [
        { name: DATABASE, data: await dumpDatabase(pgDir), mode: 0o600 },
        ...(await auditEntries(join(dataDir, AUDIT))),
      ];
      const manifest: Manifest = {
        format: 'openiomt-backup',
        version: 1,
        createdAt: new Date().toISOString(),
        files: files.map((f) => ({ name: f.name, bytes: f.data.length, sha256: sha256(f.data) })),
      };
      const archive = packArchive([
        { name: MANIFEST, data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), mode: 0o600 },
        ...files,
      ]);
      const bytes = gzipSync(archive);
      await out.writeFile(bytes);
      await out.sync();
      return { bytes: bytes.length, auditFiles: files.filter((f) => f.name !== DATABASE).map((f) => f.name) };
    } finally {
      await out.close();
    }
  } finally {
    hold.release();
  }
}

async function createExclusive(outFile: string) {
  try {
    return await open(outFile, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BackupError(
      code === 'EEXIST'
        ? `${outFile} exists: choose another --out (a backup never overwrites a file)`
        : `cannot create ${outFile}: ${(e as Error).message}`,
    );
  }
}

async function dumpDatabase(pgDir: string): Promise<Uint8Array> {
  const db = await PGlite.create(pgDir, { extensions: { btree_gist } });
  try {
    // Uncompressed inside: the whole archive is compressed once.
    return new Uint8Array(await (await db.dumpDataDir('none')).arrayBuffer());
  } finally {
    await db.close();
  }
}

/** The regular files of the audit folder, keeping their modes (the signing key stays 0600). */
async function auditEntries(dir: string): Promise<ArchiveEntry[]> {
  if (!existsSync(dir)) return [];
  const entries: ArchiveEntry[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    const s = await stat(path);
    if (s.isFile())
      entries.push({ name: `${AUDIT}/${name}`, data: await readFile(path), mode: s.mode & 0o777 });
  }
  return entries;
}

/**
 * Restores a backup into dataDir, whose database and audit folders must not hold anything yet (made
 * private, 0700). Takes backups of this format and the earlier database-only ones (PGlite's gzipped dump).
 */
export async function restoreDataDir(backupFile: string, dataDir: string): Promise<{ auditFiles: string[] }> {
  const pgDir = join(dataDir, 'pg');
  const auditDir = join(dataDir, AUDIT);
  for (const dir of [pgDir, auditDir])
    if (existsSync(dir) && (await readdir(dir)).length > 0)
      throw new BackupError(`${dir} is not empty: restore into a fresh --data-dir`);
  const contents = await readBackup(backupFile);
  await mkdir(pgDir, { recursive: true, mode: 0o700 });
  await chmod(pgDir, 0o700);
  const hold = holdDataDir(dataDir, backupError);
  try {
    const db = await PGlite.create(pgDir, {
      extensions: { btree_gist },
      loadDataDir: new Blob([new Uint8Array(contents.database)], { type: 'application/x-tar' }),
    });
    await db.close();
    if (contents.audit.length > 0) {
      await mkdir(auditDir, { recursive: true, mode: 0o700 });
      for (const f of contents.audit)
        await writeFile(join(dataDir, f.name), f.data, { mode: f.mode & 0o700, flag: 'wx' });
    }
    return { auditFiles: contents.audit.map((f) => f.name) };
  } finally {
    hold.release();
  }
}

/** The database dump and audit files of a backup file, each checked against the manifest. */
async function readBackup(backupFile: string): Promise<{ database: Uint8Array; audit: ArchiveEntry[] }> {
  let tar: Buffer;
  try {
    tar = gunzipSync(await readFile(backupFile));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code?.startsWith('Z_')
      ? 'it is not a gzip file'
      : (e as Error).message;
    throw new BackupError(`cannot read ${backupFile} as an openiomt backup: ${why}`);
  }
  // An earlier backup is PGlite's dump of the database folder alone.
  if (tar.subarray(0, MANIFEST.length + 1).toString('latin1') !== `${MANIFEST}\u0000`)
    return { database: tar, audit: [] };
  let entries: ArchiveEntry[];
  try {
    entries = unpackArchive(tar);
  } catch (e) {
    if (e instanceof ArchiveError) throw new BackupError(`${backupFile} is damaged: ${e.message}`);
    throw e;
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  let manifest: Manifest;
  try {
    manifest = JSON.parse(Buffer.from(byName.get(MANIFEST)?.data ?? []).toString('utf8')) as Manifest;
  } catch {
    throw new BackupError(`${backupFile} is damaged: its ${MANIFEST} is not JSON`);
  }
  if (manifest.format !== 'openiomt-backup' || manifest.version !== 1 || !Array.isArray(manifest.files))
    throw new BackupError(`${backupFile} is a backup format this version cannot read (${MANIFEST})`);
  for (const f of manifest.files) {
    const e = byName.get(f.name);
    if (!e) throw new BackupError(`${backupFile} is damaged: ${f.name} is missing`);
    if (sha256(e.data) !== f.sha256)
      throw new BackupError(`${backupFile} is damaged: ${f.name} does not match its digest`);
  }
  const listed = new Set(manifest.files.map((f) => f.name));
  const database = byName.get(DATABASE);
  if (!database || !listed.has(DATABASE)) throw new BackupError(`${backupFile} holds no database`);
  return {
    database: database.data,
    audit: entries.filter(
      (e) => listed.has(e.name) && e.name.startsWith(`${AUDIT}/`) && e.name.split('/').length === 2,
    ),
  };
}
