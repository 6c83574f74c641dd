/**
 * Dead letters (refused messages, kept with their reason and raw payload) and security events. Both list
 * newest first, the order an operator reads them in; keyset on (time, id).
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { compact, decodeCursor, isUuid, nowIso, pageLimit, requireInstant, toPage, Where } from './sql.ts';
import {
  type Database,
  type DeadLetter,
  type SecurityEvent,
  type SecurityEventKind,
  type SecuritySubsystem,
  type Store,
  StoreError,
} from './types.ts';

interface DeadLetterRow {
  id: string;
  received_at: string;
  via: DeadLetter['via'];
  device_id: string | null;
  topic: string | null;
  reason: DeadLetter['reason'];
  detail: string;
  field: string | null;
  payload: Uint8Array;
}

interface SecurityEventRow {
  id: string;
  at: string;
  kind: SecurityEventKind;
  device_id: string | null;
  source: string | null;
  subsystem: SecuritySubsystem | null;
  detail: string;
}

const SECURITY_EVENT_COLUMNS = 'id, at, kind, device_id, source, subsystem, detail';

const toDeadLetter = (r: DeadLetterRow): DeadLetter =>
  compact({
    id: r.id,
    receivedAt: r.received_at,
    via: r.via,
    deviceId: r.device_id ?? undefined,
    topic: r.topic ?? undefined,
    reason: r.reason,
    detail: r.detail,
    field: r.field ?? undefined,
    payloadBase64: Buffer.from(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength).toString(
      'base64',
    ),
  });

const toSecurityEvent = (r: SecurityEventRow): SecurityEvent =>
  compact({
    id: r.id,
    at: r.at,
    kind: r.kind,
    deviceId: r.device_id ?? undefined,
    source: r.source ?? undefined,
    subsystem: r.subsystem ?? undefined,
    detail: r.detail,
  });

/** A cursor for a uuid-keyed list; refused early rather than as a cast error in SQL. */
function uuidCursor(cursor: string) {
  const c = decodeCursor(cursor);
  if (!isUuid(c.id)) throw new StoreError('invalid', 'cursor is not one this server issued', 'cursor');
  return c;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const INSERT_DEAD_LETTERS = `
INSERT INTO dead_letters (id, received_at, via, device_id, topic, reason, detail, field, payload)
SELECT id, received_at, via, device_id, topic, reason, detail, field, decode(payload, 'base64')
  FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
              $8::text[], $9::text[])
    AS t(id, received_at, via, device_id, topic, reason, detail, field, payload)`;

export function deadLettersRepository(db: Database): Store['deadLetters'] {
  const insert = async (letters: readonly DeadLetter[]) => {
    letters.forEach((d, i) => {
      requireInstant(d.receivedAt, `/${i}/receivedAt`);
      if (d.payloadBase64.length % 4 !== 0 || !BASE64.test(d.payloadBase64))
        throw new StoreError('invalid', 'payload must be base64', `/${i}/payloadBase64`);
    });
    // The payload travels as base64 text and is decoded by the database: one encoding for both drivers.
    await db.query(INSERT_DEAD_LETTERS, [
      letters.map((d) => d.id),
      letters.map((d) => d.receivedAt),
      letters.map((d) => d.via),
      letters.map((d) => d.deviceId ?? null),
      letters.map((d) => d.topic ?? null),
      letters.map((d) => d.reason),
      letters.map((d) => d.detail),
      letters.map((d) => d.field ?? null),
      letters.map((d) => d.payloadBase64),
    ]);
  };
  return {
    async add(d) {
      const letter: DeadLetter = { ...d, id: randomUUID() };
      await insert([letter]);
      return compact({ ...letter });
    },

    async addMany(ds) {
      // One statement is one transaction: all of them or none.
      if (ds.length > 0) await insert(ds.map((d) => ({ ...d, id: randomUUID() })));
    },

    async list(q = {}) {
      const limit = pageLimit(q.limit);
      const where = new Where();
      if (q.deviceId !== undefined) where.add('device_id = ?', q.deviceId);
      if (q.reason !== undefined) where.add('reason = ?', q.reason);
      if (q.cursor !== undefined) where.after('received_at', 'id', uuidCursor(q.cursor), 'desc', 'uuid');
      const { rows } = await db.query<DeadLetterRow>(
        `SELECT id, received_at, via, device_id, topic, reason, detail, field, payload FROM dead_letters ${where}
          ORDER BY received_at DESC, id DESC LIMIT ${where.param(limit + 1)}`,
        where.params,
      );
      return toPage(rows, limit, toDeadLetter, (r) => ({ at: r.received_at, id: r.id }));
    },
  };
}

/**
 * A security event's source is a network address or nothing: a connection that had none by the time it was
 * asked (a socket already closed) is recorded without one, not as a placeholder word.
 */
const addressOrNull = (source: string | undefined): string | null =>
  source !== undefined && isIP(source) !== 0 ? source : null;

export function securityEventsRepository(db: Database): Store['securityEvents'] {
  const listeners = new Set<(e: SecurityEvent) => void>();
  return {
    async add(e) {
      const at = e.at === undefined ? nowIso() : requireInstant(e.at, 'at');
      const { rows } = await db.query<SecurityEventRow>(
        `INSERT INTO security_events (${SECURITY_EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING ${SECURITY_EVENT_COLUMNS}`,
        [
          randomUUID(),
          at,
          e.kind,
          e.deviceId ?? null,
          addressOrNull(e.source),
          e.subsystem ?? null,
          e.detail,
        ],
      );
      const event = toSecurityEvent(rows[0]!);
      for (const listener of listeners) {
        try {
          listener(event);
        } catch {
          // An observer's failure must not fail the recording of the event.
        }
      }
      return event;
    },

    observe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async list(q = {}) {
      const limit = pageLimit(q.limit);
      const where = new Where();
      if (q.deviceId !== undefined) where.add('device_id = ?', q.deviceId);
      if (q.kind !== undefined) where.add('kind = ?', q.kind);
      if (q.subsystem !== undefined) where.add('subsystem = ?', q.subsystem);
      if (q.cursor !== undefined) where.after('at', 'id', uuidCursor(q.cursor), 'desc', 'uuid');
      const { rows } = await db.query<SecurityEventRow>(
        `SELECT ${SECURITY_EVENT_COLUMNS} FROM security_events ${where}
          ORDER BY at DESC, id DESC LIMIT ${where.param(limit + 1)}`,
        where.params,
      );
      return toPage(rows, limit, toSecurityEvent, (r) => ({ at: r.at, id: r.id }));
    },
  };
}
