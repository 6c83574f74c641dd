/**
 * Writing and reading audit records (docs/audit.md). `recordAudit(tx, event)` is what every part that
 * touches patient data calls, inside the transaction of the access, so the access and its record commit or
 * roll back together. The record gets its place in the Merkle log later, from the sequencer.
 */
import { randomUUID } from 'node:crypto';
import {
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
  type AuditAction,
  type AuditOutcome,
  type AuditRecord,
  canonicalJson,
  type JsonValue,
  parseTreeHead,
  type SignedTreeHead,
  toHex,
} from '@openiomt/core';
import { compact, decodeCursor, isIsoInstant, isUuid, pageLimit, toPage, Where } from '../store/sql.ts';
import { type Database, type Page, type Queryable, StoreError } from '../store/types.ts';

export interface AuditInput {
  readonly action: AuditAction;
  /** User id, device id, or 'system'. */
  readonly actor: string;
  readonly actorRole?: string;
  /** Default 'success'. */
  readonly outcome?: AuditOutcome;
  readonly resourceType?: string;
  readonly resourceId?: string;
  readonly patientId?: string;
  readonly reason?: string;
  /** Client address or client id. */
  readonly source?: string;
  /** Ids and counts only: never names, values or free text about a patient. */
  readonly detail?: { readonly [key: string]: JsonValue };
  /** Default now. */
  readonly at?: string;
}

/** A record as kept, with its position in the log once the sequencer has given it one. */
export type StoredAuditRecord = AuditRecord & { readonly leafIndex?: number };

export interface AuditQuery {
  readonly patientId?: string;
  readonly actor?: string;
  readonly action?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface AuditRepository {
  /** Records one event in a transaction of its own (when there is no surrounding transaction to join). */
  record(event: AuditInput): Promise<AuditRecord>;
  /** Records several events in one transaction. */
  recordAll(events: readonly AuditInput[]): Promise<AuditRecord[]>;
  get(id: string): Promise<StoredAuditRecord | undefined>;
  /** Newest first. */
  list(q?: AuditQuery): Promise<Page<StoredAuditRecord>>;
  /** The latest signed tree head in the database, if any. */
  latestTreeHead(): Promise<SignedTreeHead | undefined>;
  /** How many records wait for a leaf index. */
  unsequenced(): Promise<number>;
}

const MAX_TEXT = 256;
const MAX_REASON = 1000;
const MAX_DETAIL_BYTES = 8192;

/** Inserts the record in the caller's transaction; it is sequenced into the log after commit. */
export async function recordAudit(tx: Queryable, event: AuditInput): Promise<AuditRecord> {
  const r = validAuditRecord(event);
  // One statement: the event and the marker that it waits for its leaf index.
  await tx.query(
    `WITH e AS (
       INSERT INTO audit_events (id, at, actor, actor_role, action, resource_type, resource_id, patient_id,
                                 outcome, reason, source, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)
       RETURNING id
     )
     INSERT INTO audit_unsequenced (event_id) SELECT id FROM e`,
    [
      r.id,
      r.at,
      r.actor,
      r.actorRole ?? null,
      r.action,
      r.resourceType ?? null,
      r.resourceId ?? null,
      r.patientId ?? null,
      r.outcome,
      r.reason ?? null,
      r.source ?? null,
      r.detail === undefined ? null : JSON.stringify(r.detail),
    ],
  );
  return r;
}

/** Checks an event and makes it a record (id, time); refusals name the field. */
export function validAuditRecord(e: AuditInput): AuditRecord {
  if (!(AUDIT_ACTIONS as readonly string[]).includes(e.action))
    throw invalid(`action must be one of ${AUDIT_ACTIONS.join(', ')}`, 'action');
  const outcome = e.outcome ?? 'success';
  if (!(AUDIT_OUTCOMES as readonly string[]).includes(outcome))
    throw invalid(`outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`, 'outcome');
  const at = e.at ?? new Date().toISOString();
  if (!isIsoInstant(at)) throw invalid('at must be an RFC 3339 instant with offset', 'at');
  const detail = e.detail === undefined ? undefined : validDetail(e.detail);
  return compact({
    id: randomUUID(),
    at: new Date(Date.parse(at)).toISOString(),
    actor: text(e.actor, 'actor', MAX_TEXT, true) as string,
    actorRole: text(e.actorRole, 'actorRole', MAX_TEXT),
    action: e.action,
    resourceType: text(e.resourceType, 'resourceType', MAX_TEXT),
    resourceId: text(e.resourceId, 'resourceId', MAX_TEXT),
    patientId: text(e.patientId, 'patientId', MAX_TEXT),
    outcome,
    reason: text(e.reason, 'reason', MAX_REASON),
    source: text(e.source, 'source', MAX_TEXT),
    detail,
  }) as AuditRecord;
}

const invalid = (message: string, field: string) => new StoreError('invalid', message, field);

function text(v: string | undefined, field: string, max: number, required = false): string | undefined {
  if (v === undefined || v === '') {
    if (required) throw invalid(`${field} is required`, field);
    return undefined;
  }
  if (typeof v !== 'string' || v.length > max)
    throw invalid(`${field} must be text of at most ${max}`, field);
  // PostgreSQL text cannot hold NUL; other control characters have no place in an audit field.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point of the check
  if (/[\u0000-\u001f\u007f]/.test(v)) throw invalid(`${field} must not hold control characters`, field);
  return v;
}

/** JSON the log can hold and hash the same after a round trip through jsonb. */
function validDetail(d: { readonly [key: string]: JsonValue }): { [key: string]: JsonValue } {
  if (typeof d !== 'object' || d === null || Array.isArray(d))
    throw invalid('detail must be an object', 'detail');
  const check = (v: unknown, depth: number): void => {
    if (depth > 5) throw invalid('detail is nested too deeply', 'detail');
    if (typeof v === 'number' && !Number.isFinite(v))
      throw invalid('detail numbers must be finite', 'detail');
    if (typeof v === 'string' && v.includes('\u0000')) throw invalid('detail must not hold NUL', 'detail');
    if (Array.isArray(v)) for (const x of v) check(x, depth + 1);
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (k === '' || k.includes('\u0000')) throw invalid('detail keys must be non-empty text', 'detail');
        check(x, depth + 1);
      }
  };
  check(d, 0);
  const json = canonicalJson(d);
  if (Buffer.byteLength(json) > MAX_DETAIL_BYTES)
    throw invalid(`detail must be at most ${MAX_DETAIL_BYTES} bytes of JSON`, 'detail');
  return JSON.parse(json) as { [key: string]: JsonValue };
}

