/**
 * The latest vitals NEWS2 and the trends start from after a restart: a device's signed readings and values a
 * person entered (FHIR create) count alike, the newer of the two for each vital.
 */
import { randomUUID } from 'node:crypto';
import { VITALS, type VitalCode } from '@openiomt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnteredObservation } from '../fhir/observation-entry.ts';
import { insertEntered } from './observation-search.ts';
import { sampleKey, sampleReading } from './sample-readings.ts';
import { type DisposableStore, storeBackends } from './testing.ts';

const T0 = Date.now() - 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const UCUM = 'http://unitsofmeasure.org';

/** An Observation as a nurse would POST it. */
function entered(patientId: string, code: VitalCode, at: number, value: Record<string, unknown>) {
  return readEnteredObservation(
    {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [VITALS[code].codings[0]] },
      subject: { reference: `Patient/${patientId}` },
      effectiveDateTime: iso(at),
      ...value,
    },
    { userId: 'nurse-1', kind: 'user' },
  );
}

describe.each(storeBackends())('latest vitals on $name', ({ open }) => {
  let store: DisposableStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  it('merges entered values with the device readings, the newest per vital', async () => {
    const deviceId = `dev-${randomUUID().slice(0, 8)}`;
    const patient = await store.patients.create({});
    await store.devices.register({ id: deviceId, kind: 'monitor' });
    await store.assignments.assign({ deviceId, patientId: patient.id, from: '2020-01-01T00:00:00Z' });
    // The device measured heart rate 72 and respiratory rate 16 at T0 + 10 min.
    const reading = sampleReading({
      deviceId,
      patientId: patient.id,
      seq: 1,
      key: sampleKey(),
      ts: iso(T0 + 600_000),
    });
    expect(await store.readings.commit([reading])).toEqual([{ stored: true }]);
    const rows = [
      // Older than the device's: the device's heart rate stays.
      entered(patient.id, 'heart-rate', T0, { valueQuantity: { value: 130, system: UCUM, code: '/min' } }),
      // Newer than the device's: the entered respiratory rate wins.
      entered(patient.id, 'respiratory-rate', T0 + 1_200_000, {
        valueQuantity: { value: 24, system: UCUM, code: '/min' },
      }),
      entered(patient.id, 'consciousness', T0 + 60_000, {
        valueCodeableConcept: { coding: [VITALS.consciousness.answerCodings!.C] },
      }),
      entered(patient.id, 'supplemental-oxygen', T0 + 60_000, { valueBoolean: true }),
      readEnteredObservation(
        {
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
          subject: { reference: `Patient/${patient.id}` },
          effectiveDateTime: iso(T0 + 120_000),
          component: [
            {
              code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
              valueQuantity: { value: 95, system: UCUM, code: 'mm[Hg]' },
            },
            {
              code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
              valueQuantity: { value: 60, system: UCUM, code: 'mm[Hg]' },
            },
          ],
        },
        { userId: 'nurse-1', kind: 'user' },
      ),
    ];
    await store.db.transaction((tx) => insertEntered(tx, rows));
    const codes = [
      'heart-rate',
      'respiratory-rate',
      'consciousness',
      'supplemental-oxygen',
      'blood-pressure',
    ];
    const got = await store.vitals.latest(patient.id, codes, iso(T0 - 1000));
    const byCode = Object.fromEntries(got.map((v) => [v.code, [v.value, v.at]]));
    expect(byCode).toEqual({
      'heart-rate': [72, T0 + 600_000],
      'respiratory-rate': [24, T0 + 1_200_000],
      consciousness: ['C', T0 + 60_000],
      'supplemental-oxygen': [true, T0 + 60_000],
      'bp-systolic': [95, T0 + 120_000],
      'bp-diastolic': [60, T0 + 120_000],
    });
    // Entered before the window: not counted.
    const later = await store.vitals.latest(patient.id, codes, iso(T0 + 900_000));
    expect(later.map((v) => v.code).sort()).toEqual(['respiratory-rate']);
  });

  it('takes the newest measurement, not the last one stored, and never a derived value as entered', async () => {
    const deviceId = `dev-${randomUUID().slice(0, 8)}`;
    const patient = await store.patients.create({});
    await store.devices.register({ id: deviceId, kind: 'monitor' });
    await store.assignments.assign({ deviceId, patientId: patient.id, from: '2020-01-01T00:00:00Z' });
    const key = sampleKey();
    // A store-and-forward upload: sequence numbers do not follow measurement times.
    const minutes = [7, 2, 9, 4, 1];
    await store.readings.commit(
      minutes.map((m, i) =>
        sampleReading({ deviceId, patientId: patient.id, seq: i + 1, key, ts: iso(T0 + m * 60_000) }),
      ),
    );
    // A heart rate waveform analysis derived later than all of them: a device's, not a person's.
    const derivedId = randomUUID();
    await store.derivedObservations.addMany([
      {
        patientId: patient.id,
        deviceId,
        observations: [
          {
            id: derivedId,
            code: 'heart-rate',
            effective: iso(T0 + 20 * 60_000),
            resource: { resourceType: 'Observation', valueQuantity: { value: 140 } },
          },
        ],
        provenance: { id: derivedId },
      },
    ]);
    const codes = ['heart-rate', 'spo2', 'heart-rate'];
    const newest = await store.vitals.latest(patient.id, codes, iso(T0));
    expect(newest.map((v) => [v.code, v.value, v.at]).sort()).toEqual([
      ['heart-rate', 72, T0 + 9 * 60_000],
      ['spo2', 97, T0 + 9 * 60_000],
    ]);
    // No reading since the look-back's start: nothing is remembered.
    expect(await store.vitals.latest(patient.id, codes, iso(T0 + 10 * 60_000))).toEqual([]);
  });

  it('answers many patients at once exactly as one at a time, each with their own values', async () => {
    const key = sampleKey();
    const patients: string[] = [];
    for (let p = 0; p < 3; p++) {
      const deviceId = `dev-${randomUUID().slice(0, 8)}`;
      const patient = await store.patients.create({});
      patients.push(patient.id);
      await store.devices.register({ id: deviceId, kind: 'monitor' });
      await store.assignments.assign({ deviceId, patientId: patient.id, from: '2020-01-01T00:00:00Z' });
      // Patient p has p readings, one a minute: the last has the newest values.
      for (let i = 1; i <= p; i++) {
        const reading = sampleReading({
          deviceId,
          patientId: patient.id,
          seq: i,
          key,
          ts: iso(T0 + i * 60_000),
        });
        await store.readings.commit([reading]);
      }
      await store.db.transaction((tx) =>
        insertEntered(tx, [
          entered(patient.id, 'respiratory-rate', T0 + p * 600_000, {
            valueQuantity: { value: 12 + p, system: UCUM, code: '/min' },
          }),
        ]),
      );
    }
    const codes = ['heart-rate', 'respiratory-rate', 'spo2'];
    const unknown = `nobody-${randomUUID()}`;
    const many = await store.vitals.latestMany([...patients, unknown, patients[1]!], codes, iso(T0));
    expect([...many.keys()].sort()).toEqual([...patients, unknown].sort());
    expect(many.get(unknown)).toEqual([]);
    const sorted = <T extends { code: string }>(v: readonly T[] = []) =>
      [...v].sort((a, b) => a.code.localeCompare(b.code));
    for (const id of patients)
      expect(sorted(many.get(id))).toEqual(sorted(await store.vitals.latest(id, codes, iso(T0))));
    // The patient without readings has only the value a person entered; the others also their device's.
    expect(many.get(patients[0]!)?.map((v) => v.code)).toEqual(['respiratory-rate']);
    expect(sorted(many.get(patients[2]!)).map((v) => [v.code, v.value])).toEqual([
      ['heart-rate', 72],
      ['respiratory-rate', 14],
      ['spo2', 97],
    ]);
  });
});
