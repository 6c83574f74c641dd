/**
 * The facts access decisions are made from: care teams (who cares for whom), caregiver grants, each
 * patient's consent, and break-glass openings. Plain records; the decisions are core's authorize().
 */
import { randomUUID } from 'node:crypto';
import type { CaregiverGrant, ConsentState, DataCategory } from '@openiomt/core';
import { FOREIGN_KEY_VIOLATION, sqlState } from './sql.ts';
import { type Database, StoreError } from './types.ts';

export interface CareTeam {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly members: readonly string[];
  readonly patients: readonly string[];
}

export interface StoredGrant extends CaregiverGrant {
  readonly id: string;
  readonly caregiverUserId: string;
  readonly createdAt: string;
  readonly revokedAt?: string;
}

export interface StoredConsent extends ConsentState {
  readonly patientId: string;
  readonly version: number;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export interface BreakGlass {
  readonly id: string;
  readonly userId: string;
  readonly patientId: string;
  readonly reason: string;
  readonly openedAt: string;
  readonly until: string;
  readonly closedAt?: string;
}

export interface AccessRepository {
  createCareTeam(name: string): Promise<CareTeam>;
  careTeam(id: string): Promise<CareTeam | undefined>;
  careTeams(): Promise<CareTeam[]>;
  /** Adds or removes a member (user) or a patient of a care team. */
  setMembership(teamId: string, kind: 'member' | 'patient', id: string, present: boolean): Promise<CareTeam>;
  /** Patients of every care team the user belongs to. */
  patientsInCareOf(userId: string): Promise<Set<string>>;
  /** Users on any care team of the patient (who is told, who may see). */
  careUsersOf(patientId: string): Promise<string[]>;

  grant(g: {
    patientId: string;
    caregiverUserId: string;
    categories?: DataCategory[];
    until?: string;
  }): Promise<StoredGrant>;
  revokeGrant(id: string, patientId: string): Promise<StoredGrant>;
  grantsOfCaregiver(userId: string): Promise<StoredGrant[]>;
  grantsOfPatient(patientId: string): Promise<StoredGrant[]>;

  consent(patientId: string): Promise<StoredConsent | undefined>;
  /** Replaces the consent; `expectedVersion` (0 when none yet) refuses a change made from a stale copy. */
  putConsent(
    patientId: string,
    state: ConsentState,
    by: string,
    expectedVersion?: number,
  ): Promise<StoredConsent>;

