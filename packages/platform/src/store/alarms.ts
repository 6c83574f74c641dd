/**
 * Alarms, their transitions and the notifications they caused. The whole core `Alarm` is kept as a JSON
 * document (the reducer's state), with the columns that queries and constraints need beside it. The
 * partial unique index `alarms_one_open` makes "at most one open alarm per patient and condition" a
 * database guarantee; `version` makes concurrent writers of one alarm fail loudly instead of one silently
 * overwriting the other. A change (alarm, transitions, notifications, and whatever the caller adds, such
 * as webhook deliveries) is recorded in one transaction: durable together or not at all.
 */
import { type Alarm, type AlarmState, type AlarmTransition, nextDueAt } from '@openiomt/core';
import type { AlarmNotification } from '../bus/bus.ts';
import {
  compact,
  decodeCursor,
  isUuid,
  pageLimit,
  sqlState,
  toPage,
  UNIQUE_VIOLATION,
  Where,
} from './sql.ts';
import { type Database, type ListQuery, type Page, type Queryable, StoreError } from './types.ts';

export interface StoredAlarm {
  readonly alarm: Alarm;
  /** Bumped by every recorded change; a change names the version it was computed from. */
  readonly version: number;
}

export interface AlarmChange {
  readonly alarm: Alarm;
  /** The version the change was computed from; null when it raises a new alarm. */
  readonly expectedVersion: number | null;
  readonly transitions: readonly AlarmTransition[];
  readonly notifications: readonly AlarmNotification[];
}

export interface AlarmQuery extends ListQuery {
  readonly patientId?: string;
  /** Any of these patients (a search narrowed to the patients the caller may see). */
  readonly patientIds?: readonly string[];
  /** 'open' is active or acknowledged. */
  readonly state?: AlarmState | 'open';
}

export interface AlarmsRepository {
  /**
   * Records a change in one transaction and returns the alarm's new version. `also` runs in the same
   * transaction (the webhook outbox). Throws StoreError('conflict') when another open alarm holds the key
   * or the alarm changed since `expectedVersion`.
   */
  record(change: AlarmChange, also?: (tx: Queryable) => Promise<void>): Promise<number>;
  get(id: string): Promise<StoredAlarm | undefined>;
  openByKey(key: string): Promise<StoredAlarm | undefined>;
  /** Every alarm not resolved (loaded at start; their timers continue). */
  open(): Promise<StoredAlarm[]>;
  /** Newest first. */
  list(q?: AlarmQuery): Promise<Page<Alarm>>;
  transitions(alarmId: string): Promise<AlarmTransition[]>;
  notifications(
    q: ListQuery & { alarmId?: string; patientId?: string; patientIds?: readonly string[] },
  ): Promise<Page<AlarmNotification>>;
  notification(id: string): Promise<AlarmNotification | undefined>;
}

const INSERT_ALARM = `
INSERT INTO alarms (id, key, patient_id, condition, category, priority, state, raised_at, updated_at, due_at,
                    version, doc)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11::text::jsonb)`;

const UPDATE_ALARM = `
UPDATE alarms SET priority = $3, state = $4, updated_at = $5, due_at = $6, version = version + 1,
                  doc = $7::text::jsonb
 WHERE id = $1 AND version = $2
RETURNING version`;

const INSERT_TRANSITIONS = `
INSERT INTO alarm_transitions (alarm_id, n, at, event, actor, reason, from_state, to_state)
SELECT $1::uuid, base.n + t.ord, t.at, t.event, t.actor, t.reason, t.from_state, t.to_state
  FROM (SELECT coalesce(max(n), 0) AS n FROM alarm_transitions WHERE alarm_id = $1::uuid) base,
       json_to_recordset($2::text::json)
         AS t(ord int, at timestamptz, event text, actor text, reason text, from_state text, to_state text)`;

