/**
 * Per-patient alarm settings a clinician sets: threshold overrides (merged over the defaults by core's
 * patientThresholds) and whether SpO2 Scale 2 is prescribed for NEWS2. Who changed them last is kept.
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
  put(s: Omit<AlarmSettings, 'updatedAt'>): Promise<AlarmSettings>;
}

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
      try {
        const { rows } = await db.query<Row>(
          `INSERT INTO patient_alarm_settings (patient_id, thresholds, spo2_scale2, updated_at, updated_by)
           VALUES ($1, $2::text::jsonb, $3, now(), $4)
           ON CONFLICT (patient_id) DO UPDATE
             SET thresholds = EXCLUDED.thresholds, spo2_scale2 = EXCLUDED.spo2_scale2,
                 updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
           RETURNING *`,
          [s.patientId, JSON.stringify(s.thresholds), s.spo2Scale2, s.updatedBy],
        );
        return toSettings(rows[0]!);
      } catch (e) {
        if (sqlState(e) === FOREIGN_KEY_VIOLATION)
          throw new StoreError('not-found', `no patient ${s.patientId}`, 'patientId');
        throw e;
      }
    },
  };
}
