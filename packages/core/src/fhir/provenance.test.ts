import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeReading } from '../message/decode.ts';
import { parseCompactJws, signCompactJws, verifyJws } from '../message/jws.ts';
import { mapReading } from './map-reading.ts';
import { JWS_KID_EXTENSION } from './profiles.ts';
import { canonicalJson, signedJwsOf, verifyProvenance } from './provenance.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519').publicKey;
const payload = {
  v: 1,
  device: 'ox-1',
  seq: 7,
  ts: '2025-03-01T10:00:00Z',
  vitals: [
    { code: 'spo2', value: 96 },
    { code: 'heart-rate', value: 71 },
  ],
  waveforms: [
    { code: 'ppg', rate: 100, start: '2025-03-01T09:59:59Z', factor: 1, origin: 0, data: [1, 2, null] },
  ],
};
const jws = signCompactJws(payload, privateKey, 'kid-1');
const decoded = decodeReading(JSON.stringify(payload));
if (!decoded.ok) throw new Error(decoded.rejection.detail);
const receivedAt = '2025-03-01T10:00:00.250Z';
const mapped = mapReading({ message: decoded.value, patientId: 'pat-1', kid: 'kid-1', jws, receivedAt });
const { provenance } = mapped;
const resources = mapped.observations.map((o) => o.resource);
// What a store gives back: plain JSON, keys possibly reordered (jsonb).
const stored = () => resources.map((r) => JSON.parse(canonicalJson(r)));

describe('Provenance', () => {
  it('names every Observation, the device as author, and carries the JWS as received', () => {
    expect(provenance.target).toEqual(mapped.observations.map((o) => ({ reference: `Observation/${o.id}` })));
    expect(provenance.recorded).toBe(receivedAt);
    expect(provenance.agent[0]?.who.reference).toBe('Device/ox-1');
    expect(provenance.agent[0]?.type?.coding?.[0]?.code).toBe('author');
    const sig = provenance.signature?.[0];
    expect(sig?.type[0]).toEqual({
      system: 'urn:iso-astm:E1762-95:2013',
      code: '1.2.840.10065.1.12.1.5',
      display: 'Verification Signature',
    });
    expect(sig?.sigFormat).toBe('application/jose');
    expect(sig?.when).toBe(receivedAt);
    expect(sig?.who.reference).toBe('Device/ox-1');
    expect(sig?.extension).toEqual([{ url: JWS_KID_EXTENSION, valueString: 'kid-1' }]);
    expect(Buffer.from(sig?.data ?? '', 'base64').toString('utf8')).toBe(jws);
  });

  it('lets anyone re-verify: decode signature.data, check it with the device key, compare', () => {
    // By hand, as an outside auditor would:
    const compact = Buffer.from(provenance.signature?.[0]?.data ?? '', 'base64').toString('utf8');
    const parsed = parseCompactJws(compact);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(verifyJws(parsed.value, publicKey)).toBe(true);
    expect(verifyJws(parsed.value, other)).toBe(false);
    const signed = JSON.parse(parsed.value.payload);
    expect(resources[0]?.valueQuantity?.value).toBe(signed.vitals[0].value);
    // And with the helper, from stored JSON:
    expect(verifyProvenance(provenance, stored(), publicKey)).toMatchObject({ ok: true });
    expect(signedJwsOf(provenance)).toBe(jws);
  });

  it('detects a mutated Observation value, a foreign Observation and the wrong key', () => {
    const tampered = stored();
    tampered[0].valueQuantity.value = 99;
    expect(verifyProvenance(provenance, tampered, publicKey)).toEqual({
      ok: false,
      problem: `Observation ${tampered[0].id} differs from the signed payload`,
    });
    const samples = stored();
    samples[2].valueSampledData.data = '1 2 3';
    expect(verifyProvenance(provenance, samples, publicKey).ok).toBe(false);
    const foreign = stored();
    foreign[1].id = '00000000-0000-8000-8000-000000000000';
    expect(verifyProvenance(provenance, foreign, publicKey)).toMatchObject({ ok: false });
    expect(verifyProvenance(provenance, stored(), other)).toEqual({
      ok: false,
      problem: 'signature does not verify with this key',
    });
  });

  it('re-verifies a reading stored with the hashed ids of before stop 15, and not a mix of both', () => {
    const hashed = mapReading({
      message: decoded.value,
      patientId: 'pat-1',
      kid: 'kid-1',
      jws,
      receivedAt,
      idScheme: 'hashed',
    });
    const hashedStored = hashed.observations.map((o) => JSON.parse(canonicalJson(o.resource)));
    expect(hashedStored.map((o) => o.id)).not.toEqual(stored().map((o) => o.id));
    expect(verifyProvenance(hashed.provenance, hashedStored, publicKey)).toMatchObject({ ok: true });
    // A hashed-id Observation is not a target of the time-ordered Provenance of the same reading.
    expect(verifyProvenance(provenance, hashedStored, publicKey)).toEqual({
      ok: false,
      problem: `Observation ${hashedStored[0].id} is not a target of this Provenance`,
    });
  });

  it('detects a Provenance whose signature data was altered', () => {
    const forged = structuredClone(provenance);
    const sig = forged.signature?.[0];
    if (!sig) throw new Error('no signature');
    const other = signCompactJws({ ...payload, vitals: [{ code: 'spo2', value: 80 }] }, privateKey, 'kid-1');
    sig.data = Buffer.from(other).toString('base64');
    // Validly signed, but a different reading: the stored Observations no longer match it.
    expect(verifyProvenance(forged, stored(), publicKey).ok).toBe(false);
    sig.data = Buffer.from(`${jws}x`).toString('base64');
    expect(verifyProvenance(forged, stored(), publicKey).ok).toBe(false);
  });
});
