/**
 * Who may see whom: care teams (members and patients), caregiver grants, each patient's consent, and
 * break-glass openings. The authorization policy (core/access/policy.ts) decides from these facts.
 * User ids are not foreign keys here: accounts live in `users` (006-identity) and are never deleted, only
 * disabled.
 */
export const SCHEMA_007 = `
CREATE TABLE care_teams (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz(3) NOT NULL
);

CREATE TABLE care_team_members (
  care_team_id  uuid NOT NULL REFERENCES care_teams (id),
  user_id       text NOT NULL,
  added_at      timestamptz(3) NOT NULL,
  PRIMARY KEY (care_team_id, user_id)
);
CREATE INDEX care_team_members_user ON care_team_members (user_id);

CREATE TABLE care_team_patients (
  care_team_id  uuid NOT NULL REFERENCES care_teams (id),
  patient_id    text NOT NULL REFERENCES patients (id),
  added_at      timestamptz(3) NOT NULL,
  PRIMARY KEY (care_team_id, patient_id)
);
CREATE INDEX care_team_patients_patient ON care_team_patients (patient_id);

CREATE TABLE caregiver_grants (
  id                 uuid PRIMARY KEY,
  patient_id         text NOT NULL REFERENCES patients (id),
  caregiver_user_id  text NOT NULL,
  categories         text[],
  created_at         timestamptz(3) NOT NULL,
  until              timestamptz(3),
  revoked_at         timestamptz(3)
);
CREATE INDEX caregiver_grants_caregiver ON caregiver_grants (caregiver_user_id);

CREATE TABLE consents (
  patient_id    text PRIMARY KEY REFERENCES patients (id),
  restrictions  jsonb NOT NULL,
  research_use  boolean NOT NULL,
  version       integer NOT NULL,
  updated_at    timestamptz(3) NOT NULL,
  updated_by    text NOT NULL
);

CREATE TABLE break_glass (
  id          uuid PRIMARY KEY,
  user_id     text NOT NULL,
  patient_id  text NOT NULL REFERENCES patients (id),
  reason      text NOT NULL CHECK (length(reason) >= 10),
  opened_at   timestamptz(3) NOT NULL,
  until       timestamptz(3) NOT NULL,
  closed_at   timestamptz(3),
  CONSTRAINT break_glass_time_box CHECK (until > opened_at AND until <= opened_at + interval '4 hours')
);
CREATE INDEX break_glass_user_patient ON break_glass (user_id, patient_id, until);
`;
