/**
 * Per-patient alarm settings a clinician sets: threshold overrides (merged over the defaults by core's
 * patientThresholds) and whether SpO2 Scale 2 is prescribed for NEWS2. Who changed them last is kept.
 * `updated_at` is the settings' version: every save moves it forward by at least a millisecond, so two
 * saves never share one, and a save may require the version it was based on (compare and set).
 */
import type { ThresholdRule } from '@openiomt/core';
import { FOREIGN_KEY_VIOLATION, sqlState } from './sql.ts';
import { type Database, StoreError } from './types.ts';

export interface AlarmSettings {
  readonly patientId: string;
  readonly thresholds: readonly ThresholdRule[];
  readonly spo2Scale2: boolean;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export interface AlarmSettingsRepository {
  get(patientId: string): Promise<AlarmSettings | undefined>;
  /** The settings of each patient that has any (one query for many patients). */
  getMany(patientIds: readonly string[]): Promise<Map<string, AlarmSettings>>;
  /**
   * Saves what is given; a field left undefined keeps its stored value (false and no thresholds when none
   * is stored). With `expected`, only if the stored version is still that `updatedAt` (null: nothing is
   * stored yet); undefined when it is not.
   */
  put(s: SettingsPut): Promise<AlarmSettings | undefined>;
}

export interface SettingsPut {
  readonly patientId: string;
  readonly thresholds?: readonly ThresholdRule[];
  readonly spo2Scale2?: boolean;
  readonly updatedBy: string;
  readonly expected?: string | null;
}

// Later than the stored version even when two saves fall in one millisecond (the column keeps ms).
const NEXT_VERSION = `GREATEST(now(), patient_alarm_settings.updated_at + interval '1 millisecond')`;
const PUT_ANY = `
INSERT INTO patient_alarm_settings (patient_id, thresholds, spo2_scale2, updated_at, updated_by)
VALUES ($1, COALESCE($2::text::jsonb, '[]'::jsonb), COALESCE($3::boolean, false), now(), $4)
ON CONFLICT (patient_id) DO UPDATE
  SET thresholds = COALESCE($2::text::jsonb, patient_alarm_settings.thresholds),
      spo2_scale2 = COALESCE($3::boolean, patient_alarm_settings.spo2_scale2),
      updated_at = ${NEXT_VERSION},
      updated_by = EXCLUDED.updated_by
RETURNING *`;
const PUT_FIRST = `
INSERT INTO patient_alarm_settings (patient_id, thresholds, spo2_scale2, updated_at, updated_by)
VALUES ($1, COALESCE($2::text::jsonb, '[]'::jsonb), COALESCE($3::boolean, false), now(), $4)
ON CONFLICT (patient_id) DO NOTHING
RETURNING *`;
const PUT_IF = `
UPDATE patient_alarm_settings
   SET thresholds = COALESCE($2::text::jsonb, thresholds),
       spo2_scale2 = COALESCE($3::boolean, spo2_scale2),
       updated_at = ${NEXT_VERSION},
       updated_by = $4
 WHERE patient_id = $1 AND updated_at = $5::timestamptz
RETURNING *`;

interface Row {
  patient_id: string;
  thresholds: ThresholdRule[] | string;
  spo2_scale2: boolean;
  updated_at: string;
  updated_by: string;
}

const toSettings = (r: Row): AlarmSettings => ({
  patientId: r.patient_id,
  thresholds: typeof r.thresholds === 'string' ? JSON.parse(r.thresholds) : r.thresholds,
  spo2Scale2: r.spo2_scale2,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});

export function alarmSettingsRepository(db: Database): AlarmSettingsRepository {
  return {
    async get(patientId) {
      const { rows } = await db.query<Row>('SELECT * FROM patient_alarm_settings WHERE patient_id = $1', [
        patientId,
      ]);
      return rows[0] ? toSettings(rows[0]) : undefined;
    },
    async getMany(patientIds) {
      const { rows } = await db.query<Row>(
        'SELECT * FROM patient_alarm_settings WHERE patient_id = ANY($1::text[])',
        [[...patientIds]],
      );
      return new Map(rows.map((r) => [r.patient_id, toSettings(r)]));
    },
    async put(s) {
      const params = [
        s.patientId,
        s.thresholds === undefined ? null : JSON.stringify(s.thresholds),
        s.spo2Scale2 ?? null,
        s.updatedBy,
      ];
      try {
        const { rows } =
          s.expected === undefined
            ? await db.query<Row>(PUT_ANY, params)
            : s.expected === null
              ? await db.query<Row>(PUT_FIRST, params)
              : await db.query<Row>(PUT_IF, [...params, s.expected]);
        return rows[0] ? toSettings(rows[0]) : undefined;
      } catch (e) {
        if (sqlState(e) === FOREIGN_KEY_VIOLATION)
          throw new StoreError('not-found', `no patient ${s.patientId}`, 'patientId');
        throw e;
      }
    },
  };
}