const INSERT_NOTIFICATIONS = `
INSERT INTO alarm_notifications (id, alarm_id, patient_id, at, kind, priority, level, assignee, reason)
SELECT id, alarm_id, patient_id, at, kind, priority, level, assignee, reason
  FROM json_to_recordset($1::text::json)
    AS t(id uuid, alarm_id uuid, patient_id text, at timestamptz, kind text, priority text, level int,
         assignee text, reason text)`;

/** A clinician is waiting for this change: it goes before readings batches queued for the connection. */
const URGENT = { urgent: true } as const;

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

interface AlarmRow {
  doc: Alarm | string;
  version: number;
}
const toStored = (r: AlarmRow): StoredAlarm => ({
  alarm: typeof r.doc === 'string' ? (JSON.parse(r.doc) as Alarm) : r.doc,
  version: Number(r.version),
});

interface TransitionRow {
  alarm_id: string;
  at: string | Date;
  event: AlarmTransition['event'];
  actor: string;
  reason: string;
  from_state: AlarmState | null;
  to_state: AlarmState;
}

interface NotificationRow {
  id: string;
  alarm_id: string;
  patient_id: string;
  at: string | Date;
  kind: AlarmNotification['kind'];
  priority: AlarmNotification['priority'];
  level: number;
  assignee: string | null;
  reason: string;
}

const ms = (t: string | Date) => (t instanceof Date ? t.getTime() : Date.parse(t));

const toNotification = (r: NotificationRow): AlarmNotification =>
  compact({
    id: r.id,
    alarmId: r.alarm_id,
    patientId: r.patient_id,
    at: ms(r.at),
    kind: r.kind,
    priority: r.priority,
    level: Number(r.level),
    assignee: r.assignee ?? undefined,
    reason: r.reason,
  }) as AlarmNotification;

function uuidCursor(cursor: string) {
  const c = decodeCursor(cursor);
  if (!isUuid(c.id)) throw new StoreError('invalid', 'cursor is not one this server issued', 'cursor');
  return c;
}

