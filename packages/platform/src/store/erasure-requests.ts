/**
 * A patient's requests to be erased (GDPR Art. 17), for an administrator to complete (crypto-shredding,
 * patients.ts erase) or reject. One pending request per patient, enforced by the database. The reason the
 * patient gave is sealed under their own data key, so completing the erasure makes it unreadable too.
 */
import { randomUUID } from 'node:crypto';
import { openText, PatientErasedError, patientDataKey, sealText } from './patient-data-key.ts';
import type { PatientVault } from './patient-vault.ts';
import { compact, decodeCursor, nowIso, pageLimit, toPage, Where } from './sql.ts';
import { type Database, type ListQuery, type Page, StoreError } from './types.ts';

export const ERASURE_STATUSES = ['pending', 'completed', 'rejected'] as const;
export type ErasureStatus = (typeof ERASURE_STATUSES)[number];

export interface ErasureRequest {
  readonly id: string;
  readonly patientId: string;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly status: ErasureStatus;
  /** The patient's reason; absent when none was given or once the patient's key is destroyed. */
  readonly reason?: string;
  readonly decidedAt?: string;
  readonly decidedBy?: string;
  readonly decisionReason?: string;
}

export interface ErasureRequestsRepository {
  /**
   * Records a pending request, or finds the one already pending (created false). PatientErasedError when
   * the patient was erased already; StoreError('not-found') for an unknown patient.
   */
  request(r: {
    patientId: string;
    by: string;
    reason?: string;
  }): Promise<{ request: ErasureRequest; created: boolean }>;
  get(id: string): Promise<ErasureRequest | undefined>;
  /** The patient's most recent request, whatever its status. */
  latest(patientId: string): Promise<ErasureRequest | undefined>;
  /** Oldest first (a queue). */
  list(q?: ListQuery & { status?: ErasureStatus }): Promise<Page<ErasureRequest>>;
  /** Closes a pending request; StoreError('conflict') when it is not pending any more. */
  decide(
    id: string,
    d: { status: 'completed' | 'rejected'; by: string; reason: string },
  ): Promise<ErasureRequest>;
}

interface Row {
  id: string;
  patient_id: string;
  requested_by: string;
  requested_at: string;
  reason_ciphertext: Uint8Array | null;
  status: ErasureStatus;
  decided_at: string | null;
  decided_by: string | null;
  decision_reason: string | null;
}

const COLUMNS = `id::text AS id, patient_id, requested_by, requested_at, reason_ciphertext, status, decided_at,
  decided_by, decision_reason`;

