/**
 * The patient portal: erasure requests (the patient asks, an administrator completes or rejects) and secure
 * messages between a patient and their care team.
 *
 * What a patient wrote is sealed under the patient's own data key (patient_keys, 005), exactly like their
 * identity: a message body, and the reason given for an erasure request. Erasure destroys that key, so both
 * become unreadable with it; the rows stay as pseudonymous metadata (who, when, read or not).
 * Sender user ids are not foreign keys: accounts live in `users` and are never deleted, only disabled.
 */
export const SCHEMA_008 = `
CREATE TABLE erasure_requests (
  id                 uuid PRIMARY KEY,
  patient_id         text NOT NULL REFERENCES patients (id),
  requested_by       text NOT NULL,
  requested_at       timestamptz(3) NOT NULL,
  reason_ciphertext  bytea,
  status             text NOT NULL CHECK (status IN ('pending', 'completed', 'rejected')),
  decided_at         timestamptz(3),
  decided_by         text,
  decision_reason    text,
  CONSTRAINT erasure_requests_decided CHECK ((status = 'pending') = (decided_at IS NULL))
);
-- One pending request per patient: asking again finds the one already waiting.
CREATE UNIQUE INDEX erasure_requests_one_pending ON erasure_requests (patient_id) WHERE status = 'pending';
CREATE INDEX erasure_requests_patient ON erasure_requests (patient_id, requested_at);
CREATE INDEX erasure_requests_page ON erasure_requests (requested_at, id);

CREATE TABLE messages (
  id               uuid PRIMARY KEY,
  patient_id       text NOT NULL REFERENCES patients (id),
  sender_user_id   uuid NOT NULL,
  sender_role      text NOT NULL CHECK (sender_role IN ('patient', 'caregiver', 'clinician', 'nurse')),
  body_ciphertext  bytea NOT NULL,
  sent_at          timestamptz(3) NOT NULL,
  read_at          timestamptz(3)
);
CREATE INDEX messages_patient_time ON messages (patient_id, sent_at, id);
CREATE INDEX messages_unread ON messages (patient_id) WHERE read_at IS NULL;
`;
