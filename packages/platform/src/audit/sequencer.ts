/**
 * The audit log's sequencer, as Certificate Transparency logs do it: transactions commit concurrently, so
 * a record is inserted without a position, and one sequencer later gives committed records consecutive
 * leaf indices (in the order it finds them committed), computes the new RFC 9162 tree head, signs it,
 * stores it, and appends it to the tree-heads file outside the database.
 *
 * It runs every second and on demand (flush). On PostgreSQL a transaction-scoped advisory lock lets only
 * one process sequence at a time; a process that does not get it skips that round. The tree is not kept
 * in memory: each tree head row holds the frontier (the roots of the tree's complete subtrees), enough to
 * append leaves and compute the next root. Maximum merge delay: one interval plus the time to sequence
 * the backlog (docs/audit.md).
 */
import {
  appendToFrontier,
  auditLeaf,
  frontierLength,
  frontierRoot,
  HASH_BYTES,
  type Hash,
  leafHash,
  type SignedTreeHead,
  signTreeHead,
  toHex,
  verifyTreeHead,
} from '@openiomt/core';
import type { Logger } from '../log.ts';
import type { Database, Queryable } from '../store/types.ts';
import { type AuditKey, appendTreeHeads, lastExportedTreeSize } from './audit-files.ts';
import { AUDIT_COLUMNS, type AuditRow, auditRecordOf, TREE_HEAD_COLUMNS, treeHeadOf } from './audit-log.ts';

/** Any fixed 64-bit number; every process sequencing one database agrees on it. */
const SEQUENCER_LOCK_KEY = 7_112_026_004;

export interface SequencerOptions {
  readonly db: Database;
  readonly key: AuditKey;
  /** The exported tree heads (JSON lines). */
  readonly treeHeadsFile: string;
  /** How often it sequences, ms (default 1000). */
  readonly intervalMs?: number;
  /** Most records per transaction (default 5000); a bigger backlog takes several in a row. */
  readonly batchSize?: number;
  readonly log?: Logger;
}

interface Tip {
  readonly size: number;
  readonly frontier: Hash[];
  readonly signedAt?: string;
}

export class AuditSequencer {
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private exported: number | undefined;
  private closed = false;