/** The columns of an audit record, in the order auditRecordOf reads them. */
export const AUDIT_COLUMNS =
  'e.id, e.at, e.actor, e.actor_role, e.action, e.resource_type, e.resource_id, e.patient_id, e.outcome, e.reason, e.source, e.detail';

export interface AuditRow {
  id: string;
  at: string;
  actor: string;
  actor_role: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  patient_id: string | null;
  outcome: string;
  reason: string | null;
  source: string | null;
  detail: { [key: string]: JsonValue } | null;
}

/** The record exactly as stored: what the sequencer and the verifier hash. */
export function auditRecordOf(row: AuditRow): AuditRecord {
  return compact({
    id: row.id,
    at: row.at,
    actor: row.actor,
    actorRole: row.actor_role ?? undefined,
    action: row.action as AuditAction,
    resourceType: row.resource_type ?? undefined,
    resourceId: row.resource_id ?? undefined,
    patientId: row.patient_id ?? undefined,
    outcome: row.outcome as AuditOutcome,
    reason: row.reason ?? undefined,
    source: row.source ?? undefined,
    detail: row.detail ?? undefined,
  }) as AuditRecord;
}

interface TreeHeadRow {
  tree_size: number;
  root_hash: Uint8Array;
  signed_at: string;
  key_id: string;
  signature: Uint8Array;
}

export const TREE_HEAD_COLUMNS = 'tree_size, root_hash, signed_at, key_id, signature';

/** A tree head row as the signed tree head it is (undefined when the row is malformed). */
export function treeHeadOf(row: TreeHeadRow): SignedTreeHead | undefined {
  const parsed = parseTreeHead({
    treeSize: row.tree_size,
    rootHash: toHex(row.root_hash),
    timestamp: row.signed_at,
    keyId: row.key_id,
    signature: Buffer.from(row.signature).toString('base64url'),
  });
  return typeof parsed === 'string' ? undefined : parsed;
}

export function auditRepository(db: Database): AuditRepository {
  const recordAll = (events: readonly AuditInput[]) =>
    db.transaction(async (tx) => {
      const out: AuditRecord[] = [];
      for (const e of events) out.push(await recordAudit(tx, e));
      return out;
    });
  return {
    record: async (e) => (await recordAll([e]))[0] as AuditRecord,
    recordAll,
    async get(id) {
      if (!isUuid(id)) return undefined;
      const { rows } = await db.query<AuditRow & { leaf_index: number | null }>(
        `SELECT ${AUDIT_COLUMNS}, l.leaf_index FROM audit_events e
         LEFT JOIN audit_leaves l ON l.event_id = e.id WHERE e.id = $1`,
        [id],
      );
      return rows[0] ? stored(rows[0]) : undefined;
    },
    async list(q = {}) {
      const limit = pageLimit(q.limit);
      const where = new Where();
      if (q.patientId !== undefined) where.add('e.patient_id = ?', q.patientId);
      if (q.actor !== undefined) where.add('e.actor = ?', q.actor);
      if (q.action !== undefined) where.add('e.action = ?', q.action);
      if (q.from !== undefined) where.add('e.at >= ?::timestamptz', instant(q.from, 'from'));
      if (q.to !== undefined) where.add('e.at <= ?::timestamptz', instant(q.to, 'to'));
      if (q.cursor !== undefined) {
        const c = decodeCursor(q.cursor);
        if (!isUuid(c.id)) throw invalid('cursor is not one this server issued', 'cursor');
        where.after('e.at', 'e.id', c, 'desc', 'uuid');
      }
      const { rows } = await db.query<AuditRow & { leaf_index: number | null }>(
        `SELECT ${AUDIT_COLUMNS}, l.leaf_index FROM audit_events e
         LEFT JOIN audit_leaves l ON l.event_id = e.id
         ${where} ORDER BY e.at DESC, e.id DESC LIMIT ${where.param(limit + 1)}`,
        where.params,
      );
      return toPage(rows, limit, stored, (r) => ({ at: r.at, id: r.id }));
    },
    async latestTreeHead() {
      const { rows } = await db.query<TreeHeadRow>(
        `SELECT ${TREE_HEAD_COLUMNS} FROM audit_tree_heads ORDER BY tree_size DESC LIMIT 1`,
      );
      return rows[0] ? treeHeadOf(rows[0]) : undefined;
    },
    async unsequenced() {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int8 AS n FROM audit_unsequenced');
      return rows[0]?.n ?? 0;
    },
  };
}

function instant(v: string, field: string): string {
  if (!isIsoInstant(v)) throw invalid(`${field} must be an RFC 3339 instant with offset`, field);
  return v;
}

const stored = (row: AuditRow & { leaf_index: number | null }): StoredAuditRecord => ({
  ...auditRecordOf(row),
  ...(row.leaf_index === null ? {} : { leafIndex: row.leaf_index }),
});
