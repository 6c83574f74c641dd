import { signCompactJws } from '@openiomt/core';
import { describeProblem, type HttpsOptions, requestJson } from './http-client.ts';
import type { DeviceKeyPair } from './keys.ts';
import { MemorySequenceStore } from './sequence.ts';
import { ReadingSigner } from './signer.ts';

export class EnrolmentError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'EnrolmentError';
  }
}

const devicePath = (baseUrl: string, deviceId: string, tail: string) =>
  `${baseUrl.replace(/\/+$/, '')}/api/v1/devices/${encodeURIComponent(deviceId)}/${tail}`;

const nowS = () => Math.floor(Date.now() / 1000);

/**
 * The body of `POST /api/v1/devices/{id}/enrol`: the public key, and a proof signed by the new key that
 * shows the caller holds it and binds the code to this device (valid for 10 minutes).
 */
export function enrolmentRequest(
  deviceId: string,
  enrolmentCode: string,
  key: DeviceKeyPair,
): { jwk: DeviceKeyPair['publicJwk']; proof: string } {
  const proof = signCompactJws({ device: deviceId, enrolmentCode, iat: nowS() }, key.privateKey, key.kid);
  return { jwk: key.publicJwk, proof };
}

/** Registers the device's public key with the one-time enrolment code an administrator issued. */
export async function enrol(
  baseUrl: string,
  deviceId: string,
  enrolmentCode: string,
  key: DeviceKeyPair,
  opts: HttpsOptions = {},
): Promise<{ kid: string }> {
  const res = await requestJson(
    devicePath(baseUrl, deviceId, 'enrol'),
    'POST',
    enrolmentRequest(deviceId, enrolmentCode, key),
    {},
    opts,
  );
  if (res.status !== 201)
    throw new EnrolmentError(`enrolment of ${deviceId} refused: ${describeProblem(res)}`, res.status);
  const kid = (res.body as { kid?: unknown } | undefined)?.kid;
  if (typeof kid !== 'string') throw new EnrolmentError('enrolment response lacks kid', res.status);
  return { kid };
}

/**
 * Replaces the device key: authorised by a token from the current key, proven by a signature of the new
 * one. Keep signing with the current key until this resolves; previous keys stay valid until the
 * returned time so messages already in the outbox are still accepted.
 */
export async function rotateKey(
  baseUrl: string,
  deviceId: string,
  currentKey: DeviceKeyPair,
  newKey: DeviceKeyPair,
  opts: HttpsOptions = {},
): Promise<{ kid: string; previousKeysValidUntil: string }> {
  const token = new ReadingSigner({ deviceId, key: currentKey, sequence: new MemorySequenceStore() }).token(
    120,
  );
  const proof = signCompactJws(
    { device: deviceId, rotate: true, iat: nowS() },
    newKey.privateKey,
    newKey.kid,
  );
  const res = await requestJson(
    devicePath(baseUrl, deviceId, 'keys'),
    'POST',
    { jwk: newKey.publicJwk, proof },
    { authorization: `Bearer ${token}` },
    opts,
  );
  if (res.status !== 201)
    throw new EnrolmentError(`key rotation of ${deviceId} refused: ${describeProblem(res)}`, res.status);
  const body = res.body as { kid?: unknown; previousKeysValidUntil?: unknown } | undefined;
  if (typeof body?.kid !== 'string' || typeof body.previousKeysValidUntil !== 'string')
    throw new EnrolmentError('key rotation response lacks kid or previousKeysValidUntil', res.status);
  return { kid: body.kid, previousKeysValidUntil: body.previousKeysValidUntil };
}
