import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { VITALS, WAVEFORMS } from '../codes/vitals.ts';
import { decodeReading } from '../message/decode.ts';
import type { ReadingMessage } from '../message/reading.ts';
import { parseInstant } from '../message/time.ts';
import { type FhirValidator, loadFhirValidator } from './fhir-schema.ts';
import { observationId } from './ids.ts';
import { mapReading } from './map-reading.ts';
import { decodeSamples } from './observation.ts';
import { readingArb } from './reading-arbitrary.ts';
import { deviceResource, patientResource } from './resources.ts';
import { vitalSignsProblems } from './vitalsigns-profile.ts';

let fhir: FhirValidator;
beforeAll(() => {
  fhir = loadFhirValidator(); // 3.5 MB schema: compiled once for the whole suite
});

const JWS = 'eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.e30.c2ln';
const map = (message: ReadingMessage, patientId = 'p-1') =>
  mapReading({ message, patientId, kid: 'k1', jws: JWS, receivedAt: '2025-01-02T03:04:05.678Z' });

function expectValid(resource: unknown) {
  expect(fhir.errors(resource)).toBeUndefined();
}

describe('FHIR R4 schema', () => {
  it('rejects what R4 forbids (the validator is live)', () => {
    expect(fhir.errors({ resourceType: 'Observation', status: 'done', code: { text: 'x' } })).toMatch(
      /status/,
    );
    expect(fhir.errors({ resourceType: 'Observation', status: 'final', code: {}, valueFoo: 1 })).toMatch(
      /additional properties/,
    );
    expect(
      fhir.errors({ resourceType: 'Provenance', target: [], recorded: '2025-13-01T00:00:00Z', agent: [] }),
    ).toMatch(/recorded/);
  });

  it('accepts one Observation per catalogue vital and waveform', () => {
    const vitals = Object.values(VITALS).map((d) => ({
      code: d.code,
      value: d.valueKind === 'quantity' ? (d.min ?? 0) + 1 : d.valueKind === 'boolean' ? true : 'V',
    }));
    const waveforms = Object.values(WAVEFORMS).map((w) => ({
      code: w.code,
      rate: 250,
      start: '2025-01-02T03:04:05.5+01:00',
      factor: 0.005,
      origin: 0,
      data: [0, 12, null, -7],
    }));
    const message: ReadingMessage = {
      v: 1,
      device: 'dev_1',
      seq: 9,
      ts: '2025-01-02T03:04:05Z',
      vitals,
      waveforms,
    };
    const mapped = map(message);
    // systolic + diastolic + mean at the message time merge into one panel
    expect(mapped.observations).toHaveLength(vitals.length - 2 + waveforms.length);
    for (const o of mapped.observations) {
      expectValid(o.resource);
      expect(vitalSignsProblems(o.resource)).toEqual([]);
    }
    expectValid(mapped.provenance);
  });

  it('accepts Device and Patient resources, including ids that are not FHIR ids', () => {
    for (const status of ['registered', 'active', 'revoked'] as const) {
      expectValid(deviceResource({ id: 'ecg_patch-01', kind: 'ecg-patch', status }));
      expectValid(
        deviceResource({
          id: 'ox.7',
          kind: 'pulse-oximeter',
          model: 'PO-3',
          manufacturer: 'Acme',
          status,
          patientId: 'p-1',
          firmware: '1.2.3',
        }),
      );
    }
    expectValid(patientResource({ id: 'p-1' }));
    expectValid(
      patientResource({ id: 'patient_with underscore', identifier: 'MRN-42', displayName: 'A. Person' }),
    );
    expectValid(
      patientResource({
        id: 'p-2',
        identifier: 'MRN-43',
        displayName: 'B. Person',
        birthDate: '1950-02-28',
        phone: '+44 20 7946 0000',
        email: 'b.person@example.org',
        address: '1 Example Street, London',
      }),
    );
  });
});

/** Independent oracle for the BP merge: per instant, min(#sys, #dia) panels, each taking one mean. */
function expectedObservationCount(m: ReadingMessage): number {
  const groups = new Map<number, { s: number; d: number; m: number }>();
  for (const v of m.vitals) {
    const t = parseInstant(v.at ?? m.ts) as number;
    const g = groups.get(t) ?? { s: 0, d: 0, m: 0 };
    if (v.code === 'bp-systolic') g.s++;
    if (v.code === 'bp-diastolic') g.d++;
    if (v.code === 'bp-mean') g.m++;
    groups.set(t, g);
  }
  let merged = 0;
  for (const g of groups.values()) {
    const pairs = Math.min(g.s, g.d);
    merged += pairs + Math.min(g.m, pairs);
  }
  return m.vitals.length - merged + m.waveforms.length;
}

describe('mapReading properties (fast-check)', () => {
  it('every generated message decodes (the arbitrary makes valid messages)', () => {
    fc.assert(
      fc.property(readingArb, (m) => {
        const decoded = decodeReading(JSON.stringify(m));
        expect(decoded.ok ? '' : decoded.rejection.detail).toBe('');
      }),
      { numRuns: 300 },
    );
  });

  it('makes schema-valid, profile-conformant resources', () => {
    fc.assert(
      fc.property(readingArb, fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/), (m, patientId) => {
        const mapped = map(m, patientId);
        for (const o of mapped.observations) {
          expectValid(o.resource);
          expect(vitalSignsProblems(o.resource)).toEqual([]);
        }
        expectValid(mapped.provenance);
      }),
      { numRuns: 150 },
    );
  });

  it('is deterministic, with unique ids derived from (device, seq, index)', () => {
    fc.assert(
      fc.property(readingArb, (m) => {
        const a = map(m);
        const b = map(structuredClone(m));
        expect(b).toEqual(a);
        const ids = a.observations.map((o) => o.id);
        expect(new Set(ids).size).toBe(ids.length);
        for (const o of a.observations) {
          const index = Number(o.resource.identifier?.[0]?.value?.split('/').pop());
          expect(o.id).toBe(observationId(m, index));
          expect(o.resource.id).toBe(o.id);
        }
        expect(a.provenance.target.map((t) => t.reference)).toEqual(
          ids.length ? ids.map((id) => `Observation/${id}`) : [expect.stringMatching(/^Device\//)],
        );
      }),
      { numRuns: 200 },
    );
  });

  it('makes one Observation per vital (BP pairs merged) and per waveform chunk', () => {
    fc.assert(
      fc.property(readingArb, (m) => {
        expect(map(m).observations).toHaveLength(expectedObservationCount(m));
      }),
      { numRuns: 300 },
    );
  });

  it('SampledData round-trips to the original samples', () => {
    fc.assert(
      fc.property(readingArb, (m) => {
        const waves = map(m).observations.slice(-m.waveforms.length || Number.POSITIVE_INFINITY);
        m.waveforms.forEach((chunk, j) => {
          const sd = waves[j]?.resource.valueSampledData;
          expect(sd?.dimensions).toBe(1);
          expect(sd?.factor).toBe(chunk.factor);
          expect(sd?.origin.value).toBe(chunk.origin);
          expect((sd?.period ?? 0) * chunk.rate).toBeCloseTo(1000, 6);
          expect(decodeSamples(sd?.data ?? '')).toEqual(chunk.data.map((x) => (x === 0 ? 0 : x)));
        });
      }),
      { numRuns: 200 },
    );
  });
});
