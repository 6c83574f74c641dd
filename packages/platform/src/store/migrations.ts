/**
 * Versioned schema migrations, applied in order at start inside one transaction and recorded in
 * schema_migrations. A migration, once released, is never edited: changes come as a new entry.
 *
 * Conventions: text ids where the domain has its own ids (devices, patients), uuid made in JavaScript
 * (crypto.randomUUID) for rows the platform creates, timestamptz(3) everywhere so instants round-trip
 * exactly through JavaScript (millisecond precision).
 */
import { SCHEMA_004 } from './schema/004-audit-log.ts';
import { SCHEMA_005 } from './schema/005-patient-keys.ts';
import { SCHEMA_007 } from './schema/007-access.ts';
import { SCHEMA_008 } from './schema/008-portal.ts';
import { SCHEMA_009 } from './schema/009-trends.ts';
import { SCHEMA_010 } from './schema/010-oauth.ts';
import { SCHEMA_011 } from './schema/011-quarantine.ts';
import { SCHEMA_012 } from './schema/012-subscriptions.ts';
import { SCHEMA_013 } from './schema/013-passkeys.ts';
import { SCHEMA_014 } from './schema/014-key-rotation.ts';
import { SCHEMA_015 } from './schema/015-revoked-tokens.ts';
import { SCHEMA_016 } from './schema/016-sealed-delivery-secrets.ts';
import { SCHEMA_017 } from './schema/017-entered-observations.ts';
import { SCHEMA_018 } from './schema/018-readings-jws-uncompressed.ts';
import { SCHEMA_019 } from './schema/019-security-event-subsystem.ts';
import type { Database } from './types.ts';

export interface Migration {
  readonly id: string;
  readonly sql: string;
}

/** Any fixed 64-bit number; all processes migrating one database agree on it. */
const MIGRATION_LOCK_KEY = 7_112_026_001;

