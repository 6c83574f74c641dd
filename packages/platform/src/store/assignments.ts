import { randomUUID } from 'node:crypto';
import {
  CHECK_VIOLATION,
  compact,
  EXCLUSION_VIOLATION,
  FOREIGN_KEY_VIOLATION,
  nowIso,
  requireInstant,
  sqlState,
} from './sql.ts';
import { type Assignment, type Database, type Store, StoreError } from './types.ts';

interface AssignmentRow {
  id: string;
  device_id: string;
  patient_id: string;
  from_at: string;
  to_at: string | null;
  created_at: string;
}

const COLUMNS = 'id, device_id, patient_id, from_at, to_at, created_at';

const toAssignment = (r: AssignmentRow): Assignment =>
  compact({
    id: r.id,
    deviceId: r.device_id,
    patientId: r.patient_id,
    from: r.from_at,
    to: r.to_at ?? undefined,
    createdAt: r.created_at,
  });

/** Periods are [from, to): the database's exclusion constraint refuses overlaps, even between racing writers. */
export function assignmentsRepository(db: Database): Store['assignments'] {
  return {
    async assign(a) {
      const from = a.from === undefined ? nowIso() : requireInstant(a.from, 'from');
      const to = a.to === undefined ? null : requireInstant(a.to, 'to');
      return db.transaction(async (tx) => {
        // The device's row is locked first, so assignments of one device queue here. Left to the exclusion
        // constraint alone, concurrent overlapping inserts can deadlock on PostgreSQL (40P01) instead of
        // one winning and the others getting a conflict.
        const { rows: device } = await tx.query('SELECT 1 FROM devices WHERE id = $1 FOR UPDATE', [
          a.deviceId,
        ]);
        if (device.length === 0) throw new StoreError('not-found', `no device ${a.deviceId}`, 'deviceId');
        const { rows: patient } = await tx.query('SELECT 1 FROM patients WHERE id = $1', [a.patientId]);
        if (patient.length === 0) throw new StoreError('not-found', `no patient ${a.patientId}`, 'patientId');
        try {
          const { rows } = await tx.query<AssignmentRow>(
            `INSERT INTO device_assignments (id, device_id, patient_id, from_at, to_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
            [randomUUID(), a.deviceId, a.patientId, from, to, nowIso()],
          );
          return toAssignment(rows[0]!);
        } catch (e) {
          throw refusal(e, a.deviceId);
        }
      });
    },

    async end(deviceId, at) {
      const until = at === undefined ? nowIso() : requireInstant(at, 'at');
      try {
        const { rows } = await db.query<AssignmentRow>(
          `UPDATE device_assignments SET to_at = $2 WHERE device_id = $1 AND to_at IS NULL RETURNING ${COLUMNS}`,
          [deviceId, until],
        );
        return rows[0] === undefined ? undefined : toAssignment(rows[0]);
      } catch (e) {
        if (sqlState(e) === CHECK_VIOLATION)
          throw new StoreError('invalid', 'the assignment cannot end before it starts', 'at');
        throw e;
      }
    },

    async history(deviceId) {
      const { rows } = await db.query<AssignmentRow>(
        `SELECT ${COLUMNS} FROM device_assignments WHERE device_id = $1 ORDER BY from_at, id`,
        [deviceId],
      );
      return rows.map(toAssignment);
    },

    async historyMany(deviceIds) {
      const { rows } = await db.query<AssignmentRow>(
        `SELECT ${COLUMNS} FROM device_assignments WHERE device_id = ANY($1::text[])
          ORDER BY device_id, from_at, id`,
        [[...deviceIds]],
      );
      const histories = new Map<string, Assignment[]>(deviceIds.map((id) => [id, []]));
      for (const r of rows) histories.get(r.device_id)?.push(toAssignment(r));
      return histories;
    },

    async patientAt(deviceId, at) {
      requireInstant(at, 'at');
      // Same range expression as the exclusion constraint, so its GiST index serves this lookup.
      const { rows } = await db.query<{ patient_id: string }>(
        `SELECT patient_id FROM device_assignments
          WHERE device_id = $1 AND tstzrange(from_at, to_at, '[)') @> $2::timestamptz`,
        [deviceId, at],
      );
      return rows[0]?.patient_id;
    },

    async monitored(at) {
      requireInstant(at, 'at');
      const { rows } = await db.query<{
        device_id: string;
        patient_id: string;
        expected_interval_s: number;
        last_seen_at: string | null;
      }>(
        `SELECT a.device_id, a.patient_id, d.expected_interval_s, d.last_seen_at
           FROM device_assignments a JOIN devices d ON d.id = a.device_id
          WHERE d.status = 'active' AND tstzrange(a.from_at, a.to_at, '[)') @> $1::timestamptz`,
        [at],
      );
      return rows.map((r) => ({
        deviceId: r.device_id,
        patientId: r.patient_id,
        expectedIntervalS: r.expected_interval_s,
        ...(r.last_seen_at ? { lastSeenAt: r.last_seen_at } : {}),
      }));
    },
  };
}

function refusal(e: unknown, deviceId: string): unknown {
  switch (sqlState(e)) {
    case EXCLUSION_VIOLATION:
      return new StoreError('conflict', `device ${deviceId} is already assigned during that period`, 'from');
    case CHECK_VIOLATION:
      return new StoreError('invalid', 'the assignment must end after it starts', 'to');
    case FOREIGN_KEY_VIOLATION:
      // The device or patient vanished between the check and the insert.
      return new StoreError('not-found', 'device or patient no longer exists', 'deviceId');
    default:
      return e;
  }
}
