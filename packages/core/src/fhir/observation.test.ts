import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOINC, MDC, UCUM } from '../codes/vitals.ts';
import type { ReadingMessage, VitalSample } from '../message/reading.ts';
import { fhirId, observationId, observationIdScheme } from './ids.ts';
import { mapReading } from './map-reading.ts';
import { decodeSamples, encodeSamples } from './observation.ts';
import { OBSERVATION_CATEGORY, VITAL_SIGNS_PROFILES } from './profiles.ts';
import { deviceResource, patientResource } from './resources.ts';
import { vitalSignsProblems } from './vitalsigns-profile.ts';

const TS = '2025-03-01T10:00:00+01:00';
const msg = (vitals: VitalSample[], extra: Partial<ReadingMessage> = {}): ReadingMessage => ({
  v: 1,
  device: 'cuff-1',
  seq: 42,
  ts: TS,
  vitals,
  waveforms: [],
  ...extra,
});
const map = (m: ReadingMessage) =>
  mapReading({
    message: m,
    patientId: 'pat-1',
    kid: 'kid-1',
    jws: 'a.b.c',
    receivedAt: '2025-03-01T09:00:01Z',
  });

describe('vital Observations', () => {
  it('maps heart rate to the heartrate profile with UCUM /min and all catalogue codings', () => {
    const [o] = map(msg([{ code: 'heart-rate', value: 72 }])).observations;
    const r = o?.resource;
    expect(o?.code).toBe('heart-rate');
    expect(o?.effective).toBe(TS);
    expect(r?.meta?.profile).toEqual([VITAL_SIGNS_PROFILES.heartrate]);
    expect(r?.status).toBe('final');
    expect(r?.category?.[0]?.coding?.[0]).toMatchObject({
      system: OBSERVATION_CATEGORY,
      code: 'vital-signs',
    });
    expect(r?.code.coding?.map((c) => `${c.system}|${c.code}`)).toEqual([`${LOINC}|8867-4`, `${MDC}|147842`]);
    expect(r?.valueQuantity).toEqual({ value: 72, unit: 'beats/minute', system: UCUM, code: '/min' });
    expect(r?.subject?.reference).toBe('Patient/pat-1');
    expect(r?.device?.reference).toBe('Device/cuff-1');
    expect(r?.effectiveDateTime).toBe(TS);
    expect(r?.identifier).toEqual([{ system: 'urn:openiomt:reading', value: 'cuff-1/42/0' }]);
    expect(r?.id).toBe(observationId({ device: 'cuff-1', seq: 42, ts: TS }, 0));
  });

  it('uses the sample time when given, and category activity for steps and falls', () => {
    const at = '2025-03-01T08:59:00Z';
    const obs = map(
      msg([
        { code: 'steps', value: 1200, at },
        { code: 'fall', value: true },
      ]),
    ).observations;
    expect(obs[0]?.effective).toBe(at);
    expect(obs[0]?.resource.valueQuantity?.code).toBe('{steps}');
    expect(obs[0]?.resource.category?.[0]?.coding?.[0]?.code).toBe('activity');
    expect(obs[1]?.resource.valueBoolean).toBe(true);
    expect(obs[1]?.resource.meta).toBeUndefined();
  });

  it('codes ACVPU answers with SNOMED CT', () => {
    const [o] = map(msg([{ code: 'consciousness', value: 'V' }])).observations;
    expect(o?.resource.category?.[0]?.coding?.[0]?.code).toBe('survey');
    expect(o?.resource.valueCodeableConcept).toEqual({
      coding: [{ system: 'http://snomed.info/sct', code: '300202002', display: 'Responds to voice' }],
      text: 'V',
    });
  });

  it('merges systolic + diastolic (+ mean) of one time into one bp panel', () => {
    const obs = map(
      msg([
        { code: 'bp-diastolic', value: 80, at: '2025-03-01T09:00:00Z' },
        { code: 'heart-rate', value: 60 },
        { code: 'bp-mean', value: 93, at: '2025-03-01T10:00:00+01:00' },
        { code: 'bp-systolic', value: 120, at: '2025-03-01T09:00:00.000Z' },
      ]),
    ).observations;
    expect(obs.map((o) => o.code)).toEqual(['heart-rate', 'blood-pressure']);
    const bp = obs[1]?.resource;
    expect(bp?.meta?.profile).toEqual([VITAL_SIGNS_PROFILES.bp]);
    expect(bp?.code.coding?.[0]?.code).toBe('85354-9');
    expect(bp?.valueQuantity).toBeUndefined();
    expect(bp?.component?.map((c) => [c.code.coding?.[0]?.code, c.valueQuantity?.value])).toEqual([
      ['8480-6', 120],
      ['8462-4', 80],
      ['8478-0', 93],
    ]);
    expect(bp?.identifier?.[0]?.value).toBe('cuff-1/42/3'); // named after the systolic sample
    expect(vitalSignsProblems(bp as never)).toEqual([]);
  });

  it('keeps values of different times, and lone values, as their own Observations', () => {
    const obs = map(
      msg([
        { code: 'bp-systolic', value: 120, at: '2025-03-01T09:00:00Z' },
        { code: 'bp-diastolic', value: 80, at: '2025-03-01T09:00:01Z' },
        { code: 'bp-mean', value: 90 },
      ]),
    ).observations;
    expect(obs.map((o) => o.code)).toEqual(['bp-systolic', 'bp-diastolic', 'bp-mean']);
    expect(obs[0]?.resource.meta?.profile).toEqual([VITAL_SIGNS_PROFILES.vitalsigns]);
    expect(obs[0]?.resource.valueQuantity?.code).toBe('mm[Hg]');
  });
});