export function alarmsRepository(db: Database): AlarmsRepository {
  const write = async (tx: Queryable, c: AlarmChange): Promise<number> => {
    const a = c.alarm;
    const due = iso(nextDueAt(a));
    const doc = JSON.stringify(a);
    if (c.expectedVersion === null) {
      try {
        await tx.query(INSERT_ALARM, [
          a.id,
          a.key,
          a.patientId,
          a.condition,
          a.category,
          a.priority,
          a.state,
          iso(a.raisedAt),
          iso(a.updatedAt),
          due,
          doc,
        ]);
      } catch (e) {
        if (sqlState(e) === UNIQUE_VIOLATION)
          throw new StoreError('conflict', `an open alarm already exists for ${a.condition}`, 'key');
        throw e;
      }
      return 1;
    }
    const { rows } = await tx.query<{ version: number }>(UPDATE_ALARM, [
      a.id,
      c.expectedVersion,
      a.priority,
      a.state,
      iso(a.updatedAt),
      due,
      doc,
    ]);
    if (rows.length === 0)
      throw new StoreError('conflict', `alarm ${a.id} changed since version ${c.expectedVersion}`, 'version');
    return Number(rows[0]!.version);
  };

  return {
    record(change, also) {
      return db.transaction(async (tx) => {
        const version = await write(tx, change);
        // The inserts below need no answer: they are sent together and checked before COMMIT.
        const inserts: Promise<unknown>[] = [];
        if (change.transitions.length > 0) {
          const rows = change.transitions.map((t, i) => ({
            ord: i + 1,
            at: iso(t.at),
            event: t.event,
            actor: t.by,
            reason: t.reason,
            from_state: t.from,
            to_state: t.to,
          }));
          inserts.push(tx.query(INSERT_TRANSITIONS, [change.alarm.id, JSON.stringify(rows)]));
        }
        if (change.notifications.length > 0) {
          const rows = change.notifications.map((n) => ({
            id: n.id,
            alarm_id: n.alarmId,
            patient_id: n.patientId,
            at: iso(n.at),
            kind: n.kind,
            priority: n.priority,
            level: n.level,
            assignee: n.assignee ?? null,
            reason: n.reason,
          }));
          inserts.push(tx.query(INSERT_NOTIFICATIONS, [JSON.stringify(rows)]));
        }
        await Promise.all(inserts);
        if (also) await also(tx);
        return version;
      }, URGENT);
    },

    async get(id) {
      if (!isUuid(id)) return undefined;
      const { rows } = await db.query<AlarmRow>('SELECT doc, version FROM alarms WHERE id = $1', [id]);
      return rows[0] ? toStored(rows[0]) : undefined;
    },

    async openByKey(key) {
      const { rows } = await db.query<AlarmRow>(
        `SELECT doc, version FROM alarms WHERE key = $1 AND state <> 'resolved'`,
        [key],
      );
      return rows[0] ? toStored(rows[0]) : undefined;
    },

    async open() {
      const { rows } = await db.query<AlarmRow>(
        `SELECT doc, version FROM alarms WHERE state <> 'resolved' ORDER BY raised_at, id`,
      );
      return rows.map(toStored);
    },

    async list(q = {}) {
      const limit = pageLimit(q.limit);
      const where = new Where();
      if (q.patientId !== undefined) where.add('patient_id = ?', q.patientId);
      if (q.patientIds !== undefined) where.add('patient_id = ANY(?::text[])', q.patientIds);
      if (q.state === 'open') where.add(`state <> ?`, 'resolved');
      else if (q.state !== undefined) where.add('state = ?', q.state);
      if (q.cursor !== undefined) where.after('raised_at', 'id', uuidCursor(q.cursor), 'desc', 'uuid');
      const { rows } = await db.query<AlarmRow & { raised_at: string | Date; id: string }>(
        `SELECT doc, version, raised_at, id FROM alarms ${where}
          ORDER BY raised_at DESC, id DESC LIMIT ${where.param(limit + 1)}`,
        where.params,
      );
      return toPage(
        rows,
        limit,
        (r) => toStored(r).alarm,
        (r) => ({ at: new Date(ms(r.raised_at)).toISOString(), id: r.id }),
      );
    },

    async transitions(alarmId) {
      if (!isUuid(alarmId)) return [];
      const { rows } = await db.query<TransitionRow>(
        `SELECT alarm_id, at, event, actor, reason, from_state, to_state
           FROM alarm_transitions WHERE alarm_id = $1 ORDER BY n`,
        [alarmId],
      );
      return rows.map((r) => ({
        alarmId: r.alarm_id,
        at: ms(r.at),
        event: r.event,
        by: r.actor,
        reason: r.reason,
        from: r.from_state,
        to: r.to_state,
      }));
    },

    async notifications(q) {
      const limit = pageLimit(q.limit);
      const where = new Where();
      if (q.alarmId !== undefined) {
        if (!isUuid(q.alarmId)) return { items: [] };
        where.add('alarm_id = ?', q.alarmId);
      }
      if (q.patientId !== undefined) where.add('patient_id = ?', q.patientId);
      if (q.patientIds !== undefined) where.add('patient_id = ANY(?::text[])', q.patientIds);
      if (q.cursor !== undefined) where.after('at', 'id', uuidCursor(q.cursor), 'desc', 'uuid');
      const { rows } = await db.query<NotificationRow>(
        `SELECT * FROM alarm_notifications ${where} ORDER BY at DESC, id DESC LIMIT ${where.param(limit + 1)}`,
        where.params,
      );
      return toPage(rows, limit, toNotification, (r) => ({
        at: new Date(ms(r.at)).toISOString(),
        id: r.id,
      }));
    },

    async notification(id) {
      if (!isUuid(id)) return undefined;
      const { rows } = await db.query<NotificationRow>('SELECT * FROM alarm_notifications WHERE id = $1', [
        id,
      ]);
      return rows[0] ? toNotification(rows[0]) : undefined;
    },
  };
}
