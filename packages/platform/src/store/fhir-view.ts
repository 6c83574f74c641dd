import { decodeReading, type MappedReading, mapReading, parseCompactJws } from '@openiomt/core';

/** What is stored of one reading, enough to derive its FHIR resources. */
export interface StoredReadingRow {
  readonly jws: string;
  readonly patient_id: string;
  readonly received_at: string;
}

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
  });
}

/** Derives each reading once and picks the requested Observations, in the order asked. */
export function observationsOf(
  rows: readonly (StoredReadingRow & { id: string; device_id: string; seq: number })[],
) {
  const views = new Map<string, MappedReading>();
  return rows.map((r) => {
    const key = `${r.device_id}\u0000${r.seq}`;
    let view = views.get(key);
    if (!view) {
      view = fhirView(r);
      views.set(key, view);
    }
    const found = view.observations.find((o) => o.id === r.id);
    if (!found) throw new Error(`observation ${r.id} is not in its reading's FHIR view`);
    return found.resource as unknown as Record<string, unknown>;
  });
}
