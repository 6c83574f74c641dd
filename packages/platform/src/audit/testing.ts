/**
 * Test support: an audit log over a store, with its key and tree-heads file in a temporary folder, and a
 * way to tamper with the database as an attacker with the database owner's rights would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queryable, Store } from '../store/types.ts';
import {
  type AuditFiles,
  type AuditKey,
  auditFiles,
  loadOrCreateAuditKey,
  readAuditPublicKey,
  readTreeHeadFile,
} from './audit-files.ts';
import { readKeyHistory } from './key-history.ts';
import { AuditSequencer, type SequencerOptions } from './sequencer.ts';
import { type VerifyReport, verifyAuditLog } from './verify.ts';

export interface TestAuditLog {
  readonly dir: string;
  readonly files: AuditFiles;
  readonly key: AuditKey;
  readonly sequencer: AuditSequencer;
  verify(): Promise<VerifyReport>;
  /** Closes the sequencer and deletes the folder. */
  remove(): Promise<void>;
}

export async function openAuditLog(
  store: Store,
  options: Partial<Pick<SequencerOptions, 'intervalMs' | 'batchSize'>> & { dir?: string } = {},
): Promise<TestAuditLog> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'openiomt-audit-')));
  const files = auditFiles(dir);
  const key = await loadOrCreateAuditKey(files);
  const sequencer = new AuditSequencer({
    db: store.db,
    key,
    treeHeadsFile: files.treeHeadsFile,
    ...(options.intervalMs ? { intervalMs: options.intervalMs } : {}),
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
  });
  return {
    dir,
    files,
    key,
    sequencer,
    verify: async () =>
      verifyAuditLog({
        db: store.db,
        heads: await readTreeHeadFile(files.treeHeadsFile),
        // From the files, as `audit verify` reads them: after a rotation, the new key and its history.
        publicKey: await readAuditPublicKey(files.publicKeyFile),
        history: await readKeyHistory(files.keyHistoryFile),
        headsSource: 'tree-heads.jsonl',
      }),
    remove: async () => {
      await sequencer.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs statements with every trigger off, as the database owner or a superuser can. */
export async function tamper(store: Store, fn: (tx: Queryable) => Promise<unknown>): Promise<void> {
  await store.db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await fn(tx);
  });
}
