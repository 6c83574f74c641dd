import { randomUUID } from 'node:crypto';
import {
  compact,
  decodeCursor,
  nowIso,
  pageLimit,
  sqlState,
  toPage,
  UNIQUE_VIOLATION,
  Where,
} from './sql.ts';
import { type Database, type Patient, type Store, StoreError } from './types.ts';

interface PatientRow {
  id: string;
  identifier: string | null;
  display_name: string | null;
  created_at: string;
}

const COLUMNS = 'id, identifier, display_name, created_at';

const toPatient = (r: PatientRow): Patient =>
  compact({
    id: r.id,
    identifier: r.identifier ?? undefined,
    displayName: r.display_name ?? undefined,
    createdAt: r.created_at,
  });

export function patientsRepository(db: Database): Store['patients'] {
  return {
    async create(p) {
      const id = p.id ?? randomUUID();
      if (id.length === 0 || id.length > 128)
        throw new StoreError('invalid', 'patient id must be 1 to 128 characters', 'id');
      try {
        const { rows } = await db.query<PatientRow>(
          `INSERT INTO patients (id, identifier, display_name, created_at) VALUES ($1, $2, $3, $4)
           RETURNING ${COLUMNS}`,
          [id, p.identifier ?? null, p.displayName ?? null, nowIso()],
        );
        return toPatient(rows[0]!);
      } catch (e) {
        if (sqlState(e) === UNIQUE_VIOLATION) throw new StoreError('conflict', `patient ${id} exists`, 'id');
        throw e;
      }
    },

    async get(id) {
      const { rows } = await db.query<PatientRow>(`SELECT ${COLUMNS} FROM patients WHERE id = $1`, [id]);
      return rows[0] === undefined ? undefined : toPatient(rows[0]);
    },

    async list(q = {}) {
      const limit = pageLimit(q.limit);
      const where = new Where();
      if (q.cursor !== undefined) where.after('created_at', 'id', decodeCursor(q.cursor), 'asc');
      const { rows } = await db.query<PatientRow>(
        `SELECT ${COLUMNS} FROM patients ${where} ORDER BY created_at, id LIMIT ${where.param(limit + 1)}`,
        where.params,
      );
      return toPage(rows, limit, toPatient, (r) => ({ at: r.created_at, id: r.id }));
    },
  };
}
