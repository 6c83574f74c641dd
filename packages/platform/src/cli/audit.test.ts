import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditLog, tamper } from '../audit/testing.ts';
import { openStore } from '../store/store.ts';
import { createTestDatabase, POSTGRES_URL_ENV } from '../store/testing.ts';
import type { Store } from '../store/types.ts';

const BIN = fileURLToPath(new URL('../../bin/openiomt.js', import.meta.url));
const run = promisify(execFile);
const openiomt = (args: string[]) =>
  run(process.execPath, [BIN, ...args], {
    env: { ...process.env, OPENIOMT_DATA_DIR: '', DATABASE_URL: '' },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );
const cli = (args: string[]) => openiomt(['audit', ...args]);

/** A log of `n` records, sequenced and exported into `dir` as the platform would. */
async function writeLog(store: Store, dir: string, n: number): Promise<string[]> {
  const log = await openAuditLog(store, { dir, batchSize: 10 });
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push((await store.audit.record({ action: 'read', actor: 'admin', patientId: `p-${i % 3}` })).id);
  await log.sequencer.close();
  return ids;
}

describe('openiomt audit verify on a stopped embedded platform', () => {
  let dir: string;
  let ids: string[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openiomt-audit-cli-'));
    const store = await openStore({ dataDir: join(dir, 'pg') });
    ids = await writeLog(store, dir, 30);
    await store.close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has help for the audit commands and their options', async () => {
    const help = await cli(['--help']);
    expect(help.stdout).toMatch(/verify/);
    expect(help.stdout).toMatch(/tail/);
    const verify = await cli(['verify', '--help']);
    for (const flag of ['--data-dir', '--database-url', '--tree-heads', '--public-key', '--key-id'])
      expect(verify.stdout).toContain(flag);
    expect(verify.stdout).toMatch(/stop the platform first/);
  });

  it('says the log is consistent (exit 0), and fails on a key that is not the pinned one (exit 1)', async () => {
    const ok = await cli(['verify', '--data-dir', dir]);
    expect(ok.stdout).toMatch(
      /^OK: the audit log is consistent with its last signed tree head: 30 records, tree size 30 signed at \d{4}-/,
    );
    expect(ok.stdout).toMatch(/checked 30 leaves against 3 exported tree heads/);
    expect(ok.code).toBe(0);
    const pinned = await cli(['verify', '--data-dir', dir, '--key-id', 'some-other-key']);
    expect(pinned.code).toBe(1);
    expect(pinned.stdout).toMatch(/has key id \S+, not some-other-key: it was replaced/);
  });

  it('verifies on a folder restored from a backup, which carries the audit files; a damaged one is refused', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'openiomt-audit-backup-'));
    try {
      const file = join(elsewhere, 'backup.tar.gz');
      const backup = await openiomt(['backup', '--out', file, '--data-dir', dir]);
      expect(backup.stdout).toMatch(/Backed up the embedded database and the audit log's \d+ files/);
      const restored = join(elsewhere, 'restored');
      const restore = await openiomt(['restore', '--from', file, '--data-dir', restored]);
      expect(restore.stderr).toBe('');
      expect(restore.stdout).toMatch(/the database and the audit log's \d+ files/);
      expect((await stat(join(restored, 'audit', 'tree-head-key.pem'))).mode & 0o777).toBe(0o600);
      const ok = await cli(['verify', '--data-dir', restored]);
      expect(ok.stdout).toMatch(
        /^OK: the audit log is consistent with its last signed tree head: 30 records/,
      );
      expect(ok.code).toBe(0);
      // One byte of the tree heads changed inside the archive: the digest in the manifest catches it.
      const tar = gunzipSync(await readFile(file));
      const heads = await readFile(join(dir, 'audit', 'tree-heads.jsonl'));
      const at = tar.indexOf(heads.subarray(0, 40)) + 20;
      tar[at] = (tar[at] as number) ^ 1;
      await writeFile(join(elsewhere, 'damaged.tar.gz'), gzipSync(tar));
      const refused = await openiomt([
        'restore',
        '--from',
        join(elsewhere, 'damaged.tar.gz'),
        '--data-dir',
        join(elsewhere, 'again'),
      ]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/is damaged: audit\/tree-heads.jsonl does not match its digest/);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('refuses to open the embedded database while a platform has it open (exit 2)', async () => {
    const store = await openStore({ dataDir: join(dir, 'pg') });
    try {
      const locked = await cli(['verify', '--data-dir', dir]);
      expect(locked.code).toBe(2);
      expect(locked.stderr).toMatch(/is locked by a running platform .*stop the platform first/);
    } finally {
      await store.close();
    }
    const missing = await cli(['verify', '--data-dir', join(dir, 'nowhere')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the audit public key/);
  });

  it('names the altered record (exit 1)', async () => {
    const store = await openStore({ dataDir: join(dir, 'pg') });
    // Records logged in the same millisecond take leaves in id order, so look the leaf up.
    const { rows } = await store.db.query<{ leaf_index: string | number }>(
      'SELECT leaf_index FROM audit_leaves WHERE event_id = $1',
      [ids[4]],
    );
    const leaf = Number(rows[0]?.leaf_index);
    await tamper(store, (tx) =>
      tx.query(`UPDATE audit_events SET outcome = 'denied' WHERE id = $1`, [ids[4]]),
    );
    await store.close();
    const r = await cli(['verify', '--data-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAILED: the audit log does not match its signed tree heads/);
    expect(r.stdout).toContain(`record ${ids[4]} at leaf ${leaf}`);
  });
});

const postgresUrl = process.env[POSTGRES_URL_ENV];
describe.each(postgresUrl ? [postgresUrl] : [])('openiomt audit verify on PostgreSQL (%s)', (adminUrl) => {
  it('verifies a running database over --database-url', async () => {
    const database = await createTestDatabase(adminUrl);
    const dir = await mkdtemp(join(tmpdir(), 'openiomt-audit-cli-'));
    const store = await openStore({ url: database.url });
    try {
      await writeLog(store, dir, 12);
      // The platform may keep running: the check reads one snapshot.
      await store.audit.record({ action: 'read', actor: 'admin' });
      const r = await cli(['verify', '--database-url', database.url, '--data-dir', dir]);
      expect(r.stdout).toMatch(/^OK: .* 13 records, tree size 12 signed at/);
      expect(r.stdout).toMatch(/note: 1 record waits to be sequenced/);
      expect(r.code).toBe(0);
    } finally {
      await store.close();
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
