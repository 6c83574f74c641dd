/**
 * `audit verify`: proves the audit log in the database consistent with the tree heads exported outside
 * it, and says exactly what is wrong when it is not. From the database it reads every leaf with its
 * record; it recomputes each leaf from the record as stored (so a changed record shows at that record),
 * rebuilds the RFC 9162 tree, checks every exported tree head's signature, that the tree of its size has
 * its root, and a consistency proof from it to the latest head. Read only: one REPEATABLE READ, READ ONLY
 * transaction, so a running PostgreSQL platform is seen at one instant.
 */
import type { KeyObject } from 'node:crypto';
import {
  auditKeyId,
  auditLeaf,
  equalHashes,
  type Hash,
  leafHash,
  MerkleTree,
  type SignedTreeHead,
  toHex,
  verifyConsistency,
  verifyTreeHead,
} from '@openiomt/core';
import type { Database, Queryable } from '../store/types.ts';
import type { TreeHeadLine } from './audit-files.ts';
import { AUDIT_COLUMNS, type AuditRow, auditRecordOf, TREE_HEAD_COLUMNS, treeHeadOf } from './audit-log.ts';
import { type KeyHistoryEntry, type TrustedAuditKey, trustedKeys } from './key-history.ts';

export interface VerifyOptions {
  readonly db: Database;
  /** The exported tree heads, as read from the file (undefined: there is no file). */
  readonly heads: readonly TreeHeadLine[] | undefined;
  /** The current audit public key. */
  readonly publicKey: KeyObject;
  /** The key history (key-history.ts): after a rotation, heads signed by earlier keys of its chain verify. */
  readonly history?: readonly KeyHistoryEntry[];
  /** Where the heads came from, for messages. */
  readonly headsSource?: string;
  readonly onProgress?: (done: number, total: number) => void;
  readonly batchSize?: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** Each says what is wrong and where; empty when the log is consistent. */
  readonly problems: string[];
  /** Facts worth knowing that are not tampering (records waiting to be sequenced, export behind). */
  readonly warnings: string[];
  readonly records: number;
  /** Leaves in the database. */
  readonly treeSize: number;
  /** The latest exported tree head with a valid signature. */
  readonly latest?: SignedTreeHead;
  readonly headsChecked: number;
  readonly keyId: string;
  /** Every key trusted (the chain of the key history), oldest first. */
  readonly keyIds: string[];
}

const MAX_LISTED = 20;

export async function verifyAuditLog(opts: VerifyOptions): Promise<VerifyReport> {
  return opts.db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    return verifyIn(tx, opts);
  });
}

async function verifyIn(tx: Queryable, opts: VerifyOptions): Promise<VerifyReport> {
  const problems = new Problems();
  const warnings: string[] = [];
  const keyId = auditKeyId(opts.publicKey);
  const source = opts.headsSource ?? 'the tree-heads file';

  const chainProblems: string[] = [];
  const ring = trustedKeys(opts.publicKey, opts.history ?? [], chainProblems);
  for (const p of chainProblems) problems.add(p);
  const heads = checkHeadLines(opts.heads, ring, source, problems);
  const leaves = await readLeaves(tx, opts, problems);
  const n = leaves.contiguous;
  const tree = new MerkleTree(leaves.hashes.slice(0, n));
  const latest = heads[heads.length - 1];

  if (opts.heads === undefined) problems.add(`there is no tree-heads file at ${source}`);
  else if (!latest && leaves.total > 0)
    problems.add(
      `${source} holds no valid signed tree head: the log of ${leaves.total} records cannot be checked`,
    );
  if (latest && latest.head.treeSize > n) {
    const missing = latest.head.treeSize - n;
    const gap = n < leaves.total;
    problems.add(
      !gap
        ? `the log was truncated: the tree head signed at ${latest.head.timestamp} (line ${latest.line}) covers ${latest.head.treeSize} records, the database holds ${leaves.total} (${missing} missing from leaf ${n})`
        : `leaves from ${n} are missing: the tree head signed at ${latest.head.timestamp} (line ${latest.line}) covers ${latest.head.treeSize} records`,
    );
  }
  checkRoots(heads, tree, problems);
  checkConsistency(heads, tree, problems);
  await checkStoredHeads(tx, heads, tree, ring, warnings, problems);
  await checkUnlogged(tx, warnings, problems);
  if (latest && n > latest.head.treeSize)
    warnings.push(
      `${n - latest.head.treeSize} records (leaves ${latest.head.treeSize}..${n - 1}) are sequenced but not yet in an exported tree head`,
    );
  const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int8 AS n FROM audit_events');
  return {
    ok: problems.list.length === 0,
    problems: problems.summary(),
    warnings,
    records: rows[0]?.n ?? 0,
    treeSize: leaves.total,
    ...(latest ? { latest: latest.head } : {}),
    headsChecked: heads.length,
    keyId,
    keyIds: ring.map((k) => k.keyId),
  };
}

