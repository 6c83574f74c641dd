/**
 * User accounts for people: roles, password hash, TOTP second factor, lockout state and the one-time set-up
 * token. Secrets never leave this repository in a `User`; only `UserRecord` (for the identity service) carries
 * the password hash and TOTP secret. Updates that must not race (consuming the set-up token, using a TOTP time
 * step, counting failures) are single conditional UPDATE statements.
 */
import { randomUUID } from 'node:crypto';
import type { Role } from '@openiomt/core';
import {
  CHECK_VIOLATION,
  compact,
  decodeCursor,
  FOREIGN_KEY_VIOLATION,
  isUuid,
  pageLimit,
  sqlState,
  toPage,
  UNIQUE_VIOLATION,
  Where,
} from './sql.ts';
import { type Database, type ListQuery, type Page, StoreError } from './types.ts';

/** An account as shown to administrators: no hashes, no secrets. */
export interface User {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly Role[];
  readonly patientId?: string;
  readonly displayName?: string;
  readonly createdAt: string;
  /** False until the person has used their set-up link. */
  readonly passwordSet: boolean;
  readonly passwordChangedAt?: string;
  readonly totpEnrolledAt?: string;
  readonly failedLogins: number;
  readonly lockedUntil?: string;
  /** When a set-up link is outstanding, until when it is valid. */
  readonly setupExpiresAt?: string;
  readonly disabledAt?: string;
}

/** An account as the people directory shows it: nothing else (no contact details, no sign-in state). */
export interface DirectoryEntry {
  readonly id: string;
  readonly username: string;
  readonly displayName?: string;
  readonly roles: readonly Role[];
}

/**
 * A directory search. `text` is lower case already (people-query.ts); an account matches when its
 * username or lower-cased display name contains it. Disabled accounts are never found.
 */
export interface PeopleSearch {
  readonly text: string;
  readonly limit: number;
  /** Accounts with any of these roles, found by part of their name. */
  readonly byName: readonly Role[];
  /** Accounts with any of these roles found by part of their name only among `ids`, else by exact username. */
  readonly among?: { readonly roles: readonly Role[]; readonly ids: readonly string[] };
}

/** What the identity service needs to check credentials. */
export interface UserRecord {
  readonly user: User;
  readonly passwordHash?: string;
  /** Confirmed or pending (enrolment started, not confirmed) TOTP secret, as stored. */
  readonly totpSecret?: string;
  readonly totpLastStep?: number;
}

/** Consecutive failures before a lockout, and how long lockouts last (doubling from base up to max). */
export interface LockoutPolicy {
  readonly threshold: number;
  readonly baseS: number;
  readonly maxS: number;
}

export interface UsersRepository {
  /** Creates an account without a password; the person sets it with the set-up token. */
  create(u: {
    username: string;
    roles: readonly Role[];
    patientId?: string;
    displayName?: string;
    setupTokenHash: string;
    setupExpiresAt: string;
    at: string;
  }): Promise<User>;
  get(id: string): Promise<User | undefined>;
  record(id: string): Promise<UserRecord | undefined>;
  /** By normalised username. */
  recordByUsername(username: string): Promise<UserRecord | undefined>;
  /** The enabled account whose set-up token hash this is and has not expired at `at`. */
  recordBySetupToken(tokenHash: string, at: string): Promise<UserRecord | undefined>;
  list(q?: ListQuery): Promise<Page<User>>;
  /** The people directory: enabled accounts matching `text`, as the asker's scope allows (see PeopleSearch). */
  searchPeople(q: PeopleSearch): Promise<DirectoryEntry[]>;
  /**
   * The people directory's lookup: the enabled accounts among `ids` with any of `roles`, in no particular
   * order. Ids that are no account (or not a UUID) are simply not there. Only narrows: which of them the
   * asker may see is core's directoryFinds().
   */
  peopleByIds(ids: readonly string[], roles: readonly Role[]): Promise<DirectoryEntry[]>;
  /** Sets the password and consumes the set-up token, if it is still valid at `at` (single use). */
  completeSetup(tokenHash: string, passwordHash: string, at: string): Promise<User | undefined>;
  /** Replaces a hash made with older parameters (same password). */
  rehashPassword(id: string, passwordHash: string): Promise<void>;
  /** A fresh set-up token (lost password); the old one stops working. */
  issueSetupToken(id: string, tokenHash: string, expiresAt: string): Promise<User>;
  /** Counts one more failure; at each multiple of the threshold the account locks, for longer each time. */
  recordFailure(
    id: string,
    at: string,
    policy: LockoutPolicy,
  ): Promise<{ failedLogins: number; lockedUntil?: string; lockedNow: boolean }>;
  clearFailures(id: string): Promise<void>;
  /** Stores a new, unconfirmed TOTP secret; refused (false) once a secret is confirmed. */
  startTotp(id: string, secret: string): Promise<boolean>;
  /** Confirms the pending secret with the time step of the first code. */
  confirmTotp(id: string, step: number, at: string): Promise<boolean>;
  /** Records a used time step; false when that step (or a later one) was used already: a replayed code. */
  useTotpStep(id: string, step: number): Promise<boolean>;
  /** Removes the second factor (lost authenticator); the person enrols again at next sign-in. */
  resetTotp(id: string): Promise<User>;
  disable(id: string, at: string): Promise<User>;
}

