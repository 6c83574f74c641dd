/**
 * The latest stored value of chosen vital signs of a patient: what NEWS2 needs after a restart, when the
 * rules' memory is empty. Found through the observation index, then read from the signed message itself
 * (the one stored truth).
 */
import { decodeReading, parseCompactJws, type VitalSample } from '@openiomt/core';
import { requireInstant } from './sql.ts';
import type { Database } from './types.ts';

export interface LatestVital {
  readonly code: VitalSample['code'];
  readonly value: VitalSample['value'];
  /** Measurement time, epoch ms. */
  readonly at: number;
}

export interface LatestVitalsRepository {
  /** For each index code, the newest reading since `since` that carries it; its matching vitals. */
  latest(patientId: string, indexCodes: readonly string[], since: string): Promise<LatestVital[]>;
}

export function latestVitalsRepository(db: Database): LatestVitalsRepository {
  return {
    async latest(patientId, indexCodes, since) {
      requireInstant(since, 'since');
      const { rows } = await db.query<{ code: string; jws: string }>(
        `SELECT DISTINCT ON (o.code) o.code, r.jws
           FROM observations o JOIN readings r ON r.device_id = o.device_id AND r.seq = o.seq
          WHERE o.patient_id = $1 AND o.code = ANY($2::text[]) AND o.effective >= $3
          ORDER BY o.code, o.effective DESC`,
        [patientId, indexCodes, since],
      );
      const wanted = new Set(indexCodes);
      const out: LatestVital[] = [];
      for (const row of rows) {
        const jws = parseCompactJws(row.jws);
        if (!jws.ok) continue;
        const message = decodeReading(jws.value.payload);
        if (!message.ok) continue;
        for (const v of message.value.vitals) {
          const inPanel = row.code === 'blood-pressure' && v.code.startsWith('bp-');
          if (v.code !== row.code && !inPanel) continue;
          if (!wanted.has(v.code) && !inPanel) continue;
          out.push({ code: v.code, value: v.value, at: Date.parse(v.at ?? message.value.ts) });
        }
      }
      return out;
    },
  };
}
