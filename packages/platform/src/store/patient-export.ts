/**
 * What a patient export needs beyond the repositories: the Provenance of a page of Observations in two
 * queries (one per kind), instead of one query per Observation. A reading's Provenance covers all its
 * Observations, and a derived window's covers its whole window, so each is returned once.
 */
import {
  AN_OBSERVATION_ID_SQL,
  fhirView,
  provenanceWithLastUpdated,
  type StoredReadingRow,
} from './fhir-view.ts';
import { isUuid } from './sql.ts';
import type { Queryable } from './types.ts';

export async function provenanceOfObservations(
  db: Queryable,
  observationIds: readonly string[],
): Promise<Record<string, unknown>[]> {
  const ids = observationIds.filter(isUuid);
  if (ids.length === 0) return [];
  const { rows: readings } = await db.query<StoredReadingRow>(
    `SELECT r.jws, r.patient_id, r.received_at, ${AN_OBSERVATION_ID_SQL} AS observation_id
       FROM readings r
      WHERE (r.device_id, r.seq) IN (SELECT o.device_id, o.seq FROM observations o WHERE o.id = ANY($1::uuid[]))`,
    [ids],
  );
  // Derived rows after the first of a window hold only a pointer ({id}) to the window's Provenance.
  const { rows: derived } = await db.query<{ provenance: Record<string, unknown> }>(
    `SELECT w.provenance
       FROM derived_observations w
      WHERE w.provenance ? 'target'
        AND w.id IN (SELECT (d.provenance->>'id')::uuid FROM derived_observations d WHERE d.id = ANY($1::uuid[]))`,
    [ids],
  );
  return [
    ...readings.map((r) => fhirView(r).provenance as unknown as Record<string, unknown>),
    ...derived.map((r) => r.provenance),
  ].map(provenanceWithLastUpdated);
}
