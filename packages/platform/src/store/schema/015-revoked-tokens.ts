/**
 * OAuth access tokens revoked one by one (RFC 7009, src/oauth/revoked-tokens.ts). Access tokens are JWTs and
 * are not stored; a revoked one is remembered by its `jti` until it would have expired anyway, then the row
 * is useless and is deleted at the next revocation.
 */
export const SCHEMA_015 = `
CREATE TABLE revoked_tokens (
  jti         text PRIMARY KEY,
  client_id   text NOT NULL,
  expires_at  timestamptz(3) NOT NULL,
  revoked_at  timestamptz(3) NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);
`;
