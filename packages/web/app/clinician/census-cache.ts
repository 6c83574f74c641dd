/**
 * The last census, shared by the clinician screens: the patient view, the alarm inbox and the messages
 * list name patients and find their devices from it without asking again within a short while. It also
 * measures the difference between this browser's clock and the platform's (the census says when it was
 * made), so "stale" and "snoozed until" are judged on the platform's time.
 */
import { get } from '../api.ts';
import type { Census, CensusRow } from './live-types.ts';

let last: { census: Census; at: number; byId: Map<string, CensusRow> } | undefined;
let pending: Promise<Census> | undefined;
/** Platform time minus browser time, ms (0 until the first census). */
let skewMs = 0;

/** The platform's current time, as well as this browser can tell. */
export const serverNow = (): number => Date.now() + skewMs;

/** The census, fetched again when older than `maxAgeMs` (0: always). */
export function loadCensus(maxAgeMs = 0): Promise<Census> {
  if (last && Date.now() - last.at <= maxAgeMs) return Promise.resolve(last.census);
  if (pending) return pending;
  const asked = Date.now();
  pending = get<Census>('/api/v1/census').then(
    (census) => {
      const answered = Date.now();
      const generated = Date.parse(census.generatedAt);
      // The census was made somewhere between asking and answering: take the middle.
      if (Number.isFinite(generated)) skewMs = generated - (asked + answered) / 2;
      last = { census, at: answered, byId: new Map(census.items.map((r) => [r.patientId, r])) };
      pending = undefined;
      return census;
    },
    (e: unknown) => {
      pending = undefined;
      throw e;
    },
  );
  return pending;
}

/** A patient's census row as last fetched (for a name). */
export function cachedRow(patientId: string): CensusRow | undefined {
  return last?.byId.get(patientId);
}

/** "Name" or the pseudonymous id when the census has no name for the patient. */
export function nameOf(patientId: string): string {
  return cachedRow(patientId)?.displayName ?? patientId;
}

/** A census younger than this is not asked again for a patient it does not name (they may be hidden). */
const UNNAMED_RELOAD_MS = 10_000;

/**
 * Asks for the census again when it names none of some of these patients (an alarm of a patient added to my
 * care since it was fetched). Resolves true when a new census came, so the caller shows the names.
 */
export async function nameAll(patientIds: Iterable<string>): Promise<boolean> {
  for (const id of patientIds)
    if (!last?.byId.has(id)) {
      const before = last;
      await loadCensus(UNNAMED_RELOAD_MS);
      return last !== before;
    }
  return false;
}
