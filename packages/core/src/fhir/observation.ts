import { UCUM, VITALS, type VitalDefinition, WAVEFORMS } from '../codes/vitals.ts';
import type { ReadingMessage, VitalSample, WaveformChunk } from '../message/reading.ts';
import { parseInstant } from '../message/time.ts';
import { deviceReference, type ObservationIdScheme, observationId, patientReference } from './ids.ts';
import {
  BLOOD_PRESSURE_PANEL_CODE,
  BP_PANEL,
  categoryConcept,
  type ObservationCategory,
  READING_IDENTIFIER_SYSTEM,
  VITAL_PROFILE,
  VITAL_SIGNS_PROFILES,
} from './profiles.ts';
import type { CodeableConcept, Observation, ObservationComponent, Quantity, SampledData } from './types.ts';

/** One Observation made from a reading, with the keys the store indexes it by. */
export interface MappedObservation {
  readonly id: string;
  /** Catalogue code (heart-rate, ecg-ii, ...) or 'blood-pressure' for a merged systolic/diastolic pair. */
  readonly code: string;
  /** The effective instant as the device gave it (sample `at`, message `ts`, or waveform `start`). */
  readonly effective: string;
  readonly resource: Observation;
}

interface Context {
  readonly message: ReadingMessage;
  readonly patientId: string;
  readonly ids: ObservationIdScheme;
}

/** Vitals first (BP pairs merged into a panel), then one Observation per waveform chunk. */
export function mapObservations(
  message: ReadingMessage,
  patientId: string,
  ids: ObservationIdScheme = 'time-ordered',
): MappedObservation[] {
  const ctx = { message, patientId, ids };
  const vitals = groupBloodPressure(message.vitals, message.ts).map((item) =>
    item.kind === 'panel' ? bloodPressurePanel(ctx, item) : vitalObservation(ctx, item.index),
  );
  const waveforms = message.waveforms.map((chunk, j) =>
    waveformObservation(ctx, chunk, message.vitals.length + j),
  );
  return [...vitals, ...waveforms];
}

const effectiveOf = (message: ReadingMessage, sample: VitalSample): string => sample.at ?? message.ts;

function base(
  ctx: Context,
  index: number,
  category: ObservationCategory,
  code: CodeableConcept,
  effective: string,
  profile: string | undefined,
): Observation {
  const { device, seq } = ctx.message;
  return {
    resourceType: 'Observation',
    id: observationId(ctx.message, index, ctx.ids),
    ...(profile ? { meta: { profile: [profile] } } : {}),
    identifier: [{ system: READING_IDENTIFIER_SYSTEM, value: `${device}/${seq}/${index}` }],
    status: 'final',
    category: [categoryConcept(category)],
    code,
    subject: { reference: patientReference(ctx.patientId) },
    effectiveDateTime: effective,
    device: { reference: deviceReference(device) },
  };
}

const codeOf = (def: {
  codings: readonly { system: string; code: string; display: string }[];
  display: string;
}) => ({
  coding: def.codings.map((c) => ({ ...c })),
  text: def.display,
});

export function quantityOf(def: VitalDefinition, value: number): Quantity {
  return { value, unit: def.unitDisplay ?? def.unit ?? '1', system: UCUM, code: def.unit ?? '1' };
}

function vitalValue(def: VitalDefinition, value: VitalSample['value']): Partial<Observation> {
  switch (def.valueKind) {
    case 'quantity':
      return { valueQuantity: quantityOf(def, value as number) };
    case 'boolean':
      return { valueBoolean: value as boolean };
    case 'code': {
      const answer = def.answerCodings?.[value as string];
      return {
        valueCodeableConcept: { ...(answer ? { coding: [{ ...answer }] } : {}), text: String(value) },
      };
    }
  }
}

function vitalObservation(ctx: Context, index: number): MappedObservation {
  const sample = ctx.message.vitals[index] as VitalSample;
  const def = VITALS[sample.code];
  const effective = effectiveOf(ctx.message, sample);
  const resource: Observation = {
    ...base(ctx, index, def.category, codeOf(def), effective, VITAL_PROFILE[def.code]),
    ...vitalValue(def, sample.value),
  };
  return { id: resource.id as string, code: def.code, effective, resource };
}

