/**
 * Reads the live dashboard needs in one query each: the devices assigned to a set of patients now, and
 * the registered patients among a set (or all of them, for a service), without decrypting identities.
 */
import type { Database } from '../store/types.ts';

export interface PatientDevice {
  readonly patientId: string;
  readonly id: string;
  readonly kind: string;
  readonly expectedIntervalS: number;
  /** Platform receive time of its last message, epoch ms. */
  readonly lastSeenAt?: number;
  readonly battery?: number;
  readonly firmware?: string;
  /** Quarantined: its readings are refused until an administrator releases it. */
  readonly quarantined?: true;
}

/** Devices (not revoked) assigned to any of the patients at `at`, ordered by patient and device. */
export async function devicesOfPatients(
  db: Database,
  patientIds: readonly string[],
  at: number,
): Promise<PatientDevice[]> {
  if (patientIds.length === 0) return [];
  const { rows } = await db.query<{
    patient_id: string;
    id: string;
    kind: string;
    expected_interval_s: number;
    last_seen_at: string | null;
    battery: number | null;
    firmware: string | null;
    quarantined: boolean;
  }>(
    `SELECT a.patient_id, d.id, d.kind, d.expected_interval_s, d.last_seen_at, d.battery, d.firmware,
            d.quarantined_at IS NOT NULL AS quarantined
       FROM device_assignments a JOIN devices d ON d.id = a.device_id
      WHERE a.patient_id = ANY($1::text[]) AND d.status <> 'revoked'
        AND tstzrange(a.from_at, a.to_at, '[)') @> $2::timestamptz
      ORDER BY a.patient_id, d.id`,
    [[...patientIds], new Date(at).toISOString()],
  );
  return rows.map((r) => ({
    patientId: r.patient_id,
    id: r.id,
    kind: r.kind,
    expectedIntervalS: r.expected_interval_s,
    ...(r.last_seen_at ? { lastSeenAt: Date.parse(r.last_seen_at) } : {}),
    ...(r.battery === null ? {} : { battery: r.battery }),
    ...(r.firmware === null ? {} : { firmware: r.firmware }),
    ...(r.quarantined ? { quarantined: true as const } : {}),
  }));
}

/** Registered, not erased patients among `ids` ('all': every one), oldest first, at most `limit`. */
export async function livePatients(
  db: Database,
  ids: ReadonlySet<string> | 'all',
  limit: number,
): Promise<string[]> {
  if (ids !== 'all' && ids.size === 0) return [];
  const { rows } =
    ids === 'all'
      ? await db.query<{ id: string }>(
          'SELECT id FROM patients WHERE erased_at IS NULL ORDER BY created_at, id LIMIT $1',
          [limit],
        )
      : await db.query<{ id: string }>(
          `SELECT id FROM patients WHERE erased_at IS NULL AND id = ANY($1::text[])
            ORDER BY created_at, id LIMIT $2`,
          [[...ids], limit],
        );
  return rows.map((r) => r.id);
}