/** Problems in order found, listed up to a bound (one broken record can make many heads fail). */
class Problems {
  readonly list: string[] = [];
  add(p: string): void {
    this.list.push(p);
  }
  summary(): string[] {
    if (this.list.length <= MAX_LISTED) return [...this.list];
    return [...this.list.slice(0, MAX_LISTED), `... and ${this.list.length - MAX_LISTED} more problems`];
  }
}

interface ValidHead {
  readonly line: number;
  readonly head: SignedTreeHead;
}

/** The trusted key that signed a head, if any. */
const keyOf = (ring: readonly TrustedAuditKey[], keyId: string) => ring.find((k) => k.keyId === keyId);

/** Signatures, key, order: the heads that may be trusted, in file order. */
function checkHeadLines(
  lines: readonly TreeHeadLine[] | undefined,
  ring: readonly TrustedAuditKey[],
  source: string,
  problems: Problems,
): ValidHead[] {
  const valid: ValidHead[] = [];
  const seen = new Set<string>();
  const names = ring.map((k) => k.keyId).join(', ');
  for (const { line, head, error } of lines ?? []) {
    const key = head ? keyOf(ring, head.keyId) : undefined;
    // The same signed head exported twice (two sequencers sharing a file) says nothing new.
    if (head && key && seen.has(head.signature) && verifyTreeHead(head, key.publicKey)) continue;
    if (!head) {
      problems.add(`${source} line ${line} is not a tree head (${error}): the file was altered`);
      continue;
    }
    if (!key) {
      problems.add(
        `${source} line ${line} (tree size ${head.treeSize}) is signed by key ${head.keyId}, not ${ring.length > 1 ? `one of the audit keys ${names}` : `the audit key ${names}`}: forged`,
      );
      continue;
    }
    if (head.treeSize < key.fromTreeSize || head.treeSize > (key.untilTreeSize ?? Number.MAX_SAFE_INTEGER)) {
      problems.add(
        `${source} line ${line} (tree size ${head.treeSize}) is signed by audit key ${head.keyId} outside the tree sizes it signed (${key.fromTreeSize} to ${key.untilTreeSize ?? 'now'}): forged with a retired key`,
      );
      continue;
    }
    if (!verifyTreeHead(head, key.publicKey)) {
      problems.add(
        `${source} line ${line} (tree size ${head.treeSize}): the signature does not verify: the tree head was altered or forged`,
      );
      continue;
    }
    const prev = valid[valid.length - 1];
    if (prev && (head.treeSize < prev.head.treeSize || head.timestamp < prev.head.timestamp)) {
      problems.add(
        `${source} line ${line} (tree size ${head.treeSize}, ${head.timestamp}) comes after line ${prev.line} (tree size ${prev.head.treeSize}, ${prev.head.timestamp}): the file was reordered`,
      );
      continue;
    }
    if (prev && head.treeSize === prev.head.treeSize && head.rootHash !== prev.head.rootHash) {
      problems.add(
        `${source} lines ${prev.line} and ${line} sign two different trees of size ${head.treeSize}: the log forked`,
      );
      continue;
    }
    valid.push({ line, head });
    seen.add(head.signature);
  }
  return valid;
}

interface Leaves {
  /** The hash of each leaf, from its record as stored (or, for a deleted record, as logged). */
  readonly hashes: Hash[];
  /** Leaves 0..contiguous-1 are all present. */
  readonly contiguous: number;
  readonly total: number;
}

interface Mismatch {
  readonly index: number;
  readonly eventId: string;
  readonly stored: Hash;
  readonly row: AuditRow;
}

