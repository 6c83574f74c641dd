import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import {
  auditLeaf,
  type Hash,
  leafHash,
  MerkleTree,
  parseTreeHead,
  type SignedTreeHead,
  signTreeHead,
  toHex,
} from '@openiomt/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import type { AuditInput } from './audit-log.ts';
import { openAuditLog, type TestAuditLog, tamper } from './testing.ts';

const RECORDS = 24;
const event = (i: number): AuditInput => ({
  action: 'read',
  actor: `nurse-${i % 3}`,
  actorRole: 'nurse',
  resourceType: 'Observation',
  resourceId: `obs-${i}`,
  patientId: `p-${i % 4}`,
  source: '10.1.2.3',
});

describe.each(storeBackends())('audit verify on $name', ({ open }) => {
  let store: DisposableStore;
  let log: TestAuditLog;
  /** The event id at each leaf. */
  let ids: string[];

  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  beforeEach(async () => {
    // Each test tampers with a fresh log: the previous one is wiped, as only the owner could.
    await tamper(store, (tx) =>
      tx.query('TRUNCATE audit_events, audit_leaves, audit_tree_heads, audit_unsequenced'),
    );
    // Small batches: the log gets four signed tree heads (8, 16, 24 and the last) to check against.
    log = await openAuditLog(store, { batchSize: 8 });
    for (let i = 0; i < RECORDS; i++) {
      await store.audit.record(event(i));
      if (i % 8 === 7) await log.sequencer.flush();
    }
    await log.sequencer.flush();
    const { rows } = await store.db.query<{ event_id: string }>(
      'SELECT event_id FROM audit_leaves ORDER BY leaf_index',
    );
    ids = rows.map((r) => r.event_id);
  });
  afterEach(async () => {
    await log?.remove();
  });

  const problems = async () => (await log.verify()).problems;

  it('passes an untouched log, naming its size and last signed tree head', async () => {
    const report = await log.verify();
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual([]);
    expect([report.records, report.treeSize, report.latest?.treeSize, report.headsChecked]).toEqual([
      RECORDS,
      RECORDS,
      RECORDS,
      3,
    ]);
  });

  it('detects a mutated record, naming it, even when its leaf hash is rewritten to match', async () => {
    await tamper(store, (tx) =>
      tx.query(`UPDATE audit_events SET actor = 'someone-else' WHERE id = $1`, [ids[10]]),
    );
    expect(await problems()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^record ${ids[10]} at leaf 10 \\(read by someone-else .*\\) was altered`),
        ),
        expect.stringMatching(
          /^the first 16 records do not match the tree head signed at .* \(line 2\): a record among leaves 8\.\.15/,
        ),
      ]),
    );
    // A careful attacker also rewrites the logged leaf hash: the signed tree heads still give it away.
    const row = (await store.audit.get(ids[10]!))!;
    const { leafIndex: _, ...record } = row;
    await tamper(store, (tx) =>
      tx.query(`UPDATE audit_leaves SET leaf_hash = decode($1, 'hex') WHERE leaf_index = 10`, [
        toHex(leafHash(auditLeaf(record, 10))),
      ]),
    );
    const after = await problems();
    expect(after.some((p) => p.includes('was altered'))).toBe(false);
    expect(after[0]).toMatch(
      /^the first 16 records do not match the tree head .* leaves 8\.\.15 was changed/,
    );
  });

  it('detects a deleted record, and a deleted record with its leaf', async () => {
    await tamper(store, (tx) => tx.query('DELETE FROM audit_events WHERE id = $1', [ids[5]]));
    expect(await problems()).toEqual([`record ${ids[5]} at leaf 5 was deleted`]);
    await tamper(store, (tx) => tx.query('DELETE FROM audit_leaves WHERE leaf_index = 5'));
    const p = await problems();
    expect(p[0]).toBe('leaves 5..5 are missing: 1 record was deleted from the log');
    expect(p).toEqual(
      expect.arrayContaining([expect.stringMatching(/^leaves from 5 are missing: the tree head/)]),
    );
  });

  it('detects two records swapped in order', async () => {
    await tamper(store, async (tx) => {
      await tx.query('UPDATE audit_leaves SET leaf_index = 1000000 WHERE leaf_index = 3');
      await tx.query('UPDATE audit_leaves SET leaf_index = 3 WHERE leaf_index = 9');
      await tx.query('UPDATE audit_leaves SET leaf_index = 9 WHERE leaf_index = 1000000');
    });
    expect(await problems()).toEqual(
      expect.arrayContaining([
        `record ${ids[9]} is at leaf 3 but was logged at leaf 9: the log was reordered`,
        `record ${ids[3]} is at leaf 9 but was logged at leaf 3: the log was reordered`,
      ]),
    );
  });

  it('detects a truncated tail, even with the database tree heads removed too', async () => {
    await tamper(store, async (tx) => {
      const gone = ids.slice(RECORDS - 5);
      await tx.query('DELETE FROM audit_leaves WHERE leaf_index >= $1', [RECORDS - 5]);
      await tx.query('DELETE FROM audit_events WHERE id = ANY($1::uuid[])', [gone]);
      await tx.query('DELETE FROM audit_tree_heads WHERE tree_size > $1', [RECORDS - 5]);
    });
    expect(await problems()).toEqual([
      expect.stringMatching(
        new RegExp(
          `^the log was truncated: the tree head signed at .* \\(line 3\\) covers ${RECORDS} records, the database holds ${RECORDS - 5} \\(5 missing from leaf ${RECORDS - 5}\\)$`,
        ),
      ),
    ]);
  });

  it('detects an altered line of the exported tree-heads file', async () => {
    const lines = (await readFile(log.files.treeHeadsFile, 'utf8')).trimEnd().split('\n');
    const head = JSON.parse(lines[1]!) as SignedTreeHead;
    lines[1] = JSON.stringify({ ...head, rootHash: 'f'.repeat(64) });
    lines[2] = lines[2]!.replace('"treeSize":24', '"treeSize":25');
    await writeFile(log.files.treeHeadsFile, `${lines.join('\n')}\n`);
    expect(await problems()).toEqual(
      expect.arrayContaining([
        'tree-heads.jsonl line 2 (tree size 16): the signature does not verify: the tree head was altered or forged',
        'tree-heads.jsonl line 3 (tree size 25): the signature does not verify: the tree head was altered or forged',
      ]),
    );
    await writeFile(log.files.treeHeadsFile, `${lines[0]}\n{"treeSize": 8\n`);
    expect(await problems()).toContain(
      'tree-heads.jsonl line 2 is not a tree head (not JSON): the file was altered',
    );
  });

  it('detects a forged tree head signature, for a log rewritten to match it', async () => {
    // The attacker changes a record and its leaf, recomputes every root and signs heads with a key of theirs.
    await tamper(store, (tx) =>
      tx.query(`UPDATE audit_events SET patient_id = 'p-x' WHERE id = $1`, [ids[2]]),
    );
    const hashes: Hash[] = [];
    for (const [i, id] of ids.entries()) {
      const { leafIndex: _, ...record } = (await store.audit.get(id))!;
      hashes.push(leafHash(auditLeaf(record, i)));
    }
    await tamper(store, (tx) =>
      tx.query(`UPDATE audit_leaves SET leaf_hash = decode($1, 'hex') WHERE leaf_index = 2`, [
        toHex(hashes[2]!),
      ]),
    );
    const tree = new MerkleTree(hashes);
    const theirs = generateKeyPairSync('ed25519');
    const text = (await readFile(log.files.treeHeadsFile, 'utf8')).trimEnd().split('\n');
    const forged = text.map((line) => {
      const h = parseTreeHead(JSON.parse(line)) as SignedTreeHead;
      const root = toHex(tree.root(h.treeSize));
      return signTreeHead({ ...h, rootHash: root }, theirs.privateKey, theirs.publicKey);
    });
    await writeFile(log.files.treeHeadsFile, forged.map((h) => `${JSON.stringify(h)}\n`).join(''));
    const p = await problems();
    expect(p[0]).toMatch(
      new RegExp(
        `^tree-heads.jsonl line 1 \\(tree size 8\\) is signed by key ${forged[0]!.keyId}, not the audit key ${log.key.keyId}: forged$`,
      ),
    );
    // Claiming the real key id does not help: the signature is checked with the real key.
    await writeFile(
      log.files.treeHeadsFile,
      forged.map((h) => `${JSON.stringify({ ...h, keyId: log.key.keyId })}\n`).join(''),
    );
    expect(await problems()).toEqual(
      expect.arrayContaining([
        'tree-heads.jsonl line 1 (tree size 8): the signature does not verify: the tree head was altered or forged',
      ]),
    );
  });
});