const reasonAad = (patientId: string, requestId: string): string =>
  `openiomt/erasure-request-reason/v1\u0000${patientId}\u0000${requestId}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function erasureRequestsRepository(
  db: Database,
  vault: PatientVault | undefined,
): ErasureRequestsRepository {
  async function toRequest(r: Row): Promise<ErasureRequest> {
    let reason: string | undefined;
    if (r.reason_ciphertext !== null) {
      try {
        const key = await patientDataKey(db, vault, r.patient_id, false);
        if (key) reason = openText(key, r.reason_ciphertext, reasonAad(r.patient_id, r.id));
      } catch (e) {
        // Erased: the reason went with the key, as it should.
        if (!(e instanceof PatientErasedError)) throw e;
      }
    }
    return compact({
      id: r.id,
      patientId: r.patient_id,
      requestedBy: r.requested_by,
      requestedAt: r.requested_at,
      status: r.status,
      reason,
      decidedAt: r.decided_at ?? undefined,
      decidedBy: r.decided_by ?? undefined,
      decisionReason: r.decision_reason ?? undefined,
    });
  }

  const pendingOf = async (patientId: string): Promise<Row | undefined> =>
    (
      await db.query<Row>(
        `SELECT ${COLUMNS} FROM erasure_requests WHERE patient_id = $1 AND status = 'pending'`,
        [patientId],
      )
    ).rows[0];

  async function get(id: string): Promise<ErasureRequest | undefined> {
    if (!UUID.test(id)) return undefined;
    const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM erasure_requests WHERE id = $1`, [id]);
    return rows[0] ? toRequest(rows[0]) : undefined;
  }

  return {
    async request(r) {
      const waiting = await pendingOf(r.patientId);
      if (waiting) return { request: await toRequest(waiting), created: false };
      const id = randomUUID();
      const key = r.reason === undefined ? undefined : await patientDataKey(db, vault, r.patientId, true);
      const sealed =
        key && r.reason !== undefined ? sealText(key, r.reason, reasonAad(r.patientId, id)) : null;
      const outcome = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ erased_at: string | null }>(
          'SELECT erased_at FROM patients WHERE id = $1 FOR SHARE',
          [r.patientId],
        );
        if (rows[0] === undefined) return 'unknown' as const;
        if (rows[0].erased_at !== null) return 'erased' as const;
        const { rows: made } = await tx.query(
          `INSERT INTO erasure_requests (id, patient_id, requested_by, requested_at, reason_ciphertext, status)
           VALUES ($1, $2, $3, $4, $5, 'pending')
           ON CONFLICT (patient_id) WHERE status = 'pending' DO NOTHING RETURNING id`,
          [id, r.patientId, r.by, nowIso(), sealed],
        );
        return made.length > 0 ? ('created' as const) : ('raced' as const);
      });
      if (outcome === 'unknown') throw new StoreError('not-found', `no patient ${r.patientId}`, 'patientId');
      if (outcome === 'erased') throw new PatientErasedError(r.patientId);
      const row = outcome === 'created' ? await get(id) : undefined;
      if (row) return { request: row, created: true };
      const other = await pendingOf(r.patientId);
      if (!other) throw new StoreError('conflict', 'the request changed while it was made: ask again');
      return { request: await toRequest(other), created: false };
    },

    get,

    async latest(patientId) {
      const { rows } = await db.query<Row>(
        `SELECT ${COLUMNS} FROM erasure_requests WHERE patient_id = $1 ORDER BY requested_at DESC, id DESC LIMIT 1`,
        [patientId],
      );
      return rows[0] ? toRequest(rows[0]) : undefined;
    },

    async list(q = {}) {
      const limit = pageLimit(q.limit);
      const where = new Where();
      if (q.status !== undefined) where.add('status = ?', q.status);
      if (q.cursor !== undefined) {
        const cursor = decodeCursor(q.cursor);
        if (!UUID.test(cursor.id))
          throw new StoreError('invalid', 'cursor is not one this server issued', 'cursor');
        where.after('requested_at', 'id', cursor, 'asc', 'uuid');
      }
      const { rows } = await db.query<Row>(
        `SELECT ${COLUMNS} FROM erasure_requests ${where} ORDER BY requested_at, id LIMIT ${where.param(limit + 1)}`,
        where.params,
      );
      const page = toPage(
        rows,
        limit,
        (r) => r,
        (r) => ({ at: r.requested_at, id: r.id }),
      );
      return { ...page, items: await Promise.all(page.items.map(toRequest)) };
    },

    async decide(id, d) {
      if (d.reason.trim().length === 0)
        throw new StoreError('invalid', 'a decision needs a reason', 'reason');
      if (!UUID.test(id)) throw new StoreError('not-found', `no erasure request ${id}`, 'id');
      const { rows } = await db.query<Row>(
        `UPDATE erasure_requests SET status = $2, decided_at = $3, decided_by = $4, decision_reason = $5
          WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
        [id, d.status, nowIso(), d.by, d.reason],
      );
      if (rows[0]) return toRequest(rows[0]);
      const existing = await get(id);
      if (!existing) throw new StoreError('not-found', `no erasure request ${id}`, 'id');
      throw new StoreError('conflict', `the erasure request is ${existing.status}, not pending`, 'status');
    },
  };
}
