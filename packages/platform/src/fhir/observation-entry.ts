/**
 * A vital sign entered by a person (a nurse takes a blood pressure) as a FHIR Observation: the input is read
 * into the same vital samples a device sends, checked by core's message validation (catalogue codes, units,
 * plausible ranges), mapped by core's mapping (so it carries the same codings and vital-signs profile as a
 * device Observation) and finally checked against the vital-signs profile. Every refusal names the element
 * at fault as a FHIRPath expression.
 */
import { randomUUID } from 'node:crypto';
import {
  BLOOD_PRESSURE_PANEL_CODE,
  decodeReading,
  mapObservations,
  type Observation,
  observationCodesForToken,
  UCUM,
  VITALS,
  type VitalCode,
  type VitalSample,
  vitalSignsProblems,
} from '@openiomt/core';
import type { InProcessBus } from '../bus/bus.ts';
import type { EnteredObservation } from '../store/observation-search.ts';

const STATUSES = ['final', 'amended', 'corrected', 'preliminary'];
/** How far ahead of the server's clock an entered time may be (clock skew of the entering device). */
const FUTURE_SLACK_MS = 5 * 60_000;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where an entered Observation is in a request: `Observation` alone, or inside a Bundle entry. */
export class EntryError extends Error {
  constructor(
    message: string,
    readonly expression: string,
  ) {
    super(message);
  }
}

const fail = (detail: string, expression: string): never => {
  throw new EntryError(detail, expression);
};

/** The catalogue code an Observation.code stands for (a vital, or the blood-pressure panel). */
function indexCodeOf(code: unknown, at: string): VitalCode | typeof BLOOD_PRESSURE_PANEL_CODE {
  if (!isObject(code) || !Array.isArray(code.coding) || code.coding.length === 0)
    return fail('code.coding is required', `${at}.coding`);
  for (const [i, c] of code.coding.entries()) {
    if (!isObject(c) || typeof c.code !== 'string') fail('coding needs a code', `${at}.coding[${i}]`);
    const coding = c as { system?: unknown; code: string };
    const token = typeof coding.system === 'string' ? `${coding.system}|${coding.code}` : coding.code;
    const found = observationCodesForToken(token);
    if (found.includes(BLOOD_PRESSURE_PANEL_CODE)) return BLOOD_PRESSURE_PANEL_CODE;
    const vitals = found.filter((k): k is VitalCode => Object.hasOwn(VITALS, k));
    // 8867-4 is both heart rate and pulse rate: prefer the vital whose primary coding it is.
    const primary = vitals.find((k) => VITALS[k].codings[0]?.code === coding.code) ?? vitals[0];
    if (primary) return primary;
  }
  return fail('code is not a vital sign this platform knows', `${at}.coding`);
}

/** The value of one vital from valueQuantity / valueBoolean / valueCodeableConcept. */
function vitalValueOf(code: VitalCode, holder: Json, at: string): VitalSample['value'] {
  const def = VITALS[code];
  if (def.valueKind === 'quantity') {
    const q = holder.valueQuantity;
    if (!isObject(q)) return fail('valueQuantity is required', `${at}.valueQuantity`);
    if (typeof q.value !== 'number' || !Number.isFinite(q.value))
      fail('valueQuantity.value must be a number', `${at}.valueQuantity.value`);
    if (q.system !== undefined && q.system !== UCUM)
      fail(`valueQuantity.system must be ${UCUM}`, `${at}.valueQuantity.system`);
    if (q.code !== undefined && q.code !== def.unit)
      fail(`valueQuantity.code must be ${def.unit} (values are not converted)`, `${at}.valueQuantity.code`);
    return q.value as number;
  }
  if (def.valueKind === 'boolean') {
    if (typeof holder.valueBoolean !== 'boolean') fail('valueBoolean is required', `${at}.valueBoolean`);
    return holder.valueBoolean as boolean;
  }
  const cc = holder.valueCodeableConcept;
  const answer = isObject(cc)
    ? ((Array.isArray(cc.coding) && isObject(cc.coding[0]) ? cc.coding[0].code : undefined) ?? cc.text)
    : undefined;
  const known = Object.entries(def.answerCodings ?? {}).find(([k, c]) => k === answer || c.code === answer);
  if (!known)
    return fail(
      `valueCodeableConcept must be one of ${def.allowedCodes?.join(', ')}`,
      `${at}.valueCodeableConcept`,
    );
  return known[0];
}

/** The vitals of the entered Observation, each with the FHIRPath of its value (for refusals). */
function samplesOf(o: Json, effective: string): { samples: VitalSample[]; paths: string[] } {
  const code = indexCodeOf(o.code, 'Observation.code');
  if (code !== BLOOD_PRESSURE_PANEL_CODE)
    return {
      samples: [{ code, value: vitalValueOf(code, o, 'Observation'), at: effective }],
      paths: ['Observation.value'],
    };
  if (!Array.isArray(o.component))
    return fail('a blood pressure needs its components', 'Observation.component');
  const samples: VitalSample[] = [];
  const paths: string[] = [];
  for (const [i, c] of o.component.entries()) {
    const at = `Observation.component[${i}]`;
    if (!isObject(c)) fail('component must be an object', at);
    const k = indexCodeOf((c as Json).code, `${at}.code`);
    if (k !== 'bp-systolic' && k !== 'bp-diastolic' && k !== 'bp-mean')
      fail('a blood pressure component is systolic, diastolic or mean', `${at}.code`);
    samples.push({ code: k as VitalCode, value: vitalValueOf(k as VitalCode, c as Json, at), at: effective });
    paths.push(`${at}.valueQuantity.value`);
  }
  for (const need of ['bp-systolic', 'bp-diastolic'] as const)
    if (!samples.some((s) => s.code === need))
      fail(
        `component ${need === 'bp-systolic' ? 'systolic (8480-6)' : 'diastolic (8462-4)'} is required`,
        'Observation.component',
      );
  return { samples, paths };
}

