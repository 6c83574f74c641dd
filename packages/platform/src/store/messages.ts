/**
 * Secure messages between a patient and their care team (and caregivers). The body is sealed under the
 * patient's own data key (patient-data-key.ts), bound to the patient and the message id, so the database
 * holds only envelopes; erasing the patient destroys the key and every body with it. Who sent what when,
 * and whether it was read, stay as pseudonymous metadata.
 */
import { randomUUID } from 'node:crypto';
import { openText, PatientErasedError, patientDataKey, sealText } from './patient-data-key.ts';
import type { PatientVault } from './patient-vault.ts';
import { type Cursor, encodeCursor, isUuid, nowIso, requireInstant } from './sql.ts';
import { type Database, type Page, StoreError } from './types.ts';

export const MESSAGE_ROLES = ['patient', 'caregiver', 'clinician', 'nurse'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/**
 * A conversation has two sides: the patient's (the patient and their caregivers) and the care team's
 * (clinicians and nurses). A message is read once someone on the other side has read it.
 */
export type MessageSide = 'patient' | 'care';
export const sideOf = (role: MessageRole): MessageSide =>
  role === 'patient' || role === 'caregiver' ? 'patient' : 'care';
const rolesOf = (side: MessageSide): MessageRole[] => MESSAGE_ROLES.filter((r) => sideOf(r) === side);
const otherSide = (side: MessageSide): MessageSide => (side === 'patient' ? 'care' : 'patient');

export interface StoredMessage {
  readonly id: string;
  readonly patientId: string;
  readonly senderUserId: string;
  /** The role the sender wrote in (the relationship that let them write). */
  readonly senderRole: MessageRole;
  readonly body: string;
  readonly sentAt: string;
  /** When someone on the other side of the conversation first marked it read. */
  readonly readAt?: string;
}

export interface MessageQuery {
  readonly patientId: string;
  /** Only messages older than this instant, or than this position (a `next` of an earlier page). */
  readonly before?: { readonly at: string; readonly id?: string };
  /** 1..1000. */
  readonly limit: number;
}

export interface MessagesRepository {
  /**
   * Seals and stores a message. StoreError('not-found') for an unknown patient, PatientErasedError once the
   * patient was erased.
   */
  send(m: {
    patientId: string;
    senderUserId: string;
    senderRole: MessageRole;
    body: string;
    at?: string;
  }): Promise<StoredMessage>;
  /** Newest first; `next` is the position of the last item (pass it back as `before.id` with its time). */
  list(q: MessageQuery): Promise<Page<StoredMessage>>;
  /**
   * Marks a message of the patient read by someone on `readerSide`; a no-op when it came from that side or
   * was read already. False when the patient has no such message.
   */
  markRead(patientId: string, messageId: string, readerSide: MessageSide, at?: string): Promise<boolean>;
  /**
   * Per patient, messages from the other side than `side` not read yet ('any': every unread message); only
   * patients with some, erased ones left out.
   */
  unreadCounts(
    side: MessageSide | 'any',
    patientIds: readonly string[] | 'all',
  ): Promise<{ patientId: string; unread: number }[]>;
}

interface MessageRow {
  id: string;
  patient_id: string;
  sender_user_id: string;
  sender_role: MessageRole;
  body_ciphertext: Uint8Array;
  sent_at: string;
  read_at: string | null;
}

/** The position of a message in its patient's list (opaque outside: `next` of a page). */
export const messageCursor = (m: Pick<StoredMessage, 'sentAt' | 'id'>): string =>
  encodeCursor({ at: m.sentAt, id: m.id } satisfies Cursor);

const bodyAad = (patientId: string, messageId: string): string =>
  `openiomt/patient-message/v1\u0000${patientId}\u0000${messageId}`;

const MAX_BODY_CHARS = 4000;

export function messagesRepository(db: Database, vault: PatientVault | undefined): MessagesRepository {
  const toMessage = (r: MessageRow, key: Buffer): StoredMessage => ({
    id: r.id,
    patientId: r.patient_id,
    senderUserId: r.sender_user_id,
    senderRole: r.sender_role,
    body: openText(key, r.body_ciphertext, bodyAad(r.patient_id, r.id)),
    sentAt: r.sent_at,
    ...(r.read_at !== null ? { readAt: r.read_at } : {}),
  });

  return {
    async send(m) {
      if (!(MESSAGE_ROLES as readonly string[]).includes(m.senderRole))
        throw new StoreError(
          'invalid',
          `senderRole must be one of ${MESSAGE_ROLES.join(', ')}`,
          'senderRole',
        );
      if (!isUuid(m.senderUserId))
        throw new StoreError('invalid', 'a message is sent by a user account', 'senderUserId');
      if (m.body.length === 0 || [...m.body].length > MAX_BODY_CHARS)
        throw new StoreError('invalid', `body must be 1 to ${MAX_BODY_CHARS} characters`, 'body');
      const at = m.at === undefined ? nowIso() : requireInstant(m.at, 'at');
      const key = (await patientDataKey(db, vault, m.patientId, true)) as Buffer;
      const id = randomUUID();
      const sealed = sealText(key, m.body, bodyAad(m.patientId, id));
      const stored = await db.transaction(async (tx) => {
        // Erasure locks the patient for update: it finished before (refused here), or waits for this.
        const { rows } = await tx.query<{ erased_at: string | null }>(
          'SELECT erased_at FROM patients WHERE id = $1 FOR SHARE',
          [m.patientId],
        );
        if (rows[0] === undefined || rows[0].erased_at !== null) return false;
        await tx.query(
          `INSERT INTO messages (id, patient_id, sender_user_id, sender_role, body_ciphertext, sent_at)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [id, m.patientId, m.senderUserId, m.senderRole, sealed, at],
        );
        return true;
      });
      if (!stored) throw new PatientErasedError(m.patientId);
      return {
        id,
        patientId: m.patientId,
        senderUserId: m.senderUserId,
        senderRole: m.senderRole,
        body: m.body,
        sentAt: new Date(Date.parse(at)).toISOString(),
      };
    },

    async list(q) {
      if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > 1000)
        throw new StoreError('invalid', 'limit must be 1..1000', 'limit');
      const key = await patientDataKey(db, vault, q.patientId, false);
      if (key === undefined) return { items: [] };
      const params: unknown[] = [q.patientId];
      let older = '';
      if (q.before !== undefined) {
        params.push(requireInstant(q.before.at, 'before'));
        if (q.before.id !== undefined) {
          if (!isUuid(q.before.id)) throw new StoreError('invalid', 'before is not a position', 'before');
          params.push(q.before.id);
          older = 'AND (sent_at, id) < ($2::timestamptz, $3::uuid)';
        } else older = 'AND sent_at < $2::timestamptz';
      }
      params.push(q.limit + 1);
      const { rows } = await db.query<MessageRow>(
        `SELECT id, patient_id, sender_user_id::text AS sender_user_id, sender_role, body_ciphertext, sent_at,
                read_at
           FROM messages WHERE patient_id = $1 ${older}
          ORDER BY sent_at DESC, id DESC LIMIT $${params.length}`,
        params,
      );
      const items = rows.slice(0, q.limit).map((r) => toMessage(r, key));
      const last = items[items.length - 1];
      return rows.length > q.limit && last ? { items, next: messageCursor(last) } : { items };
    },

    async markRead(patientId, messageId, readerSide, at) {
      if (!isUuid(messageId)) return false;
      const when = at === undefined ? nowIso() : requireInstant(at, 'at');
      const { rows } = await db.query<{ erased_at: string | null; found: boolean }>(
        `WITH marked AS (
           UPDATE messages SET read_at = $4
            WHERE id = $1 AND patient_id = $2 AND read_at IS NULL AND sender_role = ANY($3::text[])
              AND NOT EXISTS (SELECT 1 FROM patients WHERE id = $2 AND erased_at IS NOT NULL)
         )
         SELECT p.erased_at, EXISTS (SELECT 1 FROM messages WHERE id = $1 AND patient_id = $2) AS found
           FROM patients p WHERE p.id = $2`,
        [messageId, patientId, rolesOf(otherSide(readerSide)), when],
      );
      const r = rows[0];
      if (r === undefined) return false;
      if (r.erased_at !== null) throw new PatientErasedError(patientId);
      return r.found;
    },

    async unreadCounts(side, patientIds) {
      if (patientIds !== 'all' && patientIds.length === 0) return [];
      const senders = side === 'any' ? [...MESSAGE_ROLES] : rolesOf(otherSide(side));
      const { rows } = await db.query<{ patient_id: string; unread: number }>(
        `SELECT m.patient_id, count(*)::int AS unread
           FROM messages m JOIN patients p ON p.id = m.patient_id
          WHERE m.read_at IS NULL AND m.sender_role = ANY($1::text[]) AND p.erased_at IS NULL
            ${patientIds === 'all' ? '' : 'AND m.patient_id = ANY($2::text[])'}
          GROUP BY m.patient_id ORDER BY m.patient_id`,
        patientIds === 'all' ? [senders] : [senders, [...patientIds]],
      );
      return rows.map((r) => ({ patientId: r.patient_id, unread: r.unread }));
    },
  };
}
