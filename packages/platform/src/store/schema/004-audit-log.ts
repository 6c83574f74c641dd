/**
 * The audit log (docs/audit.md). Every access to patient data inserts an audit_events row (and its
 * audit_unsequenced marker) in the transaction of the access. The sequencer later gives each committed
 * event the next leaf index of an RFC 9162 Merkle tree (audit_leaves) and signs the new tree head
 * (audit_tree_heads); audit_events itself is never updated.
 *
 * audit_events, audit_leaves and audit_tree_heads are append-only: a trigger refuses UPDATE, DELETE and
 * TRUNCATE for every role (PGlite included), and no role gets those rights from PUBLIC. Only
 * audit_unsequenced loses rows: the sequencer deletes a marker when the event has its leaf. Trigger
 * function bodies are written on one line: migrations are split into statements at semicolons that end
 * a line.
 */
export const SCHEMA_004 = `
CREATE TABLE audit_events (
  id             uuid PRIMARY KEY,
  at             timestamptz(3) NOT NULL,
  actor          text NOT NULL,
  actor_role     text,
  action         text NOT NULL CHECK (action ~ '^[a-z][a-z-]{0,31}$'),
  resource_type  text,
  resource_id    text,
  patient_id     text,
  outcome        text NOT NULL CHECK (outcome IN ('success', 'denied', 'error')),
  reason         text,
  source         text,
  detail         jsonb
);
CREATE INDEX audit_events_page ON audit_events (at, id);
CREATE INDEX audit_events_patient ON audit_events (patient_id, at, id) WHERE patient_id IS NOT NULL;
CREATE INDEX audit_events_actor ON audit_events (actor, at, id);

CREATE TABLE audit_unsequenced (
  event_id  uuid PRIMARY KEY
);

CREATE TABLE audit_leaves (
  leaf_index  bigint PRIMARY KEY CHECK (leaf_index >= 0),
  event_id    uuid NOT NULL UNIQUE,
  leaf_hash   bytea NOT NULL CHECK (octet_length(leaf_hash) = 32)
);

-- frontier: the roots of the complete subtrees of the tree (32 bytes each, largest first), so the next
-- tree head is computed from this row and the new leaves alone.
CREATE TABLE audit_tree_heads (
  tree_size  bigint PRIMARY KEY CHECK (tree_size > 0),
  root_hash  bytea NOT NULL CHECK (octet_length(root_hash) = 32),
  signed_at  timestamptz(3) NOT NULL,
  key_id     text NOT NULL,
  signature  bytea NOT NULL,
  frontier   bytea NOT NULL
);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = '42501'; END $$;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_leaves_append_only BEFORE UPDATE OR DELETE ON audit_leaves
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_leaves_no_truncate BEFORE TRUNCATE ON audit_leaves
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_tree_heads_append_only BEFORE UPDATE OR DELETE ON audit_tree_heads
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_tree_heads_no_truncate BEFORE TRUNCATE ON audit_tree_heads
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, audit_leaves, audit_tree_heads FROM PUBLIC;
`;