const SCHEMA_001 = `
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE patients (
  id            text PRIMARY KEY,
  identifier    text,
  display_name  text,
  created_at    timestamptz(3) NOT NULL
);
CREATE INDEX patients_page ON patients (created_at, id);

CREATE TABLE devices (
  id                    text PRIMARY KEY,
  kind                  text NOT NULL,
  model                 text,
  manufacturer          text,
  status                text NOT NULL CHECK (status IN ('registered', 'active', 'revoked')),
  expected_interval_s   integer NOT NULL CHECK (expected_interval_s > 0),
  enrolment_code_hash   bytea,
  enrolment_expires_at  timestamptz(3),
  created_at            timestamptz(3) NOT NULL,
  revoked_at            timestamptz(3),
  revoked_reason        text,
  last_seen_at          timestamptz(3),
  battery               double precision,
  firmware              text,
  -- Highest sequence number stored; battery/firmware only change with a reading above it.
  high_seq              bigint NOT NULL DEFAULT 0
);
CREATE INDEX devices_page ON devices (created_at, id);

CREATE TABLE device_keys (
  kid         text PRIMARY KEY,
  device_id   text NOT NULL REFERENCES devices (id),
  jwk         jsonb NOT NULL,
  created_at  timestamptz(3) NOT NULL,
  not_after   timestamptz(3),
  revoked_at  timestamptz(3)
);
CREATE INDEX device_keys_device ON device_keys (device_id);

-- Periods are [from_at, to_at): from inclusive, to exclusive, open while to_at is NULL. The exclusion
-- constraint makes the database itself refuse two periods of one device that overlap.
CREATE TABLE device_assignments (
  id          text PRIMARY KEY,
  device_id   text NOT NULL REFERENCES devices (id),
  patient_id  text NOT NULL REFERENCES patients (id),
  from_at     timestamptz(3) NOT NULL,
  to_at       timestamptz(3),
  created_at  timestamptz(3) NOT NULL,
  CONSTRAINT device_assignments_period CHECK (to_at IS NULL OR to_at > from_at),
  CONSTRAINT device_assignments_no_overlap
    EXCLUDE USING gist (device_id WITH =, tstzrange(from_at, to_at, '[)') WITH &&)
);
CREATE INDEX device_assignments_patient ON device_assignments (patient_id);

-- The hot path: no foreign keys here, the ingest pipeline has already resolved device and patient.
-- The signed message as received is the one stored truth; FHIR Observations and the Provenance are a pure,
-- deterministic view of it (core mapReading), derived on read. observations only indexes it for search.
CREATE TABLE readings (
  device_id    text NOT NULL,
  seq          bigint NOT NULL CHECK (seq > 0),
  patient_id   text NOT NULL,
  kid          text NOT NULL,
  ts           timestamptz(3) NOT NULL,
  received_at  timestamptz(3) NOT NULL,
  via          text NOT NULL CHECK (via IN ('mqtt', 'https')),
  jws          text NOT NULL,
  PRIMARY KEY (device_id, seq)
);

CREATE TABLE observations (
  id          uuid PRIMARY KEY,
  device_id   text NOT NULL,
  seq         bigint NOT NULL,
  patient_id  text NOT NULL,
  code        text NOT NULL,
  effective   timestamptz(3) NOT NULL
);
CREATE INDEX observations_patient_code_time ON observations (patient_id, code, effective);
CREATE INDEX observations_reading ON observations (device_id, seq);
-- Lists without a patient (FHIR search by date or device) page on this instead of sorting the table.
CREATE INDEX observations_time ON observations (effective, id);

CREATE TABLE dead_letters (
  id           uuid PRIMARY KEY,
  received_at  timestamptz(3) NOT NULL,
  via          text NOT NULL CHECK (via IN ('mqtt', 'https')),
  device_id    text,
  topic        text,
  reason       text NOT NULL,
  detail       text NOT NULL,
  field        text,
  payload      bytea NOT NULL
);
CREATE INDEX dead_letters_page ON dead_letters (received_at, id);
CREATE INDEX dead_letters_device ON dead_letters (device_id, received_at);

CREATE TABLE security_events (
  id         uuid PRIMARY KEY,
  at         timestamptz(3) NOT NULL,
  kind       text NOT NULL,
  device_id  text,
  source     text,
  detail     text NOT NULL
);
CREATE INDEX security_events_page ON security_events (at, id);
CREATE INDEX security_events_device ON security_events (device_id, at);

CREATE TABLE admin_credentials (
  name        text PRIMARY KEY,
  token_hash  text NOT NULL UNIQUE,
  created_at  timestamptz(3) NOT NULL
);
`;

/** HTTPS batch keys, so a retried batch is still recognised after a restart. */
const SCHEMA_002 = `
CREATE TABLE idempotency_keys (
  device_id   text NOT NULL,
  key         text NOT NULL,
  first_seen  timestamptz(3) NOT NULL,
  PRIMARY KEY (device_id, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (first_seen);
`;

/**
 * Clinical intelligence: alarms and every transition of them, the notifications they caused (FHIR
 * Communication), webhook subscriptions and their delivery outbox, per-patient alarm settings, and the
 * Observations the platform derives from waveforms (heart rate from ECG, ...).
 */
