import {
  type CompactJws,
  decodeReading,
  fail,
  ok,
  parseCompactJws,
  parseInstant,
  type ReadingMessage,
  type Result,
  reject,
  verifyJwsAsync,
} from '@openiomt/core';
import type { DeviceRegistry } from './device-registry.ts';

export interface VerifyPolicy {
  readonly maxClockSkewS: number;
  readonly maxMessageAgeS: number;
  readonly maxMessageBytes: number;
}

export interface VerifiedMessage {
  readonly jws: CompactJws;
  readonly message: ReadingMessage;
  readonly kid: string;
  readonly patientId: string;
}

/**
 * Everything that decides whether one signed message may be believed, cheapest check first: size, JWS
 * shape, a known live key, the signature, the payload schema, the device named in it, its clock and its
 * patient at that time. Replays are judged later, against what is stored.
 */
export async function verifyMessage(
  raw: Buffer,
  authenticatedDevice: string | undefined,
  nowMs: number,
  policy: VerifyPolicy,
  registry: DeviceRegistry,
): Promise<Result<VerifiedMessage> & { deviceId?: string }> {
  if (raw.length > policy.maxMessageBytes)
    return fail(reject('oversize', `message is ${raw.length} bytes; the limit is ${policy.maxMessageBytes}`));
  const parsed = parseCompactJws(raw.toString('latin1').trim());
  if (!parsed.ok) return parsed;
  const jws = parsed.value;
  const key = await registry.key(jws.header.kid);
  if (!key) return fail(reject('unknown-key', `no device key with kid ${jws.header.kid}`));
  const deviceId = key.deviceId;
  const withDevice = <T>(r: Result<T>) => ({ ...r, deviceId });
  if (authenticatedDevice !== undefined && authenticatedDevice !== deviceId)
    return withDevice(
      fail(reject('device-mismatch', `signed by ${deviceId}'s key but sent by ${authenticatedDevice}`)),
    );
  const device = await registry.device(deviceId);
  if (!device) return withDevice(fail(reject('unknown-device', `device ${deviceId} is not registered`)));
  if (device.status === 'revoked' || key.revoked)
    return withDevice(fail(reject('device-revoked', `device ${deviceId} or key ${key.kid} is revoked`)));
  if (key.notAfterMs !== undefined && nowMs > key.notAfterMs)
    return withDevice(
      fail(
        reject('unknown-key', `key ${key.kid} was rotated out at ${new Date(key.notAfterMs).toISOString()}`),
      ),
    );
  if (!(await verifyJwsAsync(jws, key.key)))
    return withDevice(fail(reject('bad-signature', 'EdDSA signature does not verify')));
  const decoded = decodeReading(jws.payload, { maxBytes: policy.maxMessageBytes });
  if (!decoded.ok) return withDevice(decoded);
  const message = decoded.value;
  if (message.device !== deviceId)
    return withDevice(
      fail(
        reject('device-mismatch', `payload names ${message.device}, key belongs to ${deviceId}`, '/device'),
      ),
    );
  const ts = parseInstant(message.ts) as number;
  if (ts > nowMs + policy.maxClockSkewS * 1000)
    return withDevice(
      fail(reject('stale-timestamp', `ts is ${Math.round((ts - nowMs) / 1000)} s in the future`, '/ts')),
    );
  if (ts < nowMs - policy.maxMessageAgeS * 1000)
    return withDevice(fail(reject('stale-timestamp', `ts is older than ${policy.maxMessageAgeS} s`, '/ts')));
  const patientId = await registry.patientAt(deviceId, ts);
  if (patientId === undefined)
    return withDevice(
      fail(reject('unassigned-device', `device ${deviceId} had no patient at ${message.ts}`, '/ts')),
    );
  return { ...ok({ jws, message, kid: key.kid, patientId }), deviceId };
}
