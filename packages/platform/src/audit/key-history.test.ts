import { generateKeyPairSync } from 'node:crypto';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { signTreeHead } from '@openiomt/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpApp } from '../http/app.ts';
import { createLogger } from '../log.ts';
import { ensureAdminCredential } from '../security/admin-credential.ts';
import { type DisposableStore, openMemoryStore } from '../store/testing.ts';
import { loadOrCreateAuditKey, readTreeHeadFile } from './audit-files.ts';
import { readKeyHistory, rotateAuditKey } from './key-history.ts';
import { auditRoutes } from './routes.ts';
import { AuditSequencer } from './sequencer.ts';
import { openAuditLog, type TestAuditLog, tamper } from './testing.ts';

let store: DisposableStore;
let log: TestAuditLog;
let sequencer: AuditSequencer;
/** The administrator token: made once per store, so kept for the tests after the first. */
let adminToken: string | undefined;

const record = (i: number) =>
  store.audit.record({ action: 'read', actor: `user-${i}`, patientId: `p-${i % 3}` });

/** 10 records under the first key, a rotation, then 10 more under the new key (sequenced by a restart). */
beforeAll(async () => {
  store = await openMemoryStore();
});
afterAll(async () => {
  await store.dispose();
});
beforeEach(async () => {
  // Each test gets a fresh log: the previous one is wiped, as only the owner could.
  await tamper(store, (tx) =>
    tx.query('TRUNCATE audit_events, audit_leaves, audit_tree_heads, audit_unsequenced'),
  );
  log = await openAuditLog(store, { batchSize: 4 });
  for (let i = 0; i < 10; i++) await record(i);
  await log.sequencer.close();
  await rotateAuditKey(log.files, log.key);
  sequencer = new AuditSequencer({
    db: store.db,
    key: await loadOrCreateAuditKey(log.files),
    treeHeadsFile: log.files.treeHeadsFile,
    batchSize: 4,
  });
  for (let i = 10; i < 20; i++) await record(i);
  await sequencer.close();
});
afterEach(async () => {
  await log.remove();
});

describe('audit signing key rotation', () => {
  it('signs the next tree heads with the new key, and verify proves the whole history across the rotation', async () => {
    const history = await readKeyHistory(log.files.keyHistoryFile);
    expect(history).toHaveLength(2);
    expect(history[0]).toMatchObject({ keyId: log.key.keyId, fromTreeSize: 0 });
    expect(history[1]).toMatchObject({ previousKeyId: log.key.keyId, fromTreeSize: 10 });
    const heads = ((await readTreeHeadFile(log.files.treeHeadsFile)) ?? []).map((l) => l.head);
    expect(heads.filter((h) => h?.keyId === log.key.keyId).map((h) => h?.treeSize)).toEqual([4, 8, 10]);
    expect(heads.filter((h) => h?.keyId === history[1]?.keyId).map((h) => h?.treeSize)).toEqual([14, 18, 20]);
    const report = await log.verify();
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, treeSize: 20, headsChecked: 6, keyId: history[1]?.keyId });
    expect(report.keyIds).toEqual([log.key.keyId, history[1]?.keyId]);
  });

  it('is followed by the verify route too (the administrator console button)', async () => {
    adminToken ??= await ensureAdminCredential(store);
    const token = adminToken as string;
    const app = await createHttpApp({ logger: createLogger('silent') });
    auditRoutes(app, { store, files: log.files });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`${base}/api/v1/admin/audit/verify`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await res.json()) as { ok: boolean; problems: string[]; treeSize: number };
      expect(body.problems).toEqual([]);
      expect(body).toMatchObject({ ok: true, treeSize: 20 });
    } finally {
      await app.close();
    }
  });

  it('still detects tampering with a record logged before the rotation', async () => {
    await tamper(store, (tx) =>
      tx.query(`UPDATE audit_events SET actor = 'someone-else' WHERE actor = 'user-2'`),
    );
    const report = await log.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/was altered after it was logged/);
  });

  it('refuses a tree head signed by a key not in the history, or by the retired key after its retirement', async () => {
    const stranger = generateKeyPairSync('ed25519');
    const forged = signTreeHead(
      { treeSize: 20, rootHash: 'ab'.repeat(32), timestamp: new Date().toISOString() },
      stranger.privateKey,
      stranger.publicKey,
    );
    await appendFile(log.files.treeHeadsFile, `${JSON.stringify(forged)}\n`);
    let report = await log.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/signed by key \S+, not one of the audit keys .*: forged/);

    const lines = (await readFile(log.files.treeHeadsFile, 'utf8')).split('\n').slice(0, -2);
    const last = JSON.parse(lines[lines.length - 1] as string);
    const byRetired = signTreeHead(
      {
        treeSize: last.treeSize,
        rootHash: last.rootHash,
        timestamp: new Date(Date.now() + 1000).toISOString(),
      },
      log.key.privateKey,
      log.key.publicKey,
    );
    await writeFile(log.files.treeHeadsFile, `${[...lines, JSON.stringify(byRetired)].join('\n')}\n`);
    report = await log.verify();
    expect(report.problems.join('\n')).toMatch(
      /outside the tree sizes it signed \(0 to 10\): forged with a retired key/,
    );
  });

  it('refuses a history whose rotation the old key did not sign', async () => {
    const text = await readFile(log.files.keyHistoryFile, 'utf8');
    const [first, second] = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const tampered = { ...second, fromTreeSize: 0 };
    await writeFile(log.files.keyHistoryFile, `${JSON.stringify(first)}\n${JSON.stringify(tampered)}\n`);
    const report = await log.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/is not signed by the key before it, \S+: forged/);
  });
});
