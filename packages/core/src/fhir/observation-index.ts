import type { ReadingMessage } from '../message/reading.ts';
import { observationId } from './ids.ts';
import { groupBloodPressure } from './observation.ts';
import { BLOOD_PRESSURE_PANEL_CODE } from './profiles.ts';

/** What the store indexes of one Observation: its id, catalogue code and effective instant. */
export interface ObservationIndexEntry {
  readonly id: string;
  readonly code: string;
  readonly effective: string;
}

/**
 * The index entries of the Observations mapReading would make from a message, without making them. The
 * ingest path needs only these (the resources are derived again on read), and building full FHIR JSON for
 * every message costs as much as checking its signature.
 */
export function observationIndex(message: ReadingMessage): ObservationIndexEntry[] {
  const { vitals, waveforms, ts } = message;
  const entries: ObservationIndexEntry[] = groupBloodPressure(vitals, ts).map((item) => {
    const sample = vitals[item.kind === 'panel' ? item.sys : item.index];
    return {
      id: observationId(message, item.index),
      code: item.kind === 'panel' ? BLOOD_PRESSURE_PANEL_CODE : (sample?.code as string),
      effective: sample?.at ?? ts,
    };
  });
  waveforms.forEach((chunk, j) => {
    entries.push({
      id: observationId(message, vitals.length + j),
      code: chunk.code,
      effective: chunk.start,
    });
  });
  return entries;
}
