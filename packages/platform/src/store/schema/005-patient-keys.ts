/**
 * Patient identity encrypted at rest (docs/privacy.md).
 *
 * patients.identity: one AES-256-GCM envelope of a JSON document (identifier, name, birth date, contact
 * details) under the patient's own data key. patients.identifier_index: HMAC-SHA256 of the identifier under
 * a key derived from the master key, for exact-match search without decrypting. patient_keys: the data key,
 * wrapped by the master key (key_service names which); erasure clears wrapped_key and sets destroyed_at,
 * leaving the row as the tombstone.
 *
 * The clear columns identifier and display_name stay for now: SQL cannot encrypt, so the store encrypts
 * any values left in them at start (patients.ts sealClearIdentities) and nulls them. The NOT VALID check
 * leaves those old rows alone until then, but refuses any new clear value from this migration on. A later
 * migration drops the two columns once every installation has started once with this one.
 */
export const SCHEMA_005 = `
ALTER TABLE patients ADD COLUMN identity bytea;
ALTER TABLE patients ADD COLUMN identifier_index bytea;
ALTER TABLE patients ADD COLUMN erased_at timestamptz(3);
ALTER TABLE patients ADD COLUMN erased_by text;
ALTER TABLE patients ADD COLUMN erasure_reason text;
ALTER TABLE patients ADD CONSTRAINT patients_no_clear_identity
  CHECK (identifier IS NULL AND display_name IS NULL) NOT VALID;
ALTER TABLE patients ADD CONSTRAINT patients_erased_has_no_identity
  CHECK (erased_at IS NULL OR (identity IS NULL AND identifier_index IS NULL));
CREATE INDEX patients_identifier_index ON patients (identifier_index) WHERE identifier_index IS NOT NULL;

CREATE TABLE patient_keys (
  patient_id    text PRIMARY KEY REFERENCES patients (id),
  wrapped_key   bytea,
  key_service   text NOT NULL,
  created_at    timestamptz(3) NOT NULL,
  destroyed_at  timestamptz(3),
  CONSTRAINT patient_keys_destroyed CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
);
`;
