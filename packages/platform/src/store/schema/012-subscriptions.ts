/**
 * FHIR R4 Subscriptions (src/subscriptions/): what their owners asked to be told about, and the outbox of
 * rest-hook notifications. The owner is kept as the subject who created the subscription (kind, id, and
 * the roles/scopes they had), so that every delivery is decided again, at delivery time, with the policy.
 * The deliveries have the same lifecycle as webhook_deliveries (pending, delivered, dead) and are sent by
 * the same deliverer; each carries the patient and data category it discloses, for that check.
 */
export const SCHEMA_012 = `
CREATE TABLE fhir_subscriptions (
  id            uuid PRIMARY KEY,
  owner_kind    text NOT NULL CHECK (owner_kind IN ('user', 'service')),
  owner_id      text NOT NULL,
  -- roles, patientId, scopes and mfa of the subject when it subscribed (users are re-read at delivery).
  owner         jsonb NOT NULL,
  status        text NOT NULL CHECK (status IN ('requested', 'active', 'error', 'off')),
  error         text,
  criteria      text NOT NULL,
  -- The patient every match must be about: the criteria's, or a patient owner's own compartment.
  patient_id    text,
  reason        text NOT NULL,
  end_at        timestamptz(3),
  channel_type  text NOT NULL CHECK (channel_type IN ('rest-hook', 'websocket')),
  endpoint      text,
  headers       jsonb NOT NULL DEFAULT '[]',
  payload       text,
  content       text NOT NULL CHECK (content IN ('empty', 'id-only', 'full-resource')),
  secret        text,
  events        bigint NOT NULL DEFAULT 0,
  created_at    timestamptz(3) NOT NULL,
  updated_at    timestamptz(3) NOT NULL
);
CREATE INDEX fhir_subscriptions_owner ON fhir_subscriptions (owner_kind, owner_id, created_at);
CREATE INDEX fhir_subscriptions_active ON fhir_subscriptions (status) WHERE status = 'active';

CREATE TABLE fhir_subscription_deliveries (
  id               uuid PRIMARY KEY,
  subscription_id  uuid NOT NULL REFERENCES fhir_subscriptions (id),
  event_id         uuid NOT NULL,
  patient_id       text NOT NULL,
  category         text NOT NULL,
  body             text NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz(3) NOT NULL,
  last_error       text,
  created_at       timestamptz(3) NOT NULL,
  updated_at       timestamptz(3) NOT NULL,
  UNIQUE (subscription_id, event_id)
);
CREATE INDEX fhir_subscription_deliveries_due ON fhir_subscription_deliveries (next_attempt_at)
  WHERE status = 'pending';
`;
