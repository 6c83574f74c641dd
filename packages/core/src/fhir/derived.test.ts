import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOINC, SNOMED, WAVEFORM_CODES } from '../codes/vitals.ts';
import { observationCodesForToken } from './code-search.ts';
import {
  DERIVED_IDENTIFIER_SYSTEM,
  type DerivedInput,
  type DerivedSource,
  type DerivedWindow,
  mapDerived,
  RATE_CODE,
} from './derived.ts';
import { type FhirValidator, loadFhirValidator } from './fhir-schema.ts';
import { derivedObservationId, nameBasedUuid } from './ids.ts';
import { VITAL_SIGNS_PROFILES } from './profiles.ts';
import type { Observation } from './types.ts';
import { vitalSignsProblems } from './vitalsigns-profile.ts';

let fhir: FhirValidator;
beforeAll(() => {
  fhir = loadFhirValidator();
});

const T0 = Date.parse('2025-03-04T05:06:00.000Z');
/** One-second source chunks covering [from, to). */
const chunks = (from: number, to: number): DerivedSource[] =>
  Array.from({ length: Math.ceil((to - from) / 1000) }, (_, i) => ({
    id: nameBasedUuid(`src-${from + i * 1000}`),
    startMs: from + i * 1000,
    endMs: from + (i + 1) * 1000,
  }));

const input = (window: DerivedWindow, over: Partial<DerivedInput> = {}): DerivedInput => ({
  deviceId: 'ecg_patch-1',
  patientId: 'p-1',
  sourceCode: window.kind === 'ecg' ? 'ecg-ii' : window.kind === 'ppg' ? 'ppg' : 'respiration',
  window,
  sources: chunks(T0 - 60_000, T0 + 20_000),
  algorithmVersion: '1.2.3',
  recorded: '2025-03-04T05:06:30.000Z',
  ...over,
});

const ecgWindow: DerivedWindow = {
  kind: 'ecg',
  startMs: T0,
  endMs: T0 + 10_000,
  quality: 0.93,
  leadOff: false,
  rate: 71.44,
  hrv: { sdnnMs: 41.26, rmssdMs: 33.3, pnn50: 0.1, beats: 70, spanMs: 60_000 },
  rhythm: 'af-suspected',
};

const codings = (o: Observation) => o.code.coding?.map((c) => `${c.system}|${c.code}`) ?? [];

function expectValid(resource: unknown) {
  expect(fhir.errors(resource)).toBeUndefined();
}

