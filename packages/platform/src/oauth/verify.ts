/**
 * Access tokens at our API: a Bearer JWT that the authorization server (src/oauth/) signed is checked here
 * by hand, against the server's own public keys, with no trust in the token's header beyond picking the key:
 * only EdDSA (no `none`, no HMAC), type at+jwt (an ID token is not an access token), our issuer, the FHIR
 * base as audience, not expired, not revoked on its own (RFC 7009, by its `jti`); the client still registered
 * and enabled; a person's token still backed by its grant in the store (revoking the refresh token or the
 * grant ends it at once). The Subject is the service (client credentials) or the person (their roles and
 * patient) with the token's scopes.
 */
import { type KeyObject, verify as verifySignature } from 'node:crypto';
import { isStaff, type Subject } from '@openiomt/core';
import type { Database, Store } from '../store/types.ts';
import { StoreAdapter } from './adapter.ts';
import type { OAuthClients } from './clients.ts';
import { TOKEN_ALG } from './keys.ts';
import { RevokedTokens } from './revoked-tokens.ts';
import { splitScope } from './scopes.ts';

/** The claim that carries the grant a person's token belongs to (added by the JWT customizer). */
export const GRANT_CLAIM = 'grant_id';

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export const looksLikeJwt = (token: string): boolean => token.length < 8192 && JWT.test(token);

export interface TokenVerifierDeps {
  readonly publicKeys: ReadonlyMap<string, KeyObject>;
  readonly db: Database;
  readonly users: Store['users'];
  readonly clients: OAuthClients;
  readonly requireMfaForStaff: boolean;
  readonly now?: () => number;
}

export type TokenCheck = { ok: true; subject: Subject } | { ok: false; reason: string };

/** What revoking a JWT access token did (RFC 7009). */
export type Revocation = 'revoked' | 'not-our-token' | 'another-client';

type Signed = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string };

export class AccessTokenVerifier {
  private issuer: string | undefined;
  private audience: string | undefined;
  private readonly grants: StoreAdapter;
  private readonly revoked: RevokedTokens;

  constructor(private readonly deps: TokenVerifierDeps) {
    this.grants = new StoreAdapter(deps.db, 'Grant', deps.now);
    this.revoked = new RevokedTokens(deps.db, deps.now);
  }

  /** Known once the server listens: `<httpUrl>/oauth` and `<httpUrl>/fhir/R4`. */
  setEndpoints(issuer: string, audience: string): void {
    this.issuer = issuer;
    this.audience = audience;
  }

  async verify(token: string): Promise<TokenCheck> {
    const fail = (reason: string): TokenCheck => ({ ok: false, reason });
    const signed = this.signed(token);
    if (!signed.ok) return signed;
    const { claims } = signed;
    const now = this.nowS();
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (aud.length !== 1 || aud[0] !== this.audience) return fail('wrong audience');
    if (typeof claims.exp !== 'number' || claims.exp <= now) return fail('expired');
    if (typeof claims.iat === 'number' && claims.iat > now + 60) return fail('issued in the future');
    // oidc-provider gives every access token a jti; without one a token could not be revoked.
    if (typeof claims.jti !== 'string' || claims.jti === '') return fail('the token has no jti');
    if (await this.revoked.isRevoked(claims.jti)) return fail('the token was revoked');
    const clientId = claims.client_id;
    if (typeof clientId !== 'string' || !(await this.deps.clients.isActive(clientId)))
      return fail('the client is not registered or was disabled');
    const scopes = splitScope(typeof claims.scope === 'string' ? claims.scope : '');
    const grantId = claims[GRANT_CLAIM];
    if (grantId === undefined) {
      // Client credentials: a backend service acting with its system scopes only.
      if (claims.sub !== clientId) return fail('a token without a grant must be the client itself');
      return {
        ok: true,
        subject: {
          kind: 'service',
          userId: `client:${clientId}`,
          roles: [],
          mfa: true,
          scopes: scopes.filter((x) => x.startsWith('system/')),
        },
      };
    }
    if (typeof grantId !== 'string' || typeof claims.sub !== 'string') return fail('malformed grant');
    const grant = await this.grants.find(grantId);
    if (!grant || grant.accountId !== claims.sub || grant.clientId !== clientId)
      return fail('the grant was revoked');
    const user = UUID.test(claims.sub) ? await this.deps.users.get(claims.sub) : undefined;
    if (!user || user.disabledAt !== undefined) return fail('the account is disabled');
    const mfa = user.totpEnrolledAt !== undefined || !(this.deps.requireMfaForStaff && isStaff(user.roles));
    return {
      ok: true,
      subject: {
        kind: 'user',
        userId: user.id,
        roles: user.roles,
        ...(user.patientId !== undefined ? { patientId: user.patientId } : {}),
        mfa,
        // system/ scopes grant a person nothing (core policy), but they are kept as given.
        scopes,
      },
    };
  }

  /**
   * RFC 7009 for our JWT access tokens, for the client the authorization server has authenticated: the
   * token's jti is refused from now until the token's expiry. Only a token that we signed (our keys, our
   * issuer, an access token), not yet expired, with a jti, counts; anything else is `not-our-token`.
   */
  async revoke(token: string, clientId: string): Promise<Revocation> {
    if (!looksLikeJwt(token)) return 'not-our-token';
    const signed = this.signed(token);
    if (!signed.ok) return 'not-our-token';
    const { jti, exp, client_id: owner } = signed.claims;
    if (typeof jti !== 'string' || jti === '' || typeof exp !== 'number' || exp <= this.nowS())
      return 'not-our-token';
    if (owner !== clientId) return 'another-client';
    await this.revoked.revoke({ jti, clientId, expiresAt: exp * 1000 });
    return 'revoked';
  }

  /** The claims of a token this authorization server signed as an access token, or why not. */
  private signed(token: string): Signed {
    const fail = (reason: string): Signed => ({ ok: false, reason });
    if (this.issuer === undefined) return fail('the authorization server is not started');
    const [h, p, s] = token.split('.') as [string, string, string];
    const header = decodeJson(h);
    const claims = decodeJson(p);
    if (!header || !claims) return fail('not a JWT');
    if (header.alg !== TOKEN_ALG) return fail(`algorithm ${String(header.alg)} is not accepted`);
    if (header.typ !== 'at+jwt') return fail('not an access token (typ)');
    const key = typeof header.kid === 'string' ? this.deps.publicKeys.get(header.kid) : undefined;
    if (!key) return fail('unknown signing key');
    const signature = Buffer.from(s ?? '', 'base64url');
    if (signature.length !== 64 || !verifySignature(null, Buffer.from(`${h}.${p}`), key, signature))
      return fail('bad signature');
    if (claims.iss !== this.issuer) return fail('wrong issuer');
    return { ok: true, claims };
  }

  private nowS(): number {
    return Math.floor((this.deps.now ?? Date.now)() / 1000);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