  openBreakGlass(b: {
    userId: string;
    patientId: string;
    reason: string;
    minutes: number;
  }): Promise<BreakGlass>;
  /** The user's open break-glass for the patient at `at`, if any. */
  breakGlassOf(userId: string, patientId: string, at: string): Promise<BreakGlass | undefined>;
  breakGlassList(limit?: number): Promise<BreakGlass[]>;
}

const notFoundOr = (e: unknown, what: string) =>
  sqlState(e) === FOREIGN_KEY_VIOLATION ? new StoreError('not-found', `no ${what}`, 'patientId') : e;

interface GrantRow {
  id: string;
  patient_id: string;
  caregiver_user_id: string;
  categories: DataCategory[] | null;
  created_at: string;
  until: string | null;
  revoked_at: string | null;
}
const toGrant = (r: GrantRow): StoredGrant => ({
  id: r.id,
  patientId: r.patient_id,
  caregiverUserId: r.caregiver_user_id,
  createdAt: r.created_at,
  ...(r.categories ? { categories: r.categories } : {}),
  ...(r.until ? { until: Date.parse(r.until) } : {}),
  ...(r.revoked_at ? { revokedAt: r.revoked_at } : {}),
});

interface BreakGlassRow {
  id: string;
  user_id: string;
  patient_id: string;
  reason: string;
  opened_at: string;
  until: string;
  closed_at: string | null;
}
const toBreakGlass = (r: BreakGlassRow): BreakGlass => ({
  id: r.id,
  userId: r.user_id,
  patientId: r.patient_id,
  reason: r.reason,
  openedAt: r.opened_at,
  until: r.until,
  ...(r.closed_at ? { closedAt: r.closed_at } : {}),
});

export function accessRepository(db: Database): AccessRepository {
  const careTeam = async (id: string): Promise<CareTeam | undefined> => {
    const { rows } = await db.query<{ id: string; name: string; created_at: string }>(
      'SELECT id, name, created_at FROM care_teams WHERE id = $1',
      [id],
    );
    const t = rows[0];
    if (!t) return undefined;
    const [members, patients] = await Promise.all([
      db.query<{ user_id: string }>(
        'SELECT user_id FROM care_team_members WHERE care_team_id = $1 ORDER BY user_id',
        [id],
      ),
      db.query<{ patient_id: string }>(
        'SELECT patient_id FROM care_team_patients WHERE care_team_id = $1 ORDER BY patient_id',
        [id],
      ),
    ]);
    return {
      id: t.id,
      name: t.name,
      createdAt: t.created_at,
      members: members.rows.map((r) => r.user_id),
      patients: patients.rows.map((r) => r.patient_id),
    };
  };

  return {
    async createCareTeam(name) {
      const id = randomUUID();
      await db.query('INSERT INTO care_teams (id, name, created_at) VALUES ($1, $2, now())', [id, name]);
      return (await careTeam(id)) as CareTeam;
    },
    careTeam: (id) => (/^[0-9a-f-]{36}$/i.test(id) ? careTeam(id) : Promise.resolve(undefined)),
    async careTeams() {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM care_teams ORDER BY created_at, id');
      return (await Promise.all(rows.map((r) => careTeam(r.id)))) as CareTeam[];
    },
    async setMembership(teamId, kind, id, present) {
      if (!(await careTeam(teamId)))
        throw new StoreError('not-found', `no care team ${teamId}`, 'careTeamId');
      const [table, column] =
        kind === 'member' ? ['care_team_members', 'user_id'] : ['care_team_patients', 'patient_id'];
      try {
        await db.query(
          present
            ? `INSERT INTO ${table} (care_team_id, ${column}, added_at) VALUES ($1, $2, now()) ON CONFLICT DO NOTHING`
            : `DELETE FROM ${table} WHERE care_team_id = $1 AND ${column} = $2`,
          [teamId, id],
        );
      } catch (e) {
        throw notFoundOr(e, `patient ${id}`);
      }
      return (await careTeam(teamId)) as CareTeam;
    },
    async patientsInCareOf(userId) {
      const { rows } = await db.query<{ patient_id: string }>(
        `SELECT DISTINCT p.patient_id FROM care_team_members m
           JOIN care_team_patients p ON p.care_team_id = m.care_team_id
          WHERE m.user_id = $1`,
        [userId],
      );
      return new Set(rows.map((r) => r.patient_id));
    },
    async careUsersOf(patientId) {
      const { rows } = await db.query<{ user_id: string }>(
        `SELECT DISTINCT m.user_id FROM care_team_patients p
           JOIN care_team_members m ON m.care_team_id = p.care_team_id
          WHERE p.patient_id = $1 ORDER BY m.user_id`,
        [patientId],
      );
      return rows.map((r) => r.user_id);
    },

    async grant(g) {
      try {
        const { rows } = await db.query<GrantRow>(
          `INSERT INTO caregiver_grants (id, patient_id, caregiver_user_id, categories, created_at, until)
           VALUES ($1, $2, $3, $4, now(), $5) RETURNING *`,
          [randomUUID(), g.patientId, g.caregiverUserId, g.categories ?? null, g.until ?? null],
        );
        return toGrant(rows[0]!);
      } catch (e) {
        throw notFoundOr(e, `patient ${g.patientId}`);
      }
    },
    async revokeGrant(id, patientId) {
      const { rows } = await db.query<GrantRow>(
        `UPDATE caregiver_grants SET revoked_at = coalesce(revoked_at, now())
          WHERE id::text = $1 AND patient_id = $2 RETURNING *`,
        [id, patientId],
      );
      if (!rows[0]) throw new StoreError('not-found', `no grant ${id} of this patient`, 'id');
      return toGrant(rows[0]);
    },
    async grantsOfCaregiver(userId) {
      const { rows } = await db.query<GrantRow>(
        `SELECT * FROM caregiver_grants WHERE caregiver_user_id = $1 AND revoked_at IS NULL ORDER BY created_at`,
        [userId],
      );
      return rows.map(toGrant);
    },
    async grantsOfPatient(patientId) {
      const { rows } = await db.query<GrantRow>(
        `SELECT * FROM caregiver_grants WHERE patient_id = $1 ORDER BY created_at`,
        [patientId],
      );
      return rows.map(toGrant);
    },

    async consent(patientId) {
      const { rows } = await db.query<{
        restrictions: ConsentState['restrictions'] | string;
        research_use: boolean;
        version: number;
        updated_at: string;
        updated_by: string;
      }>('SELECT * FROM consents WHERE patient_id = $1', [patientId]);
      const r = rows[0];
      if (!r) return undefined;
      return {
        patientId,
        restrictions: typeof r.restrictions === 'string' ? JSON.parse(r.restrictions) : r.restrictions,
        researchUse: r.research_use,
        version: Number(r.version),
        updatedAt: r.updated_at,
        updatedBy: r.updated_by,
      };
    },
    async putConsent(patientId, state, by, expectedVersion) {
      const current = await this.consent(patientId);
      if (expectedVersion !== undefined && (current?.version ?? 0) !== expectedVersion)
        throw new StoreError('conflict', `the consent changed since version ${expectedVersion}`, 'version');
      try {
        const { rows } = await db.query(
          `INSERT INTO consents (patient_id, restrictions, research_use, version, updated_at, updated_by)
           VALUES ($1, $2::text::jsonb, $3, 1, now(), $4)
           ON CONFLICT (patient_id) DO UPDATE
             SET restrictions = EXCLUDED.restrictions, research_use = EXCLUDED.research_use,
                 version = consents.version + 1, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
             WHERE consents.version = $5
           RETURNING version`,
          [patientId, JSON.stringify(state.restrictions), state.researchUse, by, current?.version ?? 0],
        );
        if (rows.length === 0)
          throw new StoreError('conflict', 'the consent changed at the same time; read it again', 'version');
      } catch (e) {
        throw notFoundOr(e, `patient ${patientId}`);
      }
      return (await this.consent(patientId)) as StoredConsent;
    },

    async openBreakGlass(b) {
      try {
        const { rows } = await db.query<BreakGlassRow>(
          `INSERT INTO break_glass (id, user_id, patient_id, reason, opened_at, until)
           VALUES ($1, $2, $3, $4, now(), now() + make_interval(mins => $5)) RETURNING *`,
          [randomUUID(), b.userId, b.patientId, b.reason, b.minutes],
        );
        return toBreakGlass(rows[0]!);
      } catch (e) {
        throw notFoundOr(e, `patient ${b.patientId}`);
      }
    },
    async breakGlassOf(userId, patientId, at) {
      const { rows } = await db.query<BreakGlassRow>(
        `SELECT * FROM break_glass
          WHERE user_id = $1 AND patient_id = $2 AND closed_at IS NULL AND opened_at <= $3 AND until > $3
          ORDER BY until DESC LIMIT 1`,
        [userId, patientId, at],
      );
      return rows[0] ? toBreakGlass(rows[0]) : undefined;
    },
    async breakGlassList(limit = 100) {
      const { rows } = await db.query<BreakGlassRow>(
        'SELECT * FROM break_glass ORDER BY opened_at DESC LIMIT $1',
        [limit],
      );
      return rows.map(toBreakGlass);
    },
  };
}