/** Reads every leaf with its record in index order, checking each record against its logged hash. */
async function readLeaves(tx: Queryable, opts: VerifyOptions, problems: Problems): Promise<Leaves> {
  const { rows: count } = await tx.query<{ n: number }>('SELECT count(*)::int8 AS n FROM audit_leaves');
  const total = count[0]?.n ?? 0;
  const batch = opts.batchSize ?? 10_000;
  const hashes: Hash[] = [];
  const mismatches: Mismatch[] = [];
  let contiguous: number | undefined;
  let next = 0;
  for (;;) {
    const { rows } = await tx.query<
      AuditRow & { leaf_index: number; event_id: string; leaf_hash: Uint8Array; found: string | null }
    >(
      `SELECT l.leaf_index, l.event_id, l.leaf_hash, e.id AS found, ${AUDIT_COLUMNS}
       FROM audit_leaves l LEFT JOIN audit_events e ON e.id = l.event_id
       WHERE l.leaf_index >= $1 ORDER BY l.leaf_index LIMIT $2`,
      [next, batch],
    );
    for (const row of rows) {
      if (row.leaf_index !== hashes.length && contiguous === undefined) {
        contiguous = hashes.length;
        const k = row.leaf_index - hashes.length;
        problems.add(
          `leaves ${hashes.length}..${row.leaf_index - 1} are missing: ${k} ${k === 1 ? 'record was' : 'records were'} deleted from the log`,
        );
      }
      const stored = Buffer.from(row.leaf_hash);
      if (row.found === null) {
        problems.add(`record ${row.event_id} at leaf ${row.leaf_index} was deleted`);
        hashes[row.leaf_index] = stored;
        continue;
      }
      const computed = leafHash(auditLeaf(auditRecordOf(row), row.leaf_index));
      if (!equalHashes(computed, stored))
        mismatches.push({ index: row.leaf_index, eventId: row.event_id, stored, row });
      hashes[row.leaf_index] = computed;
    }
    next = (rows[rows.length - 1]?.leaf_index ?? next) + 1;
    opts.onProgress?.(Math.min(hashes.length, total), total);
    if (rows.length < batch) break;
  }
  explainMismatches(mismatches, problems);
  return { hashes, contiguous: contiguous ?? hashes.length, total };
}

/**
 * A record whose leaf differs from what was logged was either changed or moved. The leaf binds the index,
 * so a record moved from leaf j to leaf i hashes, at j, to the hash logged at i (rows moved whole) or at
 * j (only the record moved).
 */
function explainMismatches(mismatches: readonly Mismatch[], problems: Problems): void {
  const candidates = mismatches.slice(0, 1000);
  const storedAt = new Map(candidates.map((m) => [m.index, m.stored]));
  for (const m of mismatches) {
    const record = auditRecordOf(m.row);
    const origin = candidates.find(
      (o) =>
        o.index !== m.index &&
        [m.stored, storedAt.get(o.index) as Hash].some((h) =>
          equalHashes(leafHash(auditLeaf(record, o.index)), h),
        ),
    );
    problems.add(
      origin
        ? `record ${m.eventId} is at leaf ${m.index} but was logged at leaf ${origin.index}: the log was reordered`
        : `record ${m.eventId} at leaf ${m.index} (${record.action} by ${record.actor} at ${record.at}) was altered after it was logged: it no longer matches its leaf hash`,
    );
  }
}

/** Each head's root against the tree of its size; after the first that fails, later ones fail with it. */
function checkRoots(heads: readonly ValidHead[], tree: MerkleTree, problems: Problems): void {
  let matched = 0;
  for (const { line, head } of heads) {
    if (head.treeSize > tree.size) break;
    if (toHex(tree.root(head.treeSize)) === head.rootHash) {
      matched = head.treeSize;
      continue;
    }
    const later = heads.filter((h) => h.head.treeSize > head.treeSize).length;
    problems.add(
      `the first ${head.treeSize} records do not match the tree head signed at ${head.timestamp} (line ${line}): a record among leaves ${matched}..${head.treeSize - 1} was changed, deleted or reordered${later > 0 ? ` (and ${later} later tree heads fail with it)` : ''}`,
    );
    return;
  }
}

/** RFC 9162 consistency proofs from every earlier head to the latest head the database can prove. */
function checkConsistency(heads: readonly ValidHead[], tree: MerkleTree, problems: Problems): void {
  const provable = heads.filter((h) => h.head.treeSize <= tree.size);
  const anchor = provable[provable.length - 1];
  if (!anchor) return;
  const anchorRoot = Buffer.from(anchor.head.rootHash, 'hex');
  const inconsistent = provable.filter(({ head }) => {
    const proof = tree.consistencyProof(head.treeSize, anchor.head.treeSize);
    return !verifyConsistency(
      head.treeSize,
      anchor.head.treeSize,
      Buffer.from(head.rootHash, 'hex'),
      anchorRoot,
      proof,
    );
  });
  const first = inconsistent[0];
  if (first)
    problems.add(
      `${inconsistent.length} tree heads (first: line ${first.line}, tree size ${first.head.treeSize}) are not consistent with the tree head of size ${anchor.head.treeSize} (line ${anchor.line}) as the database rebuilds it`,
    );
}

