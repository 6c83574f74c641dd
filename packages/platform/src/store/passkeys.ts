/**
 * Passkeys (WebAuthn credentials) and their pending challenges (schema 013). The updates that must not race
 * are single statements: a challenge is taken with one DELETE … RETURNING (so it works once, even for two
 * requests at the same instant), and the signature counter only moves forward in one conditional UPDATE.
 */
import { compact, isUuid, sqlState, UNIQUE_VIOLATION } from './sql.ts';
import { type Database, StoreError } from './types.ts';

export type PasskeyDeviceType = 'singleDevice' | 'multiDevice';

/** A passkey as its owner sees it in the list. */
export interface PasskeySummary {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly lastUsedAt?: string;
  /** Synced (multi-device) passkey, and whether it is backed up now. */
  readonly deviceType: PasskeyDeviceType;
  readonly backedUp: boolean;
}

/** What verifying a response needs besides the summary. */
export interface Passkey extends PasskeySummary {
  readonly userId: string;
  /** COSE public key, base64url. */
  readonly publicKey: string;
  readonly signCount: number;
  readonly transports: readonly string[];
  readonly rpId: string;
  readonly aaguid?: string;
}

export interface PasskeyChallenge {
  /** SHA-256 (hex) of the challenge. */
  readonly id: string;
  readonly purpose: 'register' | 'login';
  /** SHA-256 (hex) of the session id or sign-in cookie token it is bound to. */
  readonly binding: string;
  readonly userId?: string;
  readonly rpId: string;
  readonly origin: string;
  readonly expiresAt: string;
}

export interface PasskeysRepository {
  add(p: Omit<Passkey, 'lastUsedAt'>): Promise<Passkey>;
  get(id: string): Promise<Passkey | undefined>;
  listOf(userId: string): Promise<PasskeySummary[]>;
  /** Ids only, for excludeCredentials when registering another one. */
  idsOf(userId: string): Promise<{ id: string; transports: string[] }[]>;
  /** Removes one of the person's passkeys; false when they have none with that id. */
  remove(userId: string, id: string): Promise<boolean>;
  removeAllOf(userId: string): Promise<number>;
  /**
   * Records a use: the new counter, the backup state, when. False when the stored counter is already at or
   * past `signCount` (a replay or a cloned authenticator); counters that stay 0 (synced passkeys) pass.
   */
  recordUse(id: string, signCount: number, backedUp: boolean, at: string): Promise<boolean>;
  addChallenge(c: PasskeyChallenge): Promise<void>;
  /** Takes (deletes) the live challenge with this id, purpose and binding; undefined when there is none. */
  takeChallenge(
    id: string,
    purpose: PasskeyChallenge['purpose'],
    binding: string,
    at: string,
  ): Promise<PasskeyChallenge | undefined>;
  /** Deletes challenges that expired before `before`. */
  pruneChallenges(before: string): Promise<number>;
}

interface PasskeyRow {
  id: string;
  user_id: string;
  name: string;
  public_key: string;
  sign_count: string | number;
  transports: string[];
  device_type: PasskeyDeviceType;
  backed_up: boolean;
  rp_id: string;
  aaguid: string | null;
  created_at: string;
  last_used_at: string | null;
}

const COLUMNS = `id, user_id, name, public_key, sign_count, transports, device_type, backed_up, rp_id, aaguid,
  created_at, last_used_at`;

const toSummary = (r: PasskeyRow): PasskeySummary =>
  compact({
    id: r.id,
    name: r.name,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at ?? undefined,
    deviceType: r.device_type,
    backedUp: r.backed_up,
  });

const toPasskey = (r: PasskeyRow): Passkey =>
  compact({
    ...toSummary(r),
    userId: r.user_id,
    publicKey: r.public_key,
    signCount: Number(r.sign_count),
    transports: r.transports,
    rpId: r.rp_id,
    aaguid: r.aaguid ?? undefined,
  }) as Passkey;

interface ChallengeRow {
  id: string;
  purpose: 'register' | 'login';
  binding: string;
  user_id: string | null;
  rp_id: string;
  origin: string;
  expires_at: string;
}