/** Who entered it, as the Observation's performer and the Provenance's enterer. */
export interface Enterer {
  readonly userId: string;
  readonly kind: 'user' | 'service';
}

/**
 * Reads an entered Observation: the patient it is about, and what to store. Throws EntryError naming the
 * element at fault (as `Observation.x`; a Bundle prefixes its entry).
 */
export function readEnteredObservation(
  input: unknown,
  by: Enterer,
  now = Date.now(),
): EnteredObservation & {
  readonly category: 'vital-signs' | 'activity';
  /** The vitals it holds (a blood pressure holds two or three), for the rules, trends and live views. */
  readonly vitals: readonly VitalSample[];
} {
  if (!isObject(input)) return fail('the body must be an Observation', 'Observation');
  if (input.resourceType !== 'Observation')
    fail('resourceType must be Observation', 'Observation.resourceType');
  if (input.id !== undefined) fail('id is assigned by the server', 'Observation.id');
  if (typeof input.status !== 'string' || !STATUSES.includes(input.status))
    fail(`status must be one of ${STATUSES.join(', ')}`, 'Observation.status');
  const subject = isObject(input.subject) ? input.subject.reference : undefined;
  const patient =
    typeof subject === 'string' ? /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(subject)?.[1] : undefined;
  if (!patient) return fail('subject must reference Patient/<id>', 'Observation.subject');
  const effective = input.effectiveDateTime;
  const ms =
    typeof effective === 'string' && /T.*(Z|[+-]\d{2}:\d{2})$/.test(effective)
      ? Date.parse(effective)
      : Number.NaN;
  if (!Number.isFinite(ms))
    return fail('effectiveDateTime must be an instant with a time zone', 'Observation.effectiveDateTime');
  if (ms > now + FUTURE_SLACK_MS) fail('effectiveDateTime is in the future', 'Observation.effectiveDateTime');
  if (input.category !== undefined) {
    const cats = Array.isArray(input.category) ? input.category : [];
    const vs = cats.some(
      (c) =>
        isObject(c) &&
        Array.isArray(c.coding) &&
        c.coding.some((x) => isObject(x) && x.code === 'vital-signs'),
    );
    if (!vs) fail('category must include vital-signs', 'Observation.category');
  }
  const at = new Date(ms).toISOString();
  const { samples, paths } = samplesOf(input, at);
  // Core's message validation: catalogue units and plausible ranges, the same as for a device.
  const message = { v: 1, device: 'manual-entry', seq: 1, ts: at, vitals: samples, waveforms: [] };
  const decoded = decodeReading(JSON.stringify(message));
  if (!decoded.ok) {
    const i = Number(/^\/vitals\/(\d+)/.exec(decoded.rejection.field ?? '')?.[1] ?? 0);
    fail(decoded.rejection.detail.replace(/^\/vitals\/\d+\/\w+: /, ''), paths[i] ?? 'Observation');
  }
  const mapped = mapObservations(decoded.ok ? decoded.value : (message as never), patient);
  const first = mapped[0];
  if (!first || mapped.length !== 1) return fail('one Observation must be entered at a time', 'Observation');
  const id = randomUUID();
  const recorded = new Date(now).toISOString();
  const who =
    by.kind === 'user'
      ? { reference: `Practitioner/${by.userId}` }
      : { identifier: { system: 'urn:openiomt:service', value: by.userId } };
  const { identifier: _i, device: _d, ...rest } = first.resource as Observation & Json;
  const resource: Json = {
    ...rest,
    id,
    meta: { ...(rest.meta ?? {}), lastUpdated: recorded },
    status: input.status,
    issued: recorded,
    performer: [who],
  };
  const problems = vitalSignsProblems(resource as unknown as Observation);
  if (problems.length > 0) fail(`not a valid vital-signs Observation: ${problems.join('; ')}`, 'Observation');
  const provenance: Json = {
    resourceType: 'Provenance',
    id,
    target: [{ reference: `Observation/${id}` }],
    recorded,
    activity: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation',
          code: 'CREATE',
          display: 'create',
        },
      ],
    },
    agent: [
      {
        type: {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type',
              code: 'enterer',
              display: 'Enterer',
            },
          ],
        },
        who,
      },
    ],
  };
  const category =
    VITALS[samples[0]?.code as VitalCode]?.category === 'activity' ? 'activity' : 'vital-signs';
  return {
    id,
    patientId: patient,
    code: first.code,
    effective: at,
    resource,
    provenance,
    category,
    vitals: samples,
  };
}

/** Tells the rest of the platform about committed entries: they count like a device's reading from now on. */
export function announceEntered(
  bus: InProcessBus,
  entries: readonly ReturnType<typeof readEnteredObservation>[],
): void {
  for (const e of entries)
    bus.publish('observation.entered', {
      patientId: e.patientId,
      observationId: e.id,
      code: e.code,
      vitals: e.vitals,
      resource: e.resource,
    });
}