/** The heads kept in the database: the same trees as the file, and any the file does not hold yet. */
async function checkStoredHeads(
  tx: Queryable,
  exported: readonly ValidHead[],
  tree: MerkleTree,
  ring: readonly TrustedAuditKey[],
  warnings: string[],
  problems: Problems,
): Promise<void> {
  const { rows } = await tx.query<Parameters<typeof treeHeadOf>[0]>(
    `SELECT ${TREE_HEAD_COLUMNS} FROM audit_tree_heads ORDER BY tree_size`,
  );
  const inFile = new Map(exported.map((h) => [h.head.treeSize, h.head]));
  const lastExported = exported[exported.length - 1]?.head.treeSize ?? 0;
  let beyond = 0;
  for (const row of rows) {
    const head = treeHeadOf(row);
    const key = head ? keyOf(ring, head.keyId) : undefined;
    if (!head || (key && !verifyTreeHead(head, key.publicKey))) {
      problems.add(`the database's tree head of size ${row.tree_size} has a signature that does not verify`);
      continue;
    }
    const fileHead = inFile.get(head.treeSize);
    if (fileHead && fileHead.rootHash !== head.rootHash)
      problems.add(`the database's tree head of size ${head.treeSize} differs from the exported one`);
    if (head.treeSize > lastExported && key) {
      beyond++;
      if (head.treeSize <= tree.size && toHex(tree.root(head.treeSize)) !== head.rootHash)
        problems.add(
          `the first ${head.treeSize} records do not match the database's tree head of that size (signed at ${head.timestamp})`,
        );
    }
  }
  if (beyond > 0)
    warnings.push(
      `the database holds ${beyond} signed tree heads newer than the exported file's last (size ${lastExported}): the export is behind (the platform appends them when it next runs) or lines were removed from the file`,
    );
}

/** Records without a leaf: waiting to be sequenced, or slipped in behind the log. */
async function checkUnlogged(tx: Queryable, warnings: string[], problems: Problems): Promise<void> {
  const { rows } = await tx.query<{ id: string; pending: boolean }>(
    `SELECT e.id, (u.event_id IS NOT NULL) AS pending FROM audit_events e
     LEFT JOIN audit_leaves l ON l.event_id = e.id
     LEFT JOIN audit_unsequenced u ON u.event_id = e.id
     WHERE l.event_id IS NULL ORDER BY e.at, e.id`,
  );
  const pending = rows.filter((r) => r.pending).length;
  if (pending > 0)
    warnings.push(
      `${pending === 1 ? '1 record waits' : `${pending} records wait`} to be sequenced (the running platform does so within a second)`,
    );
  for (const r of rows.filter((x) => !x.pending))
    problems.add(
      `record ${r.id} is in audit_events but not in the log, nor waiting for it: it was added behind the log`,
    );
}

/** The report as `openiomt audit verify` prints it (and the HTTP route returns as `summary`). */
export function verdict(r: VerifyReport, seconds: number): string {
  const lines: string[] = [];
  if (r.ok) {
    lines.push(
      r.latest
        ? `OK: the audit log is consistent with its last signed tree head: ${r.records} records, tree size ${r.latest.treeSize} signed at ${r.latest.timestamp}`
        : `OK: the audit log is empty (${r.records} records) and there is no tree head to check`,
    );
  } else {
    lines.push(`FAILED: the audit log does not match its signed tree heads (${r.problems.length} problems):`);
    for (const p of r.problems) lines.push(`  - ${p}`);
  }
  lines.push(
    `  checked ${r.treeSize} leaves against ${r.headsChecked} exported tree heads (${r.keyIds.length > 1 ? `keys ${r.keyIds.join(' then ')}` : `key ${r.keyId}`}) in ${seconds.toFixed(1)} s`,
  );
  for (const w of r.warnings) lines.push(`  note: ${w}`);
  return `${lines.join('\n')}\n`;
}