const SCHEMA_003 = `
CREATE TABLE alarms (
  id          uuid PRIMARY KEY,
  key         text NOT NULL,
  patient_id  text NOT NULL,
  condition   text NOT NULL,
  category    text NOT NULL CHECK (category IN ('physiological', 'technical')),
  priority    text NOT NULL CHECK (priority IN ('low', 'medium', 'high')),
  state       text NOT NULL CHECK (state IN ('active', 'acknowledged', 'resolved')),
  raised_at   timestamptz(3) NOT NULL,
  updated_at  timestamptz(3) NOT NULL,
  due_at      timestamptz(3),
  version     integer NOT NULL,
  doc         jsonb NOT NULL
);
-- At most one open alarm per patient and condition: the database enforces it, whatever the processes do.
CREATE UNIQUE INDEX alarms_one_open ON alarms (key) WHERE state <> 'resolved';
CREATE INDEX alarms_patient ON alarms (patient_id, raised_at);
CREATE INDEX alarms_page ON alarms (raised_at, id);
CREATE INDEX alarms_due ON alarms (due_at) WHERE due_at IS NOT NULL;

CREATE TABLE alarm_transitions (
  alarm_id    uuid NOT NULL REFERENCES alarms (id),
  n           integer NOT NULL,
  at          timestamptz(3) NOT NULL,
  event       text NOT NULL,
  actor       text NOT NULL,
  reason      text NOT NULL,
  from_state  text,
  to_state    text NOT NULL,
  PRIMARY KEY (alarm_id, n)
);

CREATE TABLE alarm_notifications (
  id          uuid PRIMARY KEY,
  alarm_id    uuid NOT NULL REFERENCES alarms (id),
  patient_id  text NOT NULL,
  at          timestamptz(3) NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('notify', 'remind', 'escalate')),
  priority    text NOT NULL,
  level       integer NOT NULL,
  assignee    text,
  reason      text NOT NULL
);
CREATE INDEX alarm_notifications_alarm ON alarm_notifications (alarm_id, at);
CREATE INDEX alarm_notifications_page ON alarm_notifications (at, id);

CREATE TABLE patient_alarm_settings (
  patient_id       text PRIMARY KEY REFERENCES patients (id),
  thresholds       jsonb NOT NULL,
  spo2_scale2      boolean NOT NULL DEFAULT false,
  updated_at       timestamptz(3) NOT NULL,
  updated_by       text NOT NULL
);

CREATE TABLE webhooks (
  id           uuid PRIMARY KEY,
  url          text NOT NULL,
  secret       text NOT NULL,
  patient_id   text,
  description  text,
  created_at   timestamptz(3) NOT NULL,
  disabled_at  timestamptz(3)
);

CREATE TABLE webhook_deliveries (
  id               uuid PRIMARY KEY,
  webhook_id       uuid NOT NULL REFERENCES webhooks (id),
  event_id         uuid NOT NULL,
  body             text NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz(3) NOT NULL,
  last_error       text,
  created_at       timestamptz(3) NOT NULL,
  updated_at       timestamptz(3) NOT NULL,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_page ON webhook_deliveries (created_at, id);

CREATE TABLE derived_observations (
  id          uuid PRIMARY KEY,
  patient_id  text NOT NULL,
  device_id   text NOT NULL,
  code        text NOT NULL,
  effective   timestamptz(3) NOT NULL,
  resource    jsonb NOT NULL,
  provenance  jsonb NOT NULL
);
CREATE INDEX derived_observations_patient_code_time ON derived_observations (patient_id, code, effective);
CREATE INDEX derived_observations_time ON derived_observations (effective, id);
`;

/**
 * Identity for people: user accounts (Argon2id password hashes, TOTP second factor, lockout state, a one-time
 * set-up token) and browser sessions. A session row is keyed by the SHA-256 of its token: the cookie holds
 * the token, the database only its hash, so a copy of the database does not let anyone sign in.
 */
const SCHEMA_006 = `
CREATE TABLE users (
  id                   uuid PRIMARY KEY,
  -- Stored normalised (NFKC, lower case): usernames are case-insensitive.
  username             text NOT NULL UNIQUE CHECK (username = lower(username) AND length(username) BETWEEN 3 AND 64),
  password_hash        text,
  roles                text[] NOT NULL CHECK (
                         cardinality(roles) > 0
                         AND roles <@ ARRAY['clinician', 'nurse', 'patient', 'caregiver', 'administrator', 'researcher']),
  patient_id           text REFERENCES patients (id),
  display_name         text,
  totp_secret          text,
  totp_enrolled_at     timestamptz(3),
  totp_last_step       bigint,
  failed_logins        integer NOT NULL DEFAULT 0,
  locked_until         timestamptz(3),
  setup_token_hash     text UNIQUE,
  setup_expires_at     timestamptz(3),
  created_at           timestamptz(3) NOT NULL,
  disabled_at          timestamptz(3),
  password_changed_at  timestamptz(3),
  -- A patient account is tied to its own compartment; no other account carries a patient id.
  CONSTRAINT users_patient_compartment CHECK ((patient_id IS NOT NULL) = ('patient' = ANY (roles)))
);
CREATE INDEX users_page ON users (created_at, id);

CREATE TABLE sessions (
  id                   text PRIMARY KEY,
  user_id              uuid NOT NULL REFERENCES users (id),
  created_at           timestamptz(3) NOT NULL,
  last_seen_at         timestamptz(3) NOT NULL,
  idle_expires_at      timestamptz(3) NOT NULL,
  absolute_expires_at  timestamptz(3) NOT NULL,
  mfa_at               timestamptz(3),
  revoked_at           timestamptz(3),
  user_agent           text,
  ip                   text
);
CREATE INDEX sessions_user_live ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expiry ON sessions (absolute_expires_at);
`;

