/**
 * Realistic readings for tests and the commit measurement: a signed message with a 250-sample ECG chunk and
 * four vitals, mapped to five FHIR Observations and a Provenance of the size the ingest pipeline makes.
 */
import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { type Ed25519PublicJwk, jwkThumbprint, signCompactJws } from '@openiomt/core';
import type { ReadingToStore, StoredObservation } from './types.ts';

export interface SampleKey {
  readonly privateKey: KeyObject;
  readonly jwk: Ed25519PublicJwk;
  readonly kid: string;
}

export function sampleKey(): SampleKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const exported = publicKey.export({ format: 'jwk' });
  const jwk: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x: String(exported.x) };
  return { privateKey, jwk, kid: jwkThumbprint(jwk) };
}

const VITALS = [
  { code: 'heart-rate', loinc: '8867-4', display: 'Heart rate', unit: '/min', value: 72 },
  { code: 'spo2', loinc: '59408-5', display: 'Oxygen saturation', unit: '%', value: 97 },
  { code: 'respiratory-rate', loinc: '9279-1', display: 'Respiratory rate', unit: '/min', value: 16 },
  { code: 'body-temperature', loinc: '8310-5', display: 'Body temperature', unit: 'Cel', value: 36.8 },
] as const;

function ecgSamples(seq: number): number[] {
  return Array.from({ length: 250 }, (_, i) => Math.round(400 * Math.sin((i + seq) / 8) + ((i * 37) % 23)));
}

function observation(id: string, patientId: string, deviceId: string, at: string, extra: object) {
  return {
    resourceType: 'Observation',
    id,
    meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] },
    status: 'final',
    category: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/observation-category',
            code: 'vital-signs',
            display: 'Vital Signs',
          },
        ],
      },
    ],
    subject: { reference: `Patient/${patientId}` },
    device: { reference: `Device/${deviceId}` },
    effectiveDateTime: at,
    ...extra,
  };
}

export interface SampleReadingOptions {
  readonly deviceId: string;
  readonly patientId: string;
  readonly seq: number;
  readonly key: SampleKey;
  /** Device time of the reading; default now. */
  readonly ts?: string;
  readonly battery?: number;
  readonly firmware?: string;
}

export function sampleReading(o: SampleReadingOptions): ReadingToStore {
  const ts = o.ts ?? new Date().toISOString();
  const samples = ecgSamples(o.seq);
  const message = {
    v: 1,
    device: o.deviceId,
    seq: o.seq,
    ts,
    vitals: VITALS.map((v) => ({ code: v.code, value: v.value, unit: v.unit })),
    waveforms: [{ code: 'ecg-ii', rate: 250, start: ts, factor: 0.005, origin: 0, data: samples }],
    status: o.battery === undefined ? undefined : { battery: o.battery, firmware: o.firmware },
  };
  const jws = signCompactJws(message, o.key.privateKey, o.key.kid);
  const ecgId = randomUUID();
  const observations: StoredObservation[] = [
    {
      id: ecgId,
      code: 'ecg-ii',
      effective: ts,
      resource: observation(ecgId, o.patientId, o.deviceId, ts, {
        code: {
          coding: [
            { system: 'urn:oid:2.16.840.1.113883.6.24', code: '131330', display: 'MDC_ECG_ELEC_POTL_II' },
          ],
        },
        valueSampledData: {
          origin: { value: 0, unit: 'mV', system: 'http://unitsofmeasure.org', code: 'mV' },
          period: 4,
          factor: 0.005,
          dimensions: 1,
          data: samples.join(' '),
        },
      }),
    },
    ...VITALS.map((v): StoredObservation => {
      const id = randomUUID();
      return {
        id,
        code: v.code,
        effective: ts,
        resource: observation(id, o.patientId, o.deviceId, ts, {
          code: { coding: [{ system: 'http://loinc.org', code: v.loinc, display: v.display }] },
          valueQuantity: { value: v.value, unit: v.unit, system: 'http://unitsofmeasure.org', code: v.unit },
        }),
      };
    }),
  ];
  const provenance = {
    resourceType: 'Provenance',
    target: observations.map((ob) => ({ reference: `Observation/${ob.id}` })),
    recorded: ts,
    agent: [{ who: { reference: `Device/${o.deviceId}` } }],
    signature: [
      {
        type: [{ system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.5' }],
        when: ts,
        who: { reference: `Device/${o.deviceId}` },
        sigFormat: 'application/jose',
        data: Buffer.from(jws).toString('base64'),
      },
    ],
  };
  const status = o.battery === undefined ? undefined : { battery: o.battery, firmware: o.firmware };
  return {
    deviceId: o.deviceId,
    seq: o.seq,
    patientId: o.patientId,
    kid: o.key.kid,
    ts,
    receivedAt: new Date().toISOString(),
    via: 'mqtt',
    jws,
    observations,
    provenance,
    ...(status === undefined ? {} : { status }),
  };
}
