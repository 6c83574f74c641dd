/**
 * Passkeys (WebAuthn credentials) of people's accounts, and the challenges handed out for registering or
 * using one. A challenge is single-use (the verify step deletes it) and expires; it is bound to the session
 * that asked for it (registration) or to a short-lived cookie (anonymous sign-in). Only SHA-256 hashes of the
 * challenge and of the binding are kept, so a copy of this table answers nothing.
 */
export const SCHEMA_013 = `
CREATE TABLE passkeys (
  -- The credential id the authenticator chose, base64url.
  id             text PRIMARY KEY,
  user_id        uuid NOT NULL REFERENCES users (id),
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  -- COSE public key, base64url.
  public_key     text NOT NULL,
  -- The signature counter last seen; a response with a lower one (a cloned authenticator) is refused.
  sign_count     bigint NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
  transports     text[] NOT NULL DEFAULT '{}',
  device_type    text NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
  backed_up      boolean NOT NULL,
  -- The relying party id it was made for: a passkey is only ever accepted for that same name.
  rp_id          text NOT NULL,
  aaguid         text,
  created_at     timestamptz(3) NOT NULL,
  last_used_at   timestamptz(3)
);
CREATE INDEX passkeys_user ON passkeys (user_id, created_at);

CREATE TABLE passkey_challenges (
  -- SHA-256 (hex) of the challenge.
  id           text PRIMARY KEY,
  purpose      text NOT NULL CHECK (purpose IN ('register', 'login')),
  -- SHA-256 (hex) of what the challenge is bound to: the session id, or the sign-in cookie's token.
  binding      text NOT NULL,
  -- Registration: whose passkey it will be.
  user_id      uuid REFERENCES users (id),
  rp_id        text NOT NULL,
  origin       text NOT NULL,
  expires_at   timestamptz(3) NOT NULL
);
CREATE INDEX passkey_challenges_expiry ON passkey_challenges (expires_at);
`;
