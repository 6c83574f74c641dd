import { LOINC, UCUM } from '../codes/vitals.ts';
import { OBSERVATION_CATEGORY, VITAL_SIGNS_PROFILES } from './profiles.ts';
import type { CodeableConcept, Observation, Quantity } from './types.ts';

/**
 * A small checker for the FHIR R4 vital-signs profiles (observation-vitalsigns.html): the rules a schema
 * cannot express. Returns the problems found; an empty list means the Observation conforms to every
 * vital-signs profile it claims in meta.profile.
 */

/** R4 value set observation-vitalsignresult (the codes the base profile allows). */
const VITAL_SIGN_RESULT_CODES = new Set([
  '85353-1',
  '9279-1',
  '8867-4',
  '2708-6',
  '8310-5',
  '8302-2',
  '9843-4',
  '29463-7',
  '39156-5',
  '85354-9',
  '8480-6',
  '8462-4',
  '8478-0',
]);

interface SpecificProfile {
  readonly loinc: string;
  /** UCUM codes allowed for valueQuantity (components for bp). */
  readonly units: readonly string[];
}

const SPECIFIC: Readonly<Record<string, SpecificProfile>> = {
  [VITAL_SIGNS_PROFILES.heartrate]: { loinc: '8867-4', units: ['/min'] },
  [VITAL_SIGNS_PROFILES.oxygensat]: { loinc: '2708-6', units: ['%'] },
  [VITAL_SIGNS_PROFILES.resprate]: { loinc: '9279-1', units: ['/min'] },
  [VITAL_SIGNS_PROFILES.bodytemp]: { loinc: '8310-5', units: ['Cel', '[degF]'] },
  [VITAL_SIGNS_PROFILES.bp]: { loinc: '85354-9', units: ['mm[Hg]'] },
};

const hasLoinc = (c: CodeableConcept | undefined, code: string): boolean =>
  c?.coding?.some((x) => x.system === LOINC && x.code === code) ?? false;

function quantityProblems(q: Quantity, where: string, units?: readonly string[]): string[] {
  const out: string[] = [];
  if (typeof q.value !== 'number') out.push(`${where}.value is required`);
  if (!q.unit) out.push(`${where}.unit is required`);
  if (q.system !== UCUM) out.push(`${where}.system must be ${UCUM}`);
  if (!q.code) out.push(`${where}.code is required`);
  else if (units && !units.includes(q.code)) out.push(`${where}.code must be ${units.join(' or ')}`);
  return out;
}

export function vitalSignsProblems(obs: Observation): string[] {
  const claimed = (obs.meta?.profile ?? []).filter((p) =>
    Object.values(VITAL_SIGNS_PROFILES).includes(p as never),
  );
  if (claimed.length === 0) return [];
  const out: string[] = [];
  if (!obs.status) out.push('status is required');
  const vsCat = obs.category?.some((c) =>
    c.coding?.some((x) => x.system === OBSERVATION_CATEGORY && x.code === 'vital-signs'),
  );
  if (!vsCat) out.push('category must include vital-signs');
  if (!obs.subject?.reference?.startsWith('Patient/')) out.push('subject must reference a Patient');
  if (!obs.effectiveDateTime && !obs.effectivePeriod) out.push('effective[x] is required');
  const hasValue = ['valueQuantity', 'valueCodeableConcept', 'valueBoolean', 'valueSampledData'].some(
    (k) => (obs as Record<string, unknown>)[k] !== undefined,
  );
  if (!hasValue && !obs.dataAbsentReason && !obs.component?.length)
    out.push('vs-2: value[x] or dataAbsentReason is required');
  for (const [i, c] of (obs.component ?? []).entries())
    if (c.valueQuantity === undefined && c.valueCodeableConcept === undefined && !c.dataAbsentReason)
      out.push(`vs-3: component[${i}] needs a value or dataAbsentReason`);
  if (!obs.code.coding?.some((x) => x.system === LOINC && VITAL_SIGN_RESULT_CODES.has(x.code ?? '')))
    out.push('code must hold a LOINC code from the vital-signs value set');
  for (const profile of claimed) {
    const spec = SPECIFIC[profile];
    if (!spec) {
      if (obs.valueQuantity) out.push(...quantityProblems(obs.valueQuantity, 'valueQuantity'));
      continue;
    }
    if (!hasLoinc(obs.code, spec.loinc)) out.push(`code must include LOINC ${spec.loinc} for ${profile}`);
    if (profile === VITAL_SIGNS_PROFILES.bp) out.push(...bpComponentProblems(obs, spec.units));
    else if (!obs.valueQuantity && !obs.dataAbsentReason) out.push('valueQuantity is required');
    else if (obs.valueQuantity) out.push(...quantityProblems(obs.valueQuantity, 'valueQuantity', spec.units));
  }
  return out;
}

function bpComponentProblems(obs: Observation, units: readonly string[]): string[] {
  const out: string[] = [];
  for (const [code, name] of [
    ['8480-6', 'SystolicBP'],
    ['8462-4', 'DiastolicBP'],
  ] as const) {
    const comp = obs.component?.find((c) => hasLoinc(c.code, code));
    if (!comp) out.push(`component ${name} (LOINC ${code}) is required`);
    else if (comp.valueQuantity)
      out.push(...quantityProblems(comp.valueQuantity, `component ${name}`, units));
    else if (!comp.dataAbsentReason) out.push(`component ${name} needs valueQuantity or dataAbsentReason`);
  }
  return out;
}