describe('waveform Observations', () => {
  it('maps an ECG chunk to SampledData like the R4 ekg example', () => {
    const start = '2025-03-01T09:00:00.004Z';
    const obs = map(
      msg([{ code: 'heart-rate', value: 70 }], {
        waveforms: [{ code: 'ecg-ii', rate: 250, start, factor: 0.005, origin: 0, data: [1, -2, null, 3.5] }],
      }),
    ).observations;
    const w = obs[1];
    expect(w?.code).toBe('ecg-ii');
    expect(w?.effective).toBe(start);
    expect(w?.resource.category?.[0]?.coding?.[0]?.code).toBe('procedure');
    expect(w?.resource.code.coding?.[0]).toEqual({
      system: MDC,
      code: '131330',
      display: 'MDC_ECG_ELEC_POTL_II',
    });
    expect(w?.resource.valueSampledData).toEqual({
      origin: { value: 0, unit: 'mV', system: UCUM, code: 'mV' },
      period: 4,
      factor: 0.005,
      dimensions: 1,
      data: '1 -2 E 3.5',
    });
    expect(w?.resource.identifier?.[0]?.value).toBe('cuff-1/42/1'); // index after the vitals
  });

  it('encodes and decodes samples, E for missing', () => {
    expect(encodeSamples([0, null, -1e-7, 1e21])).toBe('0 E -1e-7 1e+21');
    expect(decodeSamples('0 E -1e-7 1e+21')).toEqual([0, null, -1e-7, 1e21]);
  });
});

describe('ids', () => {
  const at = (device: string, seq: number, ts = '2026-01-01T00:00:00Z') => ({ device, seq, ts });

  it('are version 7 UUIDs led by the reading time, stable, and differ per triple', () => {
    const id = observationId(at('d', 1), 0);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replace('-', '').slice(0, 12), 16)).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(observationId(at('d', 1), 0)).toBe(id);
    expect(
      new Set([id, observationId(at('d', 1), 1), observationId(at('d', 2), 0), observationId(at('e', 1), 0)])
        .size,
    ).toBe(4);
    expect(observationId(at('d/1', 1), 0)).not.toBe(observationId(at('d', 11), 0));
    expect(observationIdScheme(id)).toBe('time-ordered');
  });

  it('sort in the order of their readings times, whatever the device', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ device: fc.string(), seq: fc.nat(), ms: fc.integer({ min: 0, max: 4e12 }) }), {
          minLength: 2,
          maxLength: 20,
        }),
        (refs) => {
          const ids = refs.map((r) => ({
            ms: r.ms,
            id: observationId(at(r.device, r.seq, new Date(r.ms).toISOString()), 0),
          }));
          const byId = [...ids].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((x) => x.ms);
          expect(byId).toEqual([...byId].sort((a, b) => a - b));
        },
      ),
    );
  });

  it('keep the hashed ids given out before stop 15 for readings stored with them', () => {
    // Pinned: an id once given out must name the same Observation for good.
    const hashed = observationId(at('d', 1), 0, 'hashed');
    expect(hashed).toBe('8db554c6-706f-8eef-b252-435e0c90e7b6');
    expect(observationIdScheme(hashed)).toBe('hashed');
  });

  it('turn a device id with _ into a FHIR id, used alike by Device and references', () => {
    const fid = fhirId('Device', 'ecg_1');
    expect(fid).toMatch(/^[A-Za-z0-9.-]{1,64}$/);
    expect(fhirId('Device', 'ecg-1')).toBe('ecg-1');
    const dev = deviceResource({ id: 'ecg_1', kind: 'ecg-patch', status: 'active', patientId: 'p_1' });
    expect(dev.id).toBe(fid);
    expect(dev.identifier?.[0]?.value).toBe('ecg_1');
    expect(dev.patient?.reference).toBe(`Patient/${patientResource({ id: 'p_1' }).id}`);
    const [o] = map(msg([{ code: 'spo2', value: 97 }], { device: 'ecg_1' })).observations;
    expect(o?.resource.device?.reference).toBe(`Device/${fid}`);
    expect(o?.resource.identifier?.[0]?.value).toBe('ecg_1/42/0');
  });
});

describe('Device and Patient', () => {
  it('marks a revoked device inactive and keeps model, maker and firmware', () => {
    const d = deviceResource({
      id: 'ox-1',
      kind: 'pulse-oximeter',
      model: 'PO-3',
      manufacturer: 'Acme',
      status: 'revoked',
      firmware: '2.0',
    });
    expect(d.status).toBe('inactive');
    expect(d.manufacturer).toBe('Acme');
    expect(d.deviceName).toEqual([{ name: 'PO-3', type: 'model-name' }]);
    expect(d.version).toEqual([{ type: { text: 'firmware' }, value: '2.0' }]);
    expect(deviceResource({ id: 'ox-1', kind: 'pulse-oximeter', status: 'registered' }).status).toBe(
      'active',
    );
  });

  it('gives a patient a display name and medical record number', () => {
    const p = patientResource({ id: 'p-9', identifier: 'MRN-1', displayName: 'Ann' });
    expect(p.name).toEqual([{ text: 'Ann' }]);
    expect(p.identifier?.[1]?.value).toBe('MRN-1');
    expect(p.identifier?.[1]?.type?.coding?.[0]?.code).toBe('MR');
  });
});
