import {
  decodeReading,
  type MappedReading,
  mapReading,
  observationIdScheme,
  parseCompactJws,
} from '@openiomt/core';

/** What is stored of one reading, enough to derive its FHIR resources. */
export interface StoredReadingRow {
  readonly jws: string;
  readonly patient_id: string;
  readonly received_at: string;
  /**
   * The id of any one of its stored Observations (null when it has none). Readings stored before stop 15
   * have hashed ids, later ones time-ordered ids (core ids.ts); the stored id says which, so an id once
   * given out keeps naming the same Observation.
   */
  readonly observation_id: string | null;
}

/** The SQL for `observation_id` of the readings row aliased `r`: one index probe per reading. */
export const AN_OBSERVATION_ID_SQL =
  '(SELECT o1.id FROM observations o1 WHERE o1.device_id = r.device_id AND o1.seq = r.seq LIMIT 1)';

/**
 * The FHIR view of a stored reading: Observations and Provenance, made by the same pure mapping the
 * ingest path used, so they are the same resources, ids included. The JWS was verified when it arrived;
 * anyone doubting the database can re-verify it from the Provenance.
 */
export function fhirView(row: StoredReadingRow): MappedReading {
  const jws = parseCompactJws(row.jws);
  if (!jws.ok) throw new Error(`stored reading is not a JWS: ${jws.rejection.detail}`);
  const message = decodeReading(jws.value.payload);
  if (!message.ok) throw new Error(`stored reading does not decode: ${message.rejection.detail}`);
  return mapReading({
    message: message.value,
    patientId: row.patient_id,
    kid: jws.value.header.kid,
    jws: row.jws,
    receivedAt: row.received_at,
    idScheme: row.observation_id === null ? 'time-ordered' : observationIdScheme(row.observation_id),
  });
}

/** Derives each reading once and picks the requested Observations, in the order asked. */
export function observationsOf(
  rows: readonly (Omit<StoredReadingRow, 'observation_id'> & {
    id: string;
    device_id: string;
    seq: number;
  })[],
) {
  const views = new Map<string, MappedReading>();
  return rows.map((r) => {
    const key = `${r.device_id}\u0000${r.seq}`;
    let view = views.get(key);
    if (!view) {
      view = fhirView({ ...r, observation_id: r.id });
      views.set(key, view);
    }
    const found = view.observations.find((o) => o.id === r.id);
    if (!found) throw new Error(`observation ${r.id} is not in its reading's FHIR view`);
    return found.resource as unknown as Record<string, unknown>;
  });
}

/**
 * A stored resource as served: with meta.lastUpdated, the instant given unless it carries its own (an
 * entered Observation keeps the one it was stored with).
 */
export function withLastUpdated(
  resource: Record<string, unknown>,
  at: string | Date | undefined,
): Record<string, unknown> {
  const meta = (resource.meta as Record<string, unknown> | undefined) ?? {};
  if (meta.lastUpdated !== undefined || at === undefined) return resource;
  return { ...resource, meta: { ...meta, lastUpdated: new Date(at).toISOString() } };
}

/** A Provenance never changes once made: its `recorded` instant is when it was last updated. */
export const provenanceWithLastUpdated = (p: Record<string, unknown>): Record<string, unknown> =>
  withLastUpdated(p, typeof p.recorded === 'string' ? p.recorded : undefined);
