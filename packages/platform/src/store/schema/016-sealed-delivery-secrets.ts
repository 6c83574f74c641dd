/**
 * The signing secrets of webhooks and of FHIR rest-hook Subscriptions, and a rest-hook's own headers (which
 * may carry a bearer token), sealed at rest under a key derived from the master key (identity/
 * secret-sealer.ts, deliverySecretSealer): `secret_sealed` and `headers_sealed` hold base64 AES-256-GCM
 * envelopes bound to the row. SQL has no master key, so rows written by an older version keep their clear
 * values until the start-up step after the migrations (store/delivery-secrets.ts) seals them and sets the
 * clear columns to NULL. From then on `webhooks.secret`, `fhir_subscriptions.secret` and
 * `fhir_subscriptions.headers` are legacy columns, always NULL, never read.
 */
export const SCHEMA_016 = `
ALTER TABLE webhooks ADD COLUMN secret_sealed text;
ALTER TABLE webhooks ALTER COLUMN secret DROP NOT NULL;
ALTER TABLE fhir_subscriptions ADD COLUMN secret_sealed text;
ALTER TABLE fhir_subscriptions ADD COLUMN headers_sealed text;
ALTER TABLE fhir_subscriptions ALTER COLUMN headers DROP NOT NULL;
ALTER TABLE fhir_subscriptions ALTER COLUMN headers DROP DEFAULT;
`;
