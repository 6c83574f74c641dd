/**
 * Observations the platform derived from waveforms (analysis/), each stored as its FHIR JSON: unlike device
 * Observations they are not a view of a signed message, so the resource itself is what is kept. They take
 * part in Observation read and search (readings.ts) beside the device ones.
 *
 * One Provenance covers all Observations of an analysed window. It is kept whole on the window's first row
 * (whose id it shares: ids are unique per resource type in FHIR) and the other rows hold only its id, so a
 * Provenance citing a minute of one-second source chunks is not stored four times.
 */
import { provenanceWithLastUpdated, withLastUpdated } from './fhir-view.ts';
import { isUuid, requireInstant } from './sql.ts';
import { type Database, StoreError } from './types.ts';

/** The Observations and Provenance of one analysed window (core's mapDerived output) for one patient. */
export interface DerivedToStore {
  readonly patientId: string;
  readonly deviceId: string;
  readonly observations: readonly {
    readonly id: string;
    /** Index code (heart-rate, hrv-sdnn, heart-rhythm, ...). */
    readonly code: string;
    /** Start of the analysed stretch (ISO instant). */
    readonly effective: string;
    readonly resource: object;
  }[];
  /** Its id must be the first Observation's id. */
  readonly provenance: { readonly id?: string } & object;
}

/**
 * SQL for when the stored row aliased `d` (a derived or entered Observation) was last updated. The table
 * has no stored-at column, and these rows are never changed once written: an entered one carries
 * meta.lastUpdated; a derived one was made and stored in the same moment its window's Provenance was
 * `recorded`, so that instant stands for it (kept whole on the first row of a window, one primary-key probe
 * away for the others). The effective time is a last resort for a row whose Provenance is missing.
 * Observation search filters `_lastUpdated` on this and serves it as meta.lastUpdated, so the two agree.
 */
export const STORED_LAST_UPDATED_SQL = `COALESCE(
  (d.resource->'meta'->>'lastUpdated')::timestamptz,
  (CASE WHEN d.provenance ? 'recorded' THEN d.provenance->>'recorded'
        ELSE (SELECT w.provenance->>'recorded' FROM derived_observations w
               WHERE w.id = (d.provenance->>'id')::uuid) END)::timestamptz,
  d.effective)`;

export interface DerivedObservationsRepository {
  /** Stores windows in one transaction; an Observation already stored (same id) is kept as it was. Returns how many were new. */
  addMany(windows: readonly DerivedToStore[]): Promise<number>;
  get(id: string): Promise<Record<string, unknown> | undefined>;
  /** A derived Provenance by its id. */
  provenance(id: string): Promise<Record<string, unknown> | undefined>;
  /** The Provenance of a derived Observation. */
  provenanceOf(observationId: string): Promise<Record<string, unknown> | undefined>;
}

const INSERT_SQL = `
INSERT INTO derived_observations (id, patient_id, device_id, code, effective, resource, provenance)
SELECT id, patient_id, device_id, code, effective, resource, provenance
  FROM json_to_recordset($1::text::json)
    AS t(id uuid, patient_id text, device_id text, code text, effective timestamptz, resource jsonb,
         provenance jsonb)
ON CONFLICT (id) DO NOTHING
RETURNING id`;

function rowsOf(w: DerivedToStore, i: number) {
  const first = w.observations[0];
  if (!first) throw new StoreError('invalid', `window ${i}: no observations`, `/${i}/observations`);
  if (w.provenance.id !== first.id)
    throw new StoreError(
      'invalid',
      `window ${i}: provenance id must be the first observation's id`,
      `/${i}/provenance/id`,
    );
  const pointer = { resourceType: 'Provenance', id: first.id };
  return w.observations.map((o, j) => {
    if (!isUuid(o.id))
      throw new StoreError(
        'invalid',
        `window ${i}: observation id must be a UUID`,
        `/${i}/observations/${j}/id`,
      );
    requireInstant(o.effective, `/${i}/observations/${j}/effective`);
    return {
      id: o.id,
      patient_id: w.patientId,
      device_id: w.deviceId,
      code: o.code,
      effective: o.effective,
      resource: o.resource,
      provenance: j === 0 ? w.provenance : pointer,
    };
  });
}

export function derivedObservationsRepository(db: Database): DerivedObservationsRepository {
  return {
    async addMany(windows) {
      const rows = windows.flatMap(rowsOf);
      if (rows.length === 0) return 0;
      const { rows: added } = await db.query<{ id: string }>(INSERT_SQL, [JSON.stringify(rows)]);
      return added.length;
    },

    async get(id) {
      if (!isUuid(id)) return undefined;
      const { rows } = await db.query<{ resource: Record<string, unknown>; last_updated: string }>(
        `SELECT d.resource, ${STORED_LAST_UPDATED_SQL} AS last_updated FROM derived_observations d WHERE d.id = $1`,
        [id],
      );
      const r = rows[0];
      return r === undefined ? undefined : withLastUpdated(r.resource, r.last_updated);
    },

    async provenance(id) {
      if (!isUuid(id)) return undefined;
      // Only the first row of a window holds the whole Provenance (its id is that row's id).
      const { rows } = await db.query<{ provenance: Record<string, unknown> }>(
        `SELECT provenance FROM derived_observations WHERE id = $1 AND provenance ? 'target'`,
        [id],
      );
      const p = rows[0]?.provenance;
      return p === undefined ? undefined : provenanceWithLastUpdated(p);
    },

    async provenanceOf(observationId) {
      if (!isUuid(observationId)) return undefined;
      const { rows } = await db.query<{ provenance: Record<string, unknown> }>(
        `SELECT p.provenance
           FROM derived_observations d
           JOIN derived_observations p ON p.id = (d.provenance->>'id')::uuid
          WHERE d.id = $1 AND p.provenance ? 'target'`,
        [observationId],
      );
      const p = rows[0]?.provenance;
      return p === undefined ? undefined : provenanceWithLastUpdated(p);
    },
  };
}
