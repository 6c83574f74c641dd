/**
 * OAuth 2 / OpenID Connect (src/oauth/): the apps administrators registered, and what oidc-provider keeps
 * between requests (interactions, authorization codes, grants, refresh tokens, sessions), one row per
 * artifact. Access tokens are signed JWTs and are not stored; their grant is, so revoking it ends them.
 */
export const SCHEMA_010 = `
CREATE TABLE oauth_clients (
  id           text PRIMARY KEY,
  name         text NOT NULL,
  -- oidc-provider client metadata (redirect_uris, grant_types, scope, jwks, ...), without the secret.
  metadata     jsonb NOT NULL,
  -- Confidential clients with client_secret_basic: the secret, sealed under the master key (never plain).
  secret_sealed text,
  created_at   timestamptz(3) NOT NULL,
  disabled_at  timestamptz(3)
);
CREATE INDEX oauth_clients_page ON oauth_clients (created_at, id);

CREATE TABLE oauth_artifacts (
  model        text NOT NULL,
  id           text NOT NULL,
  payload      jsonb NOT NULL,
  grant_id     text,
  user_code    text,
  uid          text,
  expires_at   timestamptz(3),
  consumed_at  timestamptz(3),
  PRIMARY KEY (model, id)
);
CREATE INDEX oauth_artifacts_grant ON oauth_artifacts (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oauth_artifacts_uid ON oauth_artifacts (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX oauth_artifacts_user_code ON oauth_artifacts (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oauth_artifacts_expiry ON oauth_artifacts (expires_at) WHERE expires_at IS NOT NULL;
`;