  constructor(private readonly opts: SequencerOptions) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.batchSize = opts.batchSize ?? 5000;
  }

  /** Exports any signed head the file misses (a crash between commit and export), then runs every interval. */
  start(): this {
    void this.flush().catch(() => {});
    const tick = () => {
      this.timer = setTimeout(() => {
        this.flush()
          .catch(() => {})
          .finally(() => {
            if (!this.closed) tick();
          });
      }, this.intervalMs);
      this.timer.unref();
    };
    tick();
    return this;
  }

  /** Sequences every record committed so far; resolves with how many it gave a leaf index. */
  flush(): Promise<number> {
    const run = this.chain.then(() => this.sequenceAll());
    this.chain = run.catch(() => {});
    return run;
  }

  /** Stops the timer after a last flush, so a clean stop leaves nothing waiting. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await this.flush().catch(() => {});
  }

  private async sequenceAll(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const n = await this.opts.db.transaction((tx) => this.sequenceBatch(tx));
        total += n;
        if (n < this.batchSize) break;
      }
      await this.exportHeads();
    } catch (e) {
      this.opts.log?.error({ err: e }, 'audit sequencing failed; records wait for the next round');
      throw e;
    }
    return total;
  }

  /** One transaction: the next records get their leaves, and the new tree head is signed and stored. */
  private async sequenceBatch(tx: Queryable): Promise<number> {
    if (this.opts.db.kind === 'postgres') {
      const { rows } = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1::bigint) AS ok', [
        SEQUENCER_LOCK_KEY,
      ]);
      if (!rows[0]?.ok) return 0; // another process is sequencing
    }
    const tip = await readTip(tx);
    const { rows } = await tx.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_unsequenced u JOIN audit_events e ON e.id = u.event_id
       ORDER BY e.at, e.id LIMIT $1`,
      [this.batchSize],
    );
    if (rows.length === 0) return 0;
    let frontier = tip.frontier;
    const indices: number[] = [];
    const ids: string[] = [];
    const hashes: string[] = [];
    rows.forEach((row, i) => {
      const index = tip.size + i;
      const h = leafHash(auditLeaf(auditRecordOf(row), index));
      frontier = appendToFrontier(frontier, index, h);
      indices.push(index);
      ids.push(row.id);
      hashes.push(toHex(h));
    });
    await tx.query(
      `INSERT INTO audit_leaves (leaf_index, event_id, leaf_hash)
       SELECT i, e, decode(h, 'hex') FROM unnest($1::int8[], $2::uuid[], $3::text[]) AS t (i, e, h)`,
      [indices, ids, hashes],
    );
    await tx.query('DELETE FROM audit_unsequenced WHERE event_id = ANY($1::uuid[])', [ids]);
    const size = tip.size + rows.length;
    // Tree head times never go backwards, even when the clock does.
    const now = new Date().toISOString();
    const timestamp = tip.signedAt !== undefined && tip.signedAt > now ? tip.signedAt : now;
    const head = signTreeHead(
      { treeSize: size, rootHash: toHex(frontierRoot(frontier)), timestamp },
      this.opts.key.privateKey,
      this.opts.key.publicKey,
    );
    await tx.query(
      `INSERT INTO audit_tree_heads (tree_size, root_hash, signed_at, key_id, signature, frontier)
       VALUES ($1, decode($2, 'hex'), $3, $4, decode($5, 'hex'), decode($6, 'hex'))`,
      [
        size,
        head.rootHash,
        head.timestamp,
        head.keyId,
        Buffer.from(head.signature, 'base64url').toString('hex'),
        frontier.map(toHex).join(''),
      ],
    );
    return rows.length;
  }

  /** Appends to the file every stored tree head signed by this key that the file does not hold yet. */
  private async exportHeads(): Promise<void> {
    this.exported ??= await lastExportedTreeSize(this.opts.treeHeadsFile);
    const { rows } = await this.opts.db.query<Parameters<typeof treeHeadOf>[0]>(
      `SELECT ${TREE_HEAD_COLUMNS} FROM audit_tree_heads WHERE tree_size > $1 ORDER BY tree_size`,
      [this.exported],
    );
    const heads: SignedTreeHead[] = [];
    for (const row of rows) {
      const head = treeHeadOf(row);
      if (head && verifyTreeHead(head, this.opts.key.publicKey)) heads.push(head);
      else
        this.opts.log?.warn(
          { treeSize: row.tree_size, keyId: row.key_id },
          'a stored audit tree head is not signed by this process key: not exported',
        );
    }
    await appendTreeHeads(this.opts.treeHeadsFile, heads);
    const last = rows[rows.length - 1];
    if (last) this.exported = last.tree_size;
  }
}

/** The latest tree head's size and frontier, checked against its root. */
async function readTip(tx: Queryable): Promise<Tip> {
  const { rows } = await tx.query<{
    tree_size: number;
    root_hash: Uint8Array;
    frontier: Uint8Array;
    signed_at: string;
  }>(
    'SELECT tree_size, root_hash, frontier, signed_at FROM audit_tree_heads ORDER BY tree_size DESC LIMIT 1',
  );
  const row = rows[0];
  if (!row) return { size: 0, frontier: [] };
  const bytes = Buffer.from(row.frontier);
  const frontier: Hash[] = [];
  for (let i = 0; i < bytes.length; i += HASH_BYTES) frontier.push(bytes.subarray(i, i + HASH_BYTES));
  if (
    frontier.length !== frontierLength(row.tree_size) ||
    toHex(frontierRoot(frontier)) !== toHex(row.root_hash)
  )
    throw new Error(
      `audit tree head ${row.tree_size} is damaged (its frontier does not give its root): run openiomt audit verify`,
    );
  return { size: row.tree_size, frontier, signedAt: row.signed_at };
}