interface UserRow {
  id: string;
  username: string;
  password_hash: string | null;
  roles: Role[];
  patient_id: string | null;
  display_name: string | null;
  totp_secret: string | null;
  totp_enrolled_at: string | null;
  totp_last_step: number | null;
  failed_logins: number;
  locked_until: string | null;
  setup_expires_at: string | null;
  created_at: string;
  disabled_at: string | null;
  password_changed_at: string | null;
}

const COLUMNS = `id, username, password_hash, roles, patient_id, display_name, totp_secret, totp_enrolled_at,
  totp_last_step, failed_logins, locked_until, setup_expires_at, created_at, disabled_at, password_changed_at`;

const toUser = (r: UserRow): User =>
  compact({
    id: r.id,
    username: r.username,
    roles: r.roles,
    patientId: r.patient_id ?? undefined,
    displayName: r.display_name ?? undefined,
    createdAt: r.created_at,
    passwordSet: r.password_hash !== null,
    passwordChangedAt: r.password_changed_at ?? undefined,
    totpEnrolledAt: r.totp_enrolled_at ?? undefined,
    failedLogins: r.failed_logins,
    lockedUntil: r.locked_until ?? undefined,
    setupExpiresAt: r.setup_expires_at ?? undefined,
    disabledAt: r.disabled_at ?? undefined,
  });

const toRecord = (r: UserRow): UserRecord =>
  compact({
    user: toUser(r),
    passwordHash: r.password_hash ?? undefined,
    totpSecret: r.totp_secret ?? undefined,
    totpLastStep: r.totp_last_step ?? undefined,
  });

type DirectoryRow = Pick<UserRow, 'id' | 'username' | 'display_name' | 'roles'>;

const toDirectoryEntry = (r: DirectoryRow): DirectoryEntry =>
  compact({ id: r.id, username: r.username, displayName: r.display_name ?? undefined, roles: r.roles });

const notFound = (id: string) => new StoreError('not-found', `no user ${id}`, 'id');

