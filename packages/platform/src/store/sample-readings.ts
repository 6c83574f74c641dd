/**
 * Realistic readings for tests and the commit measurement: a signed message with a 250-sample ECG chunk and
 * four vitals, mapped by the same pure FHIR mapping the ingest pipeline uses.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  type Ed25519PublicJwk,
  jwkThumbprint,
  type MappedReading,
  mapReading,
  type ObservationIdScheme,
  type ReadingMessage,
  signCompactJws,
} from '@openiomt/core';
import type { ReadingToStore } from './types.ts';

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
  { code: 'heart-rate', value: 72 },
  { code: 'spo2', value: 97 },
  { code: 'respiratory-rate', value: 16 },
  { code: 'body-temperature', value: 36.8 },
] as const;

function ecgSamples(seq: number): number[] {
  return Array.from({ length: 250 }, (_, i) => Math.round(400 * Math.sin((i + seq) / 8) + ((i * 37) % 23)));
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
  /** How its Observation ids are made; 'hashed' stands for a reading stored before stop 15. */
  readonly idScheme?: ObservationIdScheme;
}

/** A reading as the ingest pipeline hands it to the store, plus the FHIR view it maps to. */
export function sampleReading(o: SampleReadingOptions): ReadingToStore & { fhir: MappedReading } {
  const ts = o.ts ?? new Date().toISOString();
  const status =
    o.battery === undefined
      ? undefined
      : { battery: o.battery, ...(o.firmware ? { firmware: o.firmware } : {}) };
  const message: ReadingMessage = {
    v: 1,
    device: o.deviceId,
    seq: o.seq,
    ts,
    vitals: VITALS.map((v) => ({ code: v.code, value: v.value })),
    waveforms: [{ code: 'ecg-ii', rate: 250, start: ts, factor: 0.005, origin: 0, data: ecgSamples(o.seq) }],
    ...(status ? { status } : {}),
  };
  const jws = signCompactJws(message, o.key.privateKey, o.key.kid);
  const receivedAt = new Date().toISOString();
  const fhir = mapReading({
    message,
    patientId: o.patientId,
    kid: o.key.kid,
    jws,
    receivedAt,
    ...(o.idScheme ? { idScheme: o.idScheme } : {}),
  });
  return {
    deviceId: o.deviceId,
    seq: o.seq,
    patientId: o.patientId,
    kid: o.key.kid,
    ts,
    receivedAt,
    via: 'mqtt',
    jws,
    observations: fhir.observations.map(({ id, code, effective }) => ({ id, code, effective })),
    ...(status === undefined ? {} : { status }),
    fhir,
  };
}