type VitalItem =
  | { readonly kind: 'single'; readonly index: number }
  | {
      readonly kind: 'panel';
      readonly index: number;
      readonly sys: number;
      readonly dia: number;
      readonly mean?: number;
    };

/**
 * Pairs each systolic with the first unused diastolic of the same instant (and a mean of that instant,
 * if any): the bp profile wants one panel, not two loose values. Unpaired values stay single.
 */
export function groupBloodPressure(vitals: readonly VitalSample[], ts: string): VitalItem[] {
  // Compared as instants: 10:00:00Z and 11:00:00+01:00 are the same measurement time.
  const time = vitals.map((v) => parseInstant(v.at ?? ts) ?? v.at ?? ts);
  const used = new Set<number>();
  const findFree = (code: string, like: number) =>
    vitals.findIndex((v, j) => v.code === code && !used.has(j) && time[j] === time[like]);
  const panels = new Map<number, VitalItem>();
  vitals.forEach((v, i) => {
    if (v.code !== 'bp-systolic') return;
    const dia = findFree('bp-diastolic', i);
    if (dia < 0) return;
    used.add(i).add(dia);
    const mean = findFree('bp-mean', i);
    if (mean >= 0) used.add(mean);
    panels.set(i, { kind: 'panel', index: i, sys: i, dia, ...(mean >= 0 ? { mean } : {}) });
  });
  const items: VitalItem[] = [];
  vitals.forEach((_, i) => {
    const panel = panels.get(i);
    if (panel) items.push(panel);
    else if (!used.has(i)) items.push({ kind: 'single', index: i });
  });
  return items;
}

function bloodPressurePanel(ctx: Context, item: Extract<VitalItem, { kind: 'panel' }>): MappedObservation {
  const vitals = ctx.message.vitals;
  const sys = vitals[item.sys] as VitalSample;
  const component = (i: number): ObservationComponent => {
    const s = vitals[i] as VitalSample;
    const def = VITALS[s.code];
    return { code: codeOf(def), valueQuantity: quantityOf(def, s.value as number) };
  };
  const effective = effectiveOf(ctx.message, sys);
  const code = { coding: [{ ...BP_PANEL }], text: 'Blood pressure' };
  const resource: Observation = {
    ...base(ctx, item.index, 'vital-signs', code, effective, VITAL_SIGNS_PROFILES.bp),
    component: [
      component(item.sys),
      component(item.dia),
      ...(item.mean === undefined ? [] : [component(item.mean)]),
    ],
  };
  return { id: resource.id as string, code: BLOOD_PRESSURE_PANEL_CODE, effective, resource };
}

/** FHIR SampledData.data: decimals separated by single spaces, 'E' where the device had no value. */
export function encodeSamples(data: readonly (number | null)[]): string {
  return data.map((s) => (s === null ? 'E' : String(s))).join(' ');
}

/** The raw samples back from SampledData.data ('E', 'L', 'U' become null). */
export function decodeSamples(data: string): (number | null)[] {
  return data.split(' ').map((s) => (s === 'E' || s === 'L' || s === 'U' ? null : Number(s)));
}

/**
 * Follows the R4 "ekg" example: category procedure, MDC code, effectiveDateTime = time of the first
 * sample. effectiveDateTime (not a computed Period) keeps the device's own instant text, offset and
 * sub-millisecond precision intact; the end is implied by period × sample count.
 */
function waveformObservation(ctx: Context, chunk: WaveformChunk, index: number): MappedObservation {
  const def = WAVEFORMS[chunk.code];
  const sampled: SampledData = {
    origin: { value: chunk.origin, unit: def.unit, system: UCUM, code: def.unit },
    period: 1000 / chunk.rate,
    factor: chunk.factor,
    dimensions: 1,
    data: encodeSamples(chunk.data),
  };
  const resource: Observation = {
    ...base(ctx, index, 'procedure', codeOf(def), chunk.start, undefined),
    valueSampledData: sampled,
  };
  return { id: resource.id as string, code: def.code, effective: chunk.start, resource };
}
