/**
 * Browser sessions. The row id is the SHA-256 (hex) of the session token; the token itself only ever exists
 * in the person's cookie. Expiry is decided by the identity service against its clock; this repository keeps
 * the instants and revokes.
 */
import { compact } from './sql.ts';
import type { Database } from './types.ts';

export interface Session {
  /** SHA-256 of the token, hex. */
  readonly id: string;
  readonly userId: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly idleExpiresAt: string;
  readonly absoluteExpiresAt: string;
  /** When the second factor was passed in this session. */
  readonly mfaAt?: string;
  readonly revokedAt?: string;
  readonly userAgent?: string;
  readonly ip?: string;
}

export interface SessionsRepository {
  create(s: Omit<Session, 'revokedAt' | 'lastSeenAt'>): Promise<Session>;
  get(id: string): Promise<Session | undefined>;
  /** Slides the idle expiry (never past the absolute one: the caller computes it). */
  touch(id: string, at: string, idleExpiresAt: string): Promise<void>;
  /** Revokes one session; false when it was not live. */
  revoke(id: string, at: string): Promise<boolean>;
  /** Revokes every live session of the user; returns how many. */
  revokeAllOf(userId: string, at: string): Promise<number>;
  /** Deletes sessions that ended (expired or revoked) before `before`; returns how many. */
  prune(before: string): Promise<number>;
}

interface SessionRow {
  id: string;
  user_id: string;
  created_at: string;
  last_seen_at: string;
  idle_expires_at: string;
  absolute_expires_at: string;
  mfa_at: string | null;
  revoked_at: string | null;
  user_agent: string | null;
  ip: string | null;
}

const COLUMNS =
  'id, user_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, mfa_at, revoked_at, user_agent, ip';

const toSession = (r: SessionRow): Session =>
  compact({
    id: r.id,
    userId: r.user_id,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    idleExpiresAt: r.idle_expires_at,
    absoluteExpiresAt: r.absolute_expires_at,
    mfaAt: r.mfa_at ?? undefined,
    revokedAt: r.revoked_at ?? undefined,
    userAgent: r.user_agent ?? undefined,
    ip: r.ip ?? undefined,
  });

const SESSION_ID = /^[0-9a-f]{64}$/;

export function sessionsRepository(db: Database): SessionsRepository {
  return {
    async create(s) {
      const { rows } = await db.query<SessionRow>(
        `INSERT INTO sessions (id, user_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at,
                               mfa_at, user_agent, ip)
         VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
        [
          s.id,
          s.userId,
          s.createdAt,
          s.idleExpiresAt,
          s.absoluteExpiresAt,
          s.mfaAt ?? null,
          s.userAgent?.slice(0, 256) ?? null,
          s.ip ?? null,
        ],
      );
      return toSession(rows[0]!);
    },

    async get(id) {
      if (!SESSION_ID.test(id)) return undefined;
      const { rows } = await db.query<SessionRow>(`SELECT ${COLUMNS} FROM sessions WHERE id = $1`, [id]);
      return rows[0] && toSession(rows[0]);
    },

    async touch(id, at, idleExpiresAt) {
      await db.query(
        'UPDATE sessions SET last_seen_at = $2, idle_expires_at = $3 WHERE id = $1 AND revoked_at IS NULL',
        [id, at, idleExpiresAt],
      );
    },

    async revoke(id, at) {
      const { rows } = await db.query(
        'UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id',
        [id, at],
      );
      return rows.length === 1;
    },

    async revokeAllOf(userId, at) {
      const { rows } = await db.query(
        'UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL RETURNING id',
        [userId, at],
      );
      return rows.length;
    },

    async prune(before) {
      const { rows } = await db.query(
        `DELETE FROM sessions
          WHERE absolute_expires_at < $1 OR idle_expires_at < $1 OR revoked_at < $1 RETURNING id`,
        [before],
      );
      return rows.length;
    },
  };
}
