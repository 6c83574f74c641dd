/**
 * The access tokens revoked one by one (RFC 7009), by `jti`, in revoked_tokens (migration 015): a row lives
 * until the token would have expired anyway; expired rows are deleted whenever a token is revoked.
 *
 * Every API request asks `isRevoked`, so answers are kept in memory. A revocation made in this process is
 * known here at once (this process wrote it). "Not revoked" is only trusted for NOT_REVOKED_TTL_MS, so that a
 * revocation made by another process on the same database takes effect within that time.
 */
import type { Database } from '../store/types.ts';

/** How long "not revoked" is believed before the table is asked again (revocations by other processes). */
export const NOT_REVOKED_TTL_MS = 5_000;
/** Tokens remembered as not revoked; the oldest are forgotten first (they are only asked about again). */
const NOT_REVOKED_MAX = 10_000;

export interface RevokedToken {
  readonly jti: string;
  readonly clientId: string;
  /** When the token expires, in milliseconds since the epoch (its `exp` × 1000). */
  readonly expiresAt: number;
}

export class RevokedTokens {
  /** jti → expiry (ms) of the tokens known to be revoked. */
  private readonly revoked = new Map<string, number>();
  /** jti → when the table last said it was not revoked (ms); insertion order is age order. */
  private readonly notRevoked = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records the revocation (again is harmless) and forgets revocations whose tokens have expired. */
  async revoke(token: RevokedToken): Promise<void> {
    const now = this.now();
    if (token.expiresAt <= now) return;
    await this.db.query(
      `INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (jti) DO NOTHING`,
      [token.jti, token.clientId, new Date(token.expiresAt).toISOString(), new Date(now).toISOString()],
    );
    this.revoked.set(token.jti, token.expiresAt);
    this.notRevoked.delete(token.jti);
    await this.db.query('DELETE FROM revoked_tokens WHERE expires_at < $1', [new Date(now).toISOString()]);
    for (const [jti, expiresAt] of this.revoked) if (expiresAt <= now) this.revoked.delete(jti);
  }

  async isRevoked(jti: string): Promise<boolean> {
    const now = this.now();
    const expiresAt = this.revoked.get(jti);
    if (expiresAt !== undefined) {
      if (expiresAt > now) return true;
      this.revoked.delete(jti);
    }
    const checkedAt = this.notRevoked.get(jti);
    if (checkedAt !== undefined && now - checkedAt < NOT_REVOKED_TTL_MS) return false;
    const { rows } = await this.db.query<{ expires_at: string }>(
      'SELECT expires_at FROM revoked_tokens WHERE jti = $1 AND expires_at > $2',
      [jti, new Date(now).toISOString()],
    );
    const row = rows[0];
    if (row !== undefined) {
      this.revoked.set(jti, Date.parse(row.expires_at));
      this.notRevoked.delete(jti);
      return true;
    }
    this.notRevoked.delete(jti);
    this.notRevoked.set(jti, now);
    if (this.notRevoked.size > NOT_REVOKED_MAX) {
      const oldest = this.notRevoked.keys().next().value;
      if (oldest !== undefined) this.notRevoked.delete(oldest);
    }
    return false;
  }
}
