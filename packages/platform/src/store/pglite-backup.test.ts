import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupError, backupDataDir, restoreDataDir } from './pglite-backup.ts';

describe('backup and restore of an embedded data folder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openiomt-backup-'));
    await mkdir(join(dir, 'data', 'pg'), { recursive: true });
    const db = await PGlite.create(join(dir, 'data', 'pg'), { extensions: { btree_gist } });
    await db.exec(`CREATE TABLE marks (v text); INSERT INTO marks VALUES ('kept')`);
    await db.close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const marks = async (pgDir: string) => {
    const db = await PGlite.create(pgDir, { extensions: { btree_gist } });
    try {
      return (await db.query<{ v: string }>('SELECT v FROM marks')).rows.map((r) => r.v);
    } finally {
      await db.close();
    }
  };

  it('restores a backup made before the audit folder was included (a bare gzipped PGlite dump)', async () => {
    const db = await PGlite.create(join(dir, 'data', 'pg'), { extensions: { btree_gist } });
    const dump = await db.dumpDataDir('gzip');
    await db.close();
    const old = join(dir, 'old.tar.gz');
    await writeFile(old, Buffer.from(await dump.arrayBuffer()));
    const into = join(dir, 'from-old');
    expect(await restoreDataDir(old, into)).toEqual({ auditFiles: [] });
    expect(await marks(join(into, 'pg'))).toEqual(['kept']);
  });

  it('says there is no audit folder yet, and refuses a folder that is not fresh or a file that is no backup', async () => {
    const file = join(dir, 'new.tar.gz');
    expect(await backupDataDir(join(dir, 'data'), file)).toMatchObject({ auditFiles: [] });
    const busy = join(dir, 'busy');
    await mkdir(join(busy, 'audit'), { recursive: true });
    await writeFile(join(busy, 'audit', 'tree-heads.jsonl'), '');
    await expect(restoreDataDir(file, busy)).rejects.toThrow(
      /audit is not empty: restore into a fresh --data-dir/,
    );
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'not a backup');
    const refused = await restoreDataDir(text, join(dir, 'other')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BackupError);
    expect((refused as Error).message).toMatch(
      /cannot read .*notes.txt as an openiomt backup: it is not a gzip file/,
    );
    expect(await marks(join(dir, 'data', 'pg'))).toEqual(['kept']);
  });
});
