/**
 * Master-key rotation (docs/privacy.md). patient_keys.key_service already names, per row, the master key
 * that wrapped it. The secrets sealed under keys derived from the master key (TOTP secrets, OAuth client
 * secrets) carry no key id of their own: master_key_verifier names the master key they are all under (a
 * rotation re-seals them in the same transaction that updates it) and holds one random key wrapped by it,
 * so a start with another master key is refused however empty the database.
 */
export const SCHEMA_014 = `
CREATE TABLE master_key_verifier (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  key_service text NOT NULL,
  verifier    bytea NOT NULL,
  since       timestamptz(3) NOT NULL
);
`;
