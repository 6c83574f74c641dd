import { type Coding, VITALS, WAVEFORMS } from '../codes/vitals.ts';
import { DERIVED_CODINGS } from './derived.ts';
import { BLOOD_PRESSURE_PANEL_CODE, BP_PANEL } from './profiles.ts';

/**
 * Every code the store indexes Observations by (catalogue vitals and waveforms, the blood-pressure panel, and
 * the derived measures), with the codings its Observation.code carries.
 */
function indexedCodes(): ReadonlyMap<string, readonly Coding[]> {
  const map = new Map<string, Coding[]>();
  const add = (key: string, codings: readonly Coding[]) =>
    map.set(key, [...(map.get(key) ?? []), ...codings]);
  for (const d of Object.values(VITALS)) add(d.code, d.codings);
  for (const d of Object.values(WAVEFORMS)) add(d.code, d.codings);
  add(BLOOD_PRESSURE_PANEL_CODE, [BP_PANEL as Coding]);
  for (const [k, codings] of Object.entries(DERIVED_CODINGS)) add(k, codings);
  return map;
}

let cached: ReturnType<typeof indexedCodes> | undefined;

/** Every code Observations are indexed by, sorted. */
export function indexedObservationCodes(): string[] {
  cached ??= indexedCodes();
  return [...cached.keys()].sort();
}

/**
 * The indexed codes matching one FHIR token search value on Observation.code: `code`, `system|code`,
 * `|code` (no system) or `system|` (any code of the system). A bare catalogue code (heart-rate) matches
 * itself too, as the API accepted before tokens were understood. Sorted; empty when nothing matches.
 */
export function observationCodesForToken(token: string): string[] {
  cached ??= indexedCodes();
  const bar = token.indexOf('|');
  const system = bar < 0 ? undefined : token.slice(0, bar);
  const code = bar < 0 ? token : token.slice(bar + 1);
  const out = new Set<string>();
  if (system === undefined && cached.has(code)) out.add(code);
  for (const [key, codings] of cached) {
    const hit = codings.some(
      (c) =>
        (system === undefined || (system === '' ? false : c.system === system)) &&
        (code === '' ? system !== undefined && system !== '' : c.code === code),
    );
    if (hit) out.add(key);
  }
  return [...out].sort();
}