describe('mapDerived', () => {
  it('maps an ECG window to heart rate, SDNN, RMSSD and a screening rhythm call, all valid R4', () => {
    const m = mapDerived(input(ecgWindow));
    expect(m.observations.map((o) => o.code)).toEqual([
      'heart-rate',
      'hrv-sdnn',
      'hrv-rmssd',
      'heart-rhythm',
    ]);
    for (const o of m.observations) {
      expectValid(o.resource);
      expect(vitalSignsProblems(o.resource)).toEqual([]);
      expect(o.resource.subject?.reference).toBe('Patient/p-1');
      // '_' is no FHIR id character: the device reference is the name-based id, as for readings
      expect(o.resource.device?.reference).toBe(`Device/${nameBasedUuid('Device:ecg_patch-1')}`);
      expect(o.resource.method?.text).toContain('1.2.3');
    }
    expectValid(m.provenance);

    const [hr, sdnn, rmssd, rhythm] = m.observations.map((o) => o.resource) as Observation[];
    expect(hr?.meta?.profile).toEqual([VITAL_SIGNS_PROFILES.heartrate]);
    expect(codings(hr as Observation)).toContain(`${LOINC}|8867-4`);
    expect(hr?.valueQuantity).toEqual({
      value: 71.4,
      unit: 'beats/minute',
      system: 'http://unitsofmeasure.org',
      code: '/min',
    });
    expect(hr?.effectivePeriod).toEqual({
      start: '2025-03-04T05:06:00.000Z',
      end: '2025-03-04T05:06:10.000Z',
    });
    // the rate window's derivedFrom: the ten one-second chunks it covers
    expect(hr?.derivedFrom).toHaveLength(10);
    expect(codings(sdnn as Observation)).toEqual([`${LOINC}|80404-7`]);
    expect(sdnn?.valueQuantity?.code).toBe('ms');
    // HRV covers the 60 s ending at the window's end
    expect(sdnn?.effectivePeriod?.start).toBe('2025-03-04T05:05:10.000Z');
    expect(sdnn?.derivedFrom).toHaveLength(60);
    expect(rmssd?.valueQuantity?.value).toBe(33.3);
    expect(rhythm?.status).toBe('preliminary');
    expect(codings(rhythm as Observation)).toEqual([`${LOINC}|8884-9`]);
    expect(rhythm?.valueCodeableConcept?.coding).toEqual([
      { system: SNOMED, code: '49436004', display: 'Atrial fibrillation' },
    ]);
    expect(rhythm?.interpretation?.[0]?.coding?.[0]?.code).toBe('POS');
    expect(rhythm?.note?.[0]?.text).toMatch(/not a diagnosis/);
  });

  it('gives a Provenance naming the software version, the device and every source', () => {
    const m = mapDerived(input(ecgWindow));
    const p = m.provenance;
    expect(p.id).toBe(m.observations[0]?.id);
    expect(p.target).toEqual(m.observations.map((o) => ({ reference: `Observation/${o.id}` })));
    expect(p.activity?.coding?.[0]?.code).toBe('Derivation');
    expect(p.agent[0]?.type?.coding?.[0]?.code).toBe('assembler');
    expect(p.agent[0]?.who.display).toBe('OpenIoMT waveform analysis 1.2.3');
    expect(p.agent[1]?.who.reference).toMatch(/^Device\//);
    const cited = new Set(m.observations.flatMap((o) => o.resource.derivedFrom?.map((r) => r.reference)));
    expect(new Set(p.entity?.map((e) => e.what.reference))).toEqual(cited);
    expect(p.entity?.every((e) => e.role === 'source')).toBe(true);
    expect(p.occurredPeriod).toEqual({ start: '2025-03-04T05:05:10.000Z', end: '2025-03-04T05:06:10.000Z' });
  });

  it('uses ids from (device, window start, code), the same on every run', () => {
    const a = mapDerived(input(ecgWindow));
    const b = mapDerived(input(ecgWindow, { recorded: '2026-01-01T00:00:00Z' }));
    expect(b.observations.map((o) => o.id)).toEqual(a.observations.map((o) => o.id));
    expect(a.observations[0]?.id).toBe(derivedObservationId('ecg_patch-1', T0, 'heart-rate'));
    expect(a.observations[0]?.resource.identifier).toEqual([
      { system: DERIVED_IDENTIFIER_SYSTEM, value: `ecg_patch-1/${T0}/heart-rate` },
    ]);
    const later = mapDerived(input({ ...ecgWindow, startMs: T0 + 10_000, endMs: T0 + 20_000 }));
    expect(later.observations[0]?.id).not.toBe(a.observations[0]?.id);
  });

  it('maps PPG to pulse rate (8889-8 and 8867-4, heart-rate profile) and never HRV or rhythm', () => {
    const m = mapDerived(input({ ...ecgWindow, kind: 'ppg', rate: 64 }));
    expect(m.observations.map((o) => o.code)).toEqual(['pulse-rate']);
    const o = m.observations[0]?.resource as Observation;
    expect(codings(o)).toEqual(expect.arrayContaining([`${LOINC}|8889-8`, `${LOINC}|8867-4`]));
    expect(o.meta?.profile).toEqual([VITAL_SIGNS_PROFILES.heartrate]);
    expect(vitalSignsProblems(o)).toEqual([]);
    expectValid(o);
  });

  it('maps respiration to respiratory rate (9279-1, resprate profile)', () => {
    const m = mapDerived(
      input({ kind: 'resp', startMs: T0, endMs: T0 + 30_000, quality: 0.8, leadOff: false, rate: 14.2 }),
    );
    const o = m.observations[0]?.resource as Observation;
    expect(codings(o)[0]).toBe(`${LOINC}|9279-1`);
    expect(o.effectivePeriod?.start).toBe('2025-03-04T05:06:00.000Z');
    expect(o.meta?.profile).toEqual([VITAL_SIGNS_PROFILES.resprate]);
    expect(o.valueQuantity?.value).toBe(14.2);
    expect(vitalSignsProblems(o)).toEqual([]);
  });

  it('covers the longer stretch a respiratory rate was taken over', () => {
    const w: DerivedWindow = {
      kind: 'resp',
      startMs: T0,
      endMs: T0 + 10_000,
      quality: 0.8,
      leadOff: false,
      rate: 12,
    };
    const m = mapDerived(input(w, { rateSpanMs: 30_000 }));
    const o = m.observations[0]?.resource as Observation;
    expect(o.effectivePeriod).toEqual({ start: '2025-03-04T05:05:40.000Z', end: '2025-03-04T05:06:10.000Z' });
    expect(o.derivedFrom).toHaveLength(30);
    // the id still names the window, so it is the same whatever the span
    expect(m.observations[0]?.id).toBe(derivedObservationId('ecg_patch-1', T0, 'respiratory-rate'));
  });

  it('says why there is no value when the lead is off, and stays valid for the profile', () => {
    const m = mapDerived(input({ kind: 'ecg', startMs: T0, endMs: T0 + 10_000, quality: 0, leadOff: true }));
    expect(m.observations).toHaveLength(1);
    const o = m.observations[0]?.resource as Observation;
    expect(o.valueQuantity).toBeUndefined();
    expect(o.dataAbsentReason?.coding?.[0]?.code).toBe('error');
    expect(o.dataAbsentReason?.text).toMatch(/lead off/);
    expect(vitalSignsProblems(o)).toEqual([]);
    expectValid(o);
    expectValid(m.provenance);
  });

  it('calls a regular stretch "AF not suspected" without claiming a rhythm code', () => {
    const m = mapDerived(input({ ...ecgWindow, rhythm: 'not-af' }));
    const rhythm = m.observations.find((o) => o.code === 'heart-rhythm')?.resource as Observation;
    expect(rhythm.valueCodeableConcept).toEqual({ text: 'AF not suspected' });
    expect(rhythm.interpretation?.[0]?.coding?.[0]?.code).toBe('NEG');
  });

  it('refuses a window that is not a stretch of time', () => {
    expect(() => mapDerived(input({ ...ecgWindow, endMs: T0 }))).toThrow(RangeError);
    expect(() => mapDerived(input({ ...ecgWindow, startMs: Number.NaN }))).toThrow(RangeError);
  });
});

const maybeNumber = fc.option(
  fc.oneof(fc.double({ min: -50, max: 500, noNaN: true }), fc.constant(Number.NaN), fc.constant(Infinity)),
  { nil: undefined },
);

const windowArb: fc.Arbitrary<DerivedWindow> = fc
  .record({
    kind: fc.constantFrom('ecg', 'ppg', 'resp'),
    startMs: fc.integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2100-01-01T00:00:00Z') }),
    lengthMs: fc.integer({ min: 1, max: 600_000 }),
    quality: fc.double({ min: 0, max: 1, noNaN: true }),
    leadOff: fc.boolean(),
    rate: maybeNumber,
    hrv: fc.option(
      fc.record({
        sdnnMs: fc.double({ min: -10, max: 20_000, noNaN: true }),
        rmssdMs: fc.double({ min: -10, max: 20_000, noNaN: true }),
        pnn50: fc.double({ min: 0, max: 1, noNaN: true }),
        beats: fc.integer({ min: 0, max: 2000 }),
        spanMs: fc.oneof(fc.integer({ min: -5, max: 900_000 }), fc.constant(Number.NaN)),
      }),
      { nil: undefined },
    ),
    rhythm: fc.option(fc.constantFrom('af-suspected' as const, 'not-af' as const), { nil: undefined }),
  })
  .map(({ lengthMs, rate, hrv, rhythm, ...w }) => ({
    ...w,
    endMs: w.startMs + lengthMs,
    ...(rate === undefined ? {} : { rate }),
    ...(hrv === undefined ? {} : { hrv }),
    ...(rhythm === undefined ? {} : { rhythm }),
  }));

describe('mapDerived over arbitrary windows', () => {
  it('always makes valid R4 resources that hold together', () => {
    fc.assert(
      fc.property(
        windowArb,
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: -700_000, max: 700_000 }),
        fc.constantFrom(...WAVEFORM_CODES),
        (w, n, offset, sourceCode) => {
          const sources = chunks(w.startMs + offset, w.startMs + offset + n * 1000);
          const m = mapDerived(input(w, { sources, sourceCode }));
          expect(m.observations[0]?.code).toBe(RATE_CODE[w.kind]);
          const ids = m.observations.map((o) => o.id);
          expect(new Set(ids).size).toBe(ids.length);
          for (const o of m.observations) {
            expect(fhir.errors(o.resource)).toBeUndefined();
            expect(vitalSignsProblems(o.resource)).toEqual([]);
            expect(o.id).toBe(derivedObservationId('ecg_patch-1', w.startMs, o.code));
            expect(o.effective).toBe(o.resource.effectivePeriod?.start);
            const { start, end } = o.resource.effectivePeriod ?? {};
            // every source cited overlaps the stretch the Observation covers
            for (const ref of o.resource.derivedFrom ?? []) {
              const s = sources.find((x) => `Observation/${x.id}` === ref.reference) as DerivedSource;
              expect(s.startMs < Date.parse(end as string) && s.endMs > Date.parse(start as string)).toBe(
                true,
              );
            }
            const hasValue = o.resource.valueQuantity ?? o.resource.valueCodeableConcept;
            expect(Boolean(hasValue) !== Boolean(o.resource.dataAbsentReason)).toBe(true);
          }
          expect(fhir.errors(m.provenance)).toBeUndefined();
          expect(m.provenance.target.map((t) => t.reference)).toEqual(ids.map((id) => `Observation/${id}`));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('observationCodesForToken', () => {
  it('finds every indexed code whose Observation.code carries the token', () => {
    expect(observationCodesForToken('8867-4')).toEqual(['heart-rate', 'pulse-rate']);
    expect(observationCodesForToken(`${LOINC}|8867-4`)).toEqual(['heart-rate', 'pulse-rate']);
    expect(observationCodesForToken(`${LOINC}|8889-8`)).toEqual(['pulse-rate']);
    expect(observationCodesForToken('80404-7')).toEqual(['hrv-sdnn']);
    expect(observationCodesForToken('8884-9')).toEqual(['heart-rhythm']);
    expect(observationCodesForToken('85354-9')).toEqual(['blood-pressure']);
    expect(observationCodesForToken('131330')).toEqual(['ecg-ii', 'ecg-mlii']);
  });

  it('keeps accepting catalogue codes, and matches nothing it does not know', () => {
    expect(observationCodesForToken('heart-rate')).toEqual(['heart-rate']);
    expect(observationCodesForToken('ecg-ii')).toEqual(['ecg-ii']);
    expect(observationCodesForToken('|8867-4')).toEqual([]);
    expect(observationCodesForToken('http://example.org|8867-4')).toEqual([]);
    expect(observationCodesForToken('0000-0')).toEqual([]);
    expect(observationCodesForToken(`${SNOMED}|`)).toEqual(
      ['fall', 'supplemental-oxygen'].concat('consciousness').sort(),
    );
  });
});