export function usersRepository(db: Database): UsersRepository {
  const one = async (sql: string, params: readonly unknown[]): Promise<UserRow | undefined> =>
    (await db.query<UserRow>(sql, params)).rows[0];
  /** An UPDATE of one user by id that must find it. */
  const update = async (id: string, set: string, params: readonly unknown[]): Promise<User> => {
    if (!isUuid(id)) throw notFound(id);
    const row = await one(`UPDATE users SET ${set} WHERE id = $1 RETURNING ${COLUMNS}`, [id, ...params]);
    if (!row) throw notFound(id);
    return toUser(row);
  };

  return {
    async create(u) {
      try {
        const row = await one(
          `INSERT INTO users (id, username, roles, patient_id, display_name, setup_token_hash, setup_expires_at,
                              created_at)
           VALUES ($1, $2, $3::text[], $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
          [
            randomUUID(),
            u.username,
            [...u.roles],
            u.patientId ?? null,
            u.displayName ?? null,
            u.setupTokenHash,
            u.setupExpiresAt,
            u.at,
          ],
        );
        return toUser(row!);
      } catch (e) {
        const state = sqlState(e);
        if (state === UNIQUE_VIOLATION)
          throw new StoreError('conflict', `username ${u.username} is taken`, 'username');
        if (state === FOREIGN_KEY_VIOLATION)
          throw new StoreError('invalid', `no patient ${u.patientId}`, 'patientId');
        if (state === CHECK_VIOLATION) {
          const rule = String((e as { constraint?: unknown }).constraint ?? '');
          const field = rule.includes('username')
            ? 'username'
            : rule.includes('patient')
              ? 'patientId'
              : 'roles';
          throw new StoreError(
            'invalid',
            `the account breaks the database rule ${rule || 'on users'}`,
            field,
          );
        }
        throw e;
      }
    },

    async get(id) {
      if (!isUuid(id)) return undefined;
      const row = await one(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
      return row && toUser(row);
    },

    async record(id) {
      if (!isUuid(id)) return undefined;
      const row = await one(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
      return row && toRecord(row);
    },

    async recordByUsername(username) {
      const row = await one(`SELECT ${COLUMNS} FROM users WHERE username = $1`, [username]);
      return row && toRecord(row);
    },

    async recordBySetupToken(tokenHash, at) {
      const row = await one(
        `SELECT ${COLUMNS} FROM users
          WHERE setup_token_hash = $1 AND setup_expires_at > $2 AND disabled_at IS NULL`,
        [tokenHash, at],
      );
      return row && toRecord(row);
    },

    async list(q = {}) {
      const limit = pageLimit(q.limit);
      const where = new Where();
      if (q.cursor !== undefined) {
        const c = decodeCursor(q.cursor);
        if (!isUuid(c.id)) throw new StoreError('invalid', 'cursor is not one this server issued', 'cursor');
        where.after('created_at', 'id', c, 'asc', 'uuid');
      }
      const { rows } = await db.query<UserRow>(
        `SELECT ${COLUMNS} FROM users ${where} ORDER BY created_at, id LIMIT ${where.param(limit + 1)}`,
        where.params,
      );
      return toPage(rows, limit, toUser, (r) => ({ at: r.created_at, id: r.id }));
    },

    async searchPeople(q) {
      // strpos, not LIKE: the text needs no escaping of % and _. Names that begin with the text come first.
      const among = q.among ?? { roles: [], ids: [] };
      const { rows } = await db.query<DirectoryRow>(
        `WITH found AS (
           SELECT id, username, display_name, roles,
                  strpos(username, $1) > 0 OR strpos(lower(coalesce(display_name, '')), $1) > 0 AS contains,
                  strpos(username, $1) = 1 OR strpos(lower(coalesce(display_name, '')), $1) = 1 AS starts
             FROM users
            WHERE disabled_at IS NULL
              AND (roles && $2::text[] OR roles && $3::text[]))
         SELECT id, username, display_name, roles FROM found
          WHERE (roles && $2::text[] AND contains)
             OR (roles && $3::text[] AND ((id::text = ANY ($4::text[]) AND contains) OR username = $1))
          ORDER BY starts DESC, lower(coalesce(display_name, username)), username, id
          LIMIT $5`,
        [q.text, [...q.byName], [...among.roles], [...among.ids], q.limit],
      );
      return rows.map(toDirectoryEntry);
    },

    async peopleByIds(ids, roles) {
      const uuids = ids.filter(isUuid);
      if (uuids.length === 0 || roles.length === 0) return [];
      const { rows } = await db.query<DirectoryRow>(
        `SELECT id, username, display_name, roles FROM users
          WHERE id = ANY ($1::uuid[]) AND disabled_at IS NULL AND roles && $2::text[]`,
        [uuids, [...roles]],
      );
      return rows.map(toDirectoryEntry);
    },

    async completeSetup(tokenHash, passwordHash, at) {
      const row = await one(
        `UPDATE users SET password_hash = $2, password_changed_at = $3, setup_token_hash = NULL,
                          setup_expires_at = NULL, failed_logins = 0, locked_until = NULL
          WHERE setup_token_hash = $1 AND setup_expires_at > $3 AND disabled_at IS NULL
          RETURNING ${COLUMNS}`,
        [tokenHash, passwordHash, at],
      );
      return row && toUser(row);
    },

    async rehashPassword(id, passwordHash) {
      await db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [id, passwordHash]);
    },

    issueSetupToken: (id, tokenHash, expiresAt) =>
      update(id, 'setup_token_hash = $2, setup_expires_at = $3', [tokenHash, expiresAt]),

    async recordFailure(id, at, policy) {
      // Integer division: the n-th lockout (n = failures / threshold) lasts base * 2^(n-1), capped at max.
      const { rows } = await db.query<{
        failed_logins: number;
        locked_until: string | null;
        locked_now: boolean;
      }>(
        `UPDATE users SET
           failed_logins = failed_logins + 1,
           locked_until = CASE WHEN (failed_logins + 1) % $3 = 0
             THEN $2::timestamptz + make_interval(secs => LEAST($5::float8,
                    $4::float8 * power(2, LEAST((failed_logins + 1) / $3 - 1, 30))))
             ELSE locked_until END
         WHERE id = $1
         RETURNING failed_logins, locked_until, (failed_logins % $3 = 0) AS locked_now`,
        [id, at, policy.threshold, policy.baseS, policy.maxS],
      );
      const r = rows[0];
      if (!r) throw notFound(id);
      return compact({
        failedLogins: r.failed_logins,
        lockedUntil: r.locked_until ?? undefined,
        lockedNow: r.locked_now,
      }) as { failedLogins: number; lockedUntil?: string; lockedNow: boolean };
    },

    async clearFailures(id) {
      await db.query(
        'UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND failed_logins > 0',
        [id],
      );
    },

    async startTotp(id, secret) {
      const { rows } = await db.query(
        `UPDATE users SET totp_secret = $2, totp_last_step = NULL
          WHERE id = $1 AND totp_enrolled_at IS NULL RETURNING id`,
        [id, secret],
      );
      return rows.length === 1;
    },

    async confirmTotp(id, step, at) {
      const { rows } = await db.query(
        `UPDATE users SET totp_enrolled_at = $3, totp_last_step = $2
          WHERE id = $1 AND totp_enrolled_at IS NULL AND totp_secret IS NOT NULL RETURNING id`,
        [id, step, at],
      );
      return rows.length === 1;
    },

    async useTotpStep(id, step) {
      const { rows } = await db.query(
        `UPDATE users SET totp_last_step = $2
          WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING id`,
        [id, step],
      );
      return rows.length === 1;
    },

    resetTotp: (id) => update(id, 'totp_secret = NULL, totp_enrolled_at = NULL, totp_last_step = NULL', []),

    disable: (id, at) =>
      update(
        id,
        'disabled_at = COALESCE(disabled_at, $2), setup_token_hash = NULL, setup_expires_at = NULL',
        [at],
      ),
  };
}
