import { readFile, stat, writeFile } from 'node:fs/promises';
import { auditLeaf, leafHash, MerkleTree, toHex, verifyTreeHead } from '@openiomt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgliteTempDir, storeBackends } from '../store/testing.ts';
import type { Store } from '../store/types.ts';
import { readTreeHeadFile } from './audit-files.ts';
import { type AuditInput, recordAudit } from './audit-log.ts';
import { openAuditLog, type TestAuditLog } from './testing.ts';

const event = (i: number): AuditInput => ({
  action: i % 3 === 0 ? 'search' : 'read',
  actor: `user-${i % 5}`,
  actorRole: 'clinician',
  resourceType: 'Observation',
  resourceId: `obs-${i}`,
  patientId: `p-${i % 7}`,
  source: '127.0.0.1',
  detail: { i },
});

/** Leaves as the database holds them, each checked against its record. */
async function leavesOf(store: Store) {
  const { rows } = await store.db.query<{ leaf_index: number; leaf_hash: Uint8Array; event_id: string }>(
    'SELECT leaf_index, leaf_hash, event_id FROM audit_leaves ORDER BY leaf_index',
  );
  return rows;
}

describe.each(storeBackends())('the audit sequencer on $name', ({ open }) => {
  let store: Awaited<ReturnType<typeof open>>;
  let log: TestAuditLog;
  beforeAll(async () => {
    store = await open();
    log = await openAuditLog(store, { batchSize: 7 });
  });
  afterAll(async () => {
    await log?.remove();
    await store?.dispose();
  });

  it('gives committed records consecutive leaves, signs each new tree head and exports it', async () => {
    for (let i = 0; i < 10; i++) await store.audit.record(event(i));
    // A rolled-back access leaves no record and no gap.
    await store.db
      .transaction(async (tx) => {
        await recordAudit(tx, event(99));
        throw new Error('rolled back');
      })
      .catch(() => {});
    expect(await log.sequencer.flush()).toBe(10);
    expect(await store.audit.unsequenced()).toBe(0);
    const leaves = await leavesOf(store);
    expect(leaves.map((l) => l.leaf_index)).toEqual([...Array(10).keys()]);
    // Each leaf is the record's canonical encoding at its index, and the tree is the RFC 9162 tree of them.
    const hashes = [];
    for (const l of leaves) {
      const r = await store.audit.get(l.event_id);
      expect(r?.leafIndex).toBe(l.leaf_index);
      const { leafIndex: _, ...record } = r!;
      hashes.push(leafHash(auditLeaf(record, l.leaf_index)));
      expect(toHex(l.leaf_hash)).toBe(toHex(hashes[hashes.length - 1]!));
    }
    // batchSize 7: two transactions, two tree heads (7 and 10), both in the file, both signed.
    const lines = (await readTreeHeadFile(log.files.treeHeadsFile))!;
    expect(lines.map((l) => l.head?.treeSize)).toEqual([7, 10]);
    for (const l of lines) expect(verifyTreeHead(l.head!, log.key.publicKey)).toBe(true);
    expect(lines[1]?.head?.rootHash).toBe(toHex(new MerkleTree(hashes).root()));
    expect(await store.audit.latestTreeHead()).toEqual(lines[1]?.head);
    expect(await log.sequencer.flush()).toBe(0);
    expect((await log.verify()).problems).toEqual([]);
  });

  it('keeps the log consistent under many concurrent writers while it sequences', async () => {
    const running = await openAuditLog(store, { dir: log.dir, intervalMs: 20 });
    running.sequencer.start();
    const before = (await leavesOf(store)).length;
    const writers = 12;
    const perWriter = 25;
    await Promise.all(
      Array.from({ length: writers }, (_, w) =>
        (async () => {
          for (let k = 0; k < perWriter; k++)
            await store.db.transaction(async (tx) => {
              await recordAudit(tx, event(w * 1000 + k));
              // some accesses record two events in one transaction
              if (k % 5 === 0) await recordAudit(tx, { ...event(w * 1000 + k), action: 'export' });
            });
        })(),
      ),
    );
    await running.sequencer.close();
    const expected = before + writers * (perWriter + perWriter / 5);
    const leaves = await leavesOf(store);
    expect(leaves.map((l) => l.leaf_index)).toEqual([...Array(expected).keys()]);
    expect(new Set(leaves.map((l) => l.event_id)).size).toBe(expected);
    const report = await log.verify();
    expect(report.problems).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.latest?.treeSize).toBe(expected);
  });

  it('lets two sequencers race without a fork or a duplicate leaf', async () => {
    const other = await openAuditLog(store, { dir: log.dir });
    for (let i = 0; i < 30; i++) await store.audit.record(event(i));
    const done = await Promise.all([log.sequencer.flush(), other.sequencer.flush(), log.sequencer.flush()]);
    expect(done.reduce((a, b) => a + b, 0)).toBe(30);
    await other.sequencer.close();
    expect((await log.verify()).problems).toEqual([]);
  });

  it('puts a record in a signed, exported tree head within the merge delay (1 s interval)', async () => {
    const timed = await openAuditLog(store, { dir: log.dir });
    timed.sequencer.start();
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    const r = await store.audit.record(event(1));
    let delayMs = Number.POSITIVE_INFINITY;
    while (performance.now() - t0 < 5000) {
      if ((await store.audit.get(r.id))?.leafIndex !== undefined) {
        const size = (await store.audit.latestTreeHead())?.treeSize ?? 0;
        const exported = await readTreeHeadFile(log.files.treeHeadsFile);
        if (exported?.some((l) => (l.head?.treeSize ?? 0) >= size)) {
          delayMs = performance.now() - t0;
          break;
        }
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    await timed.sequencer.close();
    expect(delayMs).toBeLessThan(2000);
  });
});

describe('the audit sequencer across restarts (embedded database)', () => {
  it('continues the same tree, and exports a tree head the file missed before a crash', async () => {
    const folder = await openPgliteTempDir();
    let store = await folder.open();
    let log = await openAuditLog(store, { dir: `${folder.dataDir}/x` });
    for (let i = 0; i < 5; i++) await store.audit.record(event(i));
    await log.sequencer.flush();
    for (let i = 5; i < 9; i++) await store.audit.record(event(i));
    await log.sequencer.flush();
    // The process died after committing the second tree head, before appending it to the file.
    const file = log.files.treeHeadsFile;
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    await writeFile(file, `${lines[0]}\n`);
    await log.sequencer.close();
    await store.close();

    store = await folder.open();
    log = await openAuditLog(store, { dir: `${folder.dataDir}/x` });
    log.sequencer.start();
    expect(await log.sequencer.flush()).toBe(0);
    expect((await readTreeHeadFile(file))!.map((l) => l.head?.treeSize)).toEqual([5, 9]);
    for (let i = 9; i < 12; i++) await store.audit.record(event(i));
    await log.sequencer.flush();
    const heads = (await readTreeHeadFile(file))!.map((l) => l.head?.treeSize);
    expect(heads).toEqual([5, 9, 12]);
    expect((await log.verify()).problems).toEqual([]);
    // The signing key stays private to the platform's user.
    expect((await stat(log.files.keyFile)).mode & 0o777).toBe(0o600);
    await log.remove();
    await store.close();
    await folder.remove();
  });
});