/** Credential ids are base64url; anything else is not one of ours (and never reaches SQL as a surprise). */
const CREDENTIAL_ID = /^[A-Za-z0-9_-]{1,1400}$/;

export function passkeysRepository(db: Database): PasskeysRepository {
  return {
    async add(p) {
      try {
        const { rows } = await db.query<PasskeyRow>(
          `INSERT INTO passkeys (id, user_id, name, public_key, sign_count, transports, device_type, backed_up,
                                 rp_id, aaguid, created_at)
           VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
          [
            p.id,
            p.userId,
            p.name,
            p.publicKey,
            p.signCount,
            [...p.transports],
            p.deviceType,
            p.backedUp,
            p.rpId,
            p.aaguid ?? null,
            p.createdAt,
          ],
        );
        return toPasskey(rows[0] as PasskeyRow);
      } catch (e) {
        if (sqlState(e) === UNIQUE_VIOLATION)
          throw new StoreError('conflict', 'this passkey is registered already', 'response');
        throw e;
      }
    },

    async get(id) {
      if (!CREDENTIAL_ID.test(id)) return undefined;
      const { rows } = await db.query<PasskeyRow>(`SELECT ${COLUMNS} FROM passkeys WHERE id = $1`, [id]);
      return rows[0] && toPasskey(rows[0]);
    },

    async listOf(userId) {
      if (!isUuid(userId)) return [];
      const { rows } = await db.query<PasskeyRow>(
        `SELECT ${COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id`,
        [userId],
      );
      return rows.map(toSummary);
    },

    async idsOf(userId) {
      if (!isUuid(userId)) return [];
      const { rows } = await db.query<{ id: string; transports: string[] }>(
        'SELECT id, transports FROM passkeys WHERE user_id = $1 ORDER BY created_at, id',
        [userId],
      );
      return rows;
    },

    async remove(userId, id) {
      if (!isUuid(userId) || !CREDENTIAL_ID.test(id)) return false;
      const { rows } = await db.query('DELETE FROM passkeys WHERE user_id = $1 AND id = $2 RETURNING id', [
        userId,
        id,
      ]);
      return rows.length === 1;
    },

    async removeAllOf(userId) {
      if (!isUuid(userId)) return 0;
      const { rows } = await db.query('DELETE FROM passkeys WHERE user_id = $1 RETURNING id', [userId]);
      return rows.length;
    },

    async recordUse(id, signCount, backedUp, at) {
      const { rows } = await db.query(
        `UPDATE passkeys SET sign_count = $2, backed_up = $3, last_used_at = $4
          WHERE id = $1 AND (sign_count < $2 OR ($2 = 0 AND sign_count = 0)) RETURNING id`,
        [id, signCount, backedUp, at],
      );
      return rows.length === 1;
    },

    async addChallenge(c) {
      await db.query(
        `INSERT INTO passkey_challenges (id, purpose, binding, user_id, rp_id, origin, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [c.id, c.purpose, c.binding, c.userId ?? null, c.rpId, c.origin, c.expiresAt],
      );
    },

    async takeChallenge(id, purpose, binding, at) {
      const { rows } = await db.query<ChallengeRow>(
        `DELETE FROM passkey_challenges WHERE id = $1 AND purpose = $2 AND binding = $3 AND expires_at > $4
         RETURNING id, purpose, binding, user_id, rp_id, origin, expires_at`,
        [id, purpose, binding, at],
      );
      const r = rows[0];
      return (
        r &&
        compact({
          id: r.id,
          purpose: r.purpose,
          binding: r.binding,
          userId: r.user_id ?? undefined,
          rpId: r.rp_id,
          origin: r.origin,
          expiresAt: r.expires_at,
        })
      );
    },

    async pruneChallenges(before) {
      const { rows } = await db.query('DELETE FROM passkey_challenges WHERE expires_at < $1 RETURNING id', [
        before,
      ]);
      return rows.length;
    },
  };
}
