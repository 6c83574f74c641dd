import type { CompactJws } from './jws.ts';
import { fail, ok, type Result, reject } from './rejection.ts';

/**
 * A device's short-lived credential: a JWT (RFC 7519) signed with the device key (EdDSA). It is the
 * MQTT CONNECT password (username = device id) and proves possession of the key without any shared
 * secret. Lifetime at most MAX_TOKEN_LIFETIME_S; the platform checks iat/exp against its own clock.
 */
export const DEVICE_TOKEN_AUDIENCE = 'openiomt-device';
export const MAX_TOKEN_LIFETIME_S = 3600;

export interface DeviceTokenClaims {
  readonly sub: string;
  readonly aud: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti?: string;
}

export function deviceTokenClaims(deviceId: string, nowMs: number, lifetimeS = 300): DeviceTokenClaims {
  const iat = Math.floor(nowMs / 1000);
  return { sub: deviceId, aud: DEVICE_TOKEN_AUDIENCE, iat, exp: iat + lifetimeS };
}

/** Checks the claims of an already signature-verified token. */
export function checkDeviceToken(
  jws: CompactJws,
  deviceId: string,
  nowMs: number,
  skewS = 300,
): Result<DeviceTokenClaims> {
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(jws.payload);
  } catch {
    return fail(reject('malformed-jws', 'device token payload is not JSON'));
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c))
    return fail(reject('malformed-jws', 'device token payload must be an object'));
  const now = nowMs / 1000;
  if (c.sub !== deviceId)
    return fail(reject('device-mismatch', 'device token sub is not the connecting device'));
  if (c.aud !== DEVICE_TOKEN_AUDIENCE)
    return fail(reject('malformed-jws', `device token aud must be ${DEVICE_TOKEN_AUDIENCE}`));
  const { iat, exp } = c;
  // NumericDate may be fractional (RFC 7519 §2) but never NaN/Infinity (1e999 parses to Infinity).
  if (typeof iat !== 'number' || typeof exp !== 'number' || !Number.isFinite(iat) || !Number.isFinite(exp))
    return fail(reject('malformed-jws', 'device token needs iat and exp (seconds since the epoch)'));
  if (exp <= iat) return fail(reject('stale-timestamp', 'device token expires before it is issued'));
  if (c.jti !== undefined && typeof c.jti !== 'string')
    return fail(reject('malformed-jws', 'device token jti must be a string'));
  if (exp - iat > MAX_TOKEN_LIFETIME_S)
    return fail(reject('stale-timestamp', 'device token lifetime too long'));
  if (iat > now + skewS) return fail(reject('stale-timestamp', 'device token issued in the future'));
  if (exp < now - skewS) return fail(reject('stale-timestamp', 'device token expired'));
  return ok(c as unknown as DeviceTokenClaims);
}