export const MIGRATIONS: readonly Migration[] = [
  { id: '001-initial-schema', sql: SCHEMA_001 },
  { id: '002-idempotency-keys', sql: SCHEMA_002 },
  { id: '003-clinical', sql: SCHEMA_003 },
  { id: '004-audit-log', sql: SCHEMA_004 },
  { id: '005-patient-keys', sql: SCHEMA_005 },
  { id: '006-identity', sql: SCHEMA_006 },
  { id: '007-access', sql: SCHEMA_007 },
  { id: '008-portal', sql: SCHEMA_008 },
  { id: '009-trends', sql: SCHEMA_009 },
  { id: '010-oauth', sql: SCHEMA_010 },
  { id: '011-quarantine', sql: SCHEMA_011 },
  { id: '012-subscriptions', sql: SCHEMA_012 },
  { id: '013-passkeys', sql: SCHEMA_013 },
  { id: '014-key-rotation', sql: SCHEMA_014 },
  { id: '015-revoked-tokens', sql: SCHEMA_015 },
  { id: '016-sealed-delivery-secrets', sql: SCHEMA_016 },
  { id: '017-entered-observations', sql: SCHEMA_017 },
  { id: '018-readings-jws-uncompressed', sql: SCHEMA_018 },
  { id: '019-security-event-subsystem', sql: SCHEMA_019 },
];

/**
 * Applies the migrations not yet recorded, in order, in one transaction (all or nothing). On PostgreSQL a
 * transaction-scoped advisory lock makes a second process that starts at the same moment wait, then find
 * everything applied.
 */
export async function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<{ applied: string[] }> {
  return db.transaction(async (tx) => {
    if (db.kind === 'postgres')
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    // Created only when missing: an application role without DDL rights (docs/audit.md) starts on an
    // up-to-date schema, and CREATE ... IF NOT EXISTS would still need CREATE on the schema.
    const { rows: table } = await tx.query<{ t: string | null }>(
      `SELECT to_regclass('schema_migrations')::text AS t`,
    );
    if (table[0]?.t === null || table[0]?.t === undefined)
      await tx.query(
        `CREATE TABLE schema_migrations (
           id          text PRIMARY KEY,
           applied_at  timestamptz(3) NOT NULL DEFAULT now()
         )`,
      );
    const { rows } = await tx.query<{ id: string }>('SELECT id FROM schema_migrations');
    const done = new Set(rows.map((r) => r.id));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await runScript(tx, m.sql);
      await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
      applied.push(m.id);
    }
    return { applied };
  });
}

/** Runs a multi-statement script one statement at a time (the extended protocol takes one per call). */
async function runScript(tx: { query(sql: string): Promise<unknown> }, script: string): Promise<void> {
  for (const statement of splitStatements(script)) await tx.query(statement);
}

/** Splits on semicolons at line ends; migration scripts are written so that this is enough. */
export function splitStatements(script: string): string[] {
  return script
    .split(/;\s*$/m)
    .map((s) =>
      s
        .split('\n')
        .filter((line) => !line.trim().startsWith('--'))
        .join('\n')
        .trim(),
    )
    .filter((s) => s.length > 0);
}
