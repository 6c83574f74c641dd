import {
  checkDeviceToken,
  type Ed25519PublicJwk,
  importEd25519,
  isEd25519PublicJwk,
  jwkThumbprint,
  parseCompactJws,
  verifyJws,
} from '@openiomt/core';
import { badRequest, HttpProblem, unauthorized } from '../http/problem.ts';
import { type DeviceKey, EnrolmentRefused, type Store, StoreError } from '../store/types.ts';
import type { DeviceRegistry } from './device-registry.ts';

const PROOF_MAX_AGE_S = 600;

/**
 * Key enrolment and rotation. The device makes its key pair and proves possession of the private key by
 * signing a proof with it; only the public key ever reaches the platform.
 */
export class Enrolment {
  constructor(
    private readonly store: Store,
    private readonly registry: DeviceRegistry,
    private readonly keyOverlapS: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * `source`: the address the request came from, for the security event. Every refusal (a bad key or proof
   * of possession, a wrong, used or expired code, an unknown or revoked device) is an `enrolment-refused`
   * security event naming the reason, never the code; the answer stays the same whatever the reason.
   */
  async enrol(deviceId: string, body: Record<string, unknown>, source: string): Promise<DeviceKey> {
    try {
      return await this.enrolKey(deviceId, body, source);
    } catch (e) {
      const reason = refusalReason(e);
      if (reason === undefined) throw e; // not a refusal (the database failed, say)
      // The device is named only when it is registered: anyone can put any id in the path.
      const known =
        e instanceof EnrolmentRefused
          ? e.reason !== 'unknown device'
          : (await this.store.devices.get(deviceId)) !== undefined;
      await this.store.securityEvents.add({
        kind: 'enrolment-refused',
        ...(known ? { deviceId } : {}),
        source,
        subsystem: 'enrolment',
        detail: known ? reason : `device ${deviceId}: ${reason}`,
      });
      throw e;
    }
  }

  private async enrolKey(
    deviceId: string,
    body: Record<string, unknown>,
    source: string,
  ): Promise<DeviceKey> {
    const jwk = readJwk(body);
    const proof = this.readProof(body, jwk, deviceId);
    const code = proof.enrolmentCode;
    if (typeof code !== 'string' || code.length === 0 || code.length > 64)
      throw badRequest('proof payload needs enrolmentCode', '/proof');
    const key = await this.store.devices.enrol(deviceId, code, jwk);
    this.registry.invalidateDevice(deviceId);
    await this.store.securityEvents.add({
      kind: 'key-enrolled',
      deviceId,
      source,
      subsystem: 'enrolment',
      detail: `kid ${key.kid}`,
    });
    return key;
  }

  /** Rotation: authorised by a token signed with a current key, the new key proven by its own signature. */
  async rotate(
    deviceId: string,
    authorization: string | undefined,
    body: Record<string, unknown>,
    source: string,
  ) {
    await this.authenticateDevice(deviceId, authorization);
    const jwk = readJwk(body);
    const proof = this.readProof(body, jwk, deviceId);
    if (proof.rotate !== true) throw badRequest('proof payload needs "rotate": true', '/proof');
    const overlapUntil = new Date(this.clock() + this.keyOverlapS * 1000).toISOString();
    const key = await this.store.devices.rotateKey(deviceId, jwk, overlapUntil);
    this.registry.invalidateDevice(deviceId);
    await this.store.securityEvents.add({
      kind: 'key-rotated',
      deviceId,
      source,
      subsystem: 'rotation',
      detail: `new kid ${key.kid}`,
    });
    return { key, previousKeysValidUntil: overlapUntil };
  }

  /**
   * The HTTPS readings endpoint is for enrolled devices only: without this, anyone could fill the
   * dead-letter store with junk. A refused token is a security event.
   */
  async authenticateSender(
    deviceId: string,
    authorization: string | undefined,
    source: string,
  ): Promise<void> {
    try {
      await this.authenticateDevice(deviceId, authorization);
    } catch (e) {
      await this.store.securityEvents.add({
        kind: 'auth-failed',
        deviceId,
        source,
        detail: authorization
          ? 'HTTPS readings with an invalid device token'
          : 'HTTPS readings without a device token',
      });
      throw e;
    }
  }

  /** Verifies a device token (Bearer) against the device's live keys; returns the device id. */
  async authenticateDevice(deviceId: string, authorization: string | undefined): Promise<string> {
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
    if (!token) throw unauthorized();
    const parsed = parseCompactJws(token);
    if (!parsed.ok) throw unauthorized();
    const key = await this.registry.key(parsed.value.header.kid);
    const device = key ? await this.registry.device(key.deviceId) : undefined;
    const now = this.clock();
    if (!key || key.deviceId !== deviceId || key.revoked || !device || device.status !== 'active')
      throw unauthorized();
    if (key.notAfterMs !== undefined && now > key.notAfterMs) throw unauthorized();
    if (!verifyJws(parsed.value, key.key)) throw unauthorized();
    if (!checkDeviceToken(parsed.value, deviceId, now).ok) throw unauthorized();
    return deviceId;
  }

  private readProof(
    body: Record<string, unknown>,
    jwk: Ed25519PublicJwk,
    deviceId: string,
  ): Record<string, unknown> {
    if (typeof body.proof !== 'string')
      throw badRequest('proof must be a compact JWS signed by the new key', '/proof');
    const parsed = parseCompactJws(body.proof);
    if (!parsed.ok) throw badRequest(`proof: ${parsed.rejection.detail}`, '/proof');
    if (parsed.value.header.kid !== jwkThumbprint(jwk))
      throw badRequest('proof kid must be the RFC 7638 thumbprint of jwk', '/proof');
    if (!verifyJws(parsed.value, importEd25519(jwk)))
      throw new HttpProblem({
        status: 400,
        title: 'Bad request',
        detail: 'proof signature does not verify with jwk',
        field: '/proof',
      });
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(parsed.value.payload);
    } catch {
      throw badRequest('proof payload must be JSON', '/proof');
    }
    if (claims.device !== deviceId) throw badRequest('proof payload device must be this device', '/proof');
    const iat = claims.iat;
    const now = this.clock() / 1000;
    if (typeof iat !== 'number' || Math.abs(now - iat) > PROOF_MAX_AGE_S)
      throw badRequest(`proof iat must be within ${PROOF_MAX_AGE_S} s of now`, '/proof');
    return claims;
  }
}

/** What an enrolment refusal says in its security event; undefined for an error that is not a refusal. */
function refusalReason(e: unknown): string | undefined {
  if (e instanceof EnrolmentRefused) return e.reason;
  // The key and proof checks: their texts are the platform's own, never the code sent.
  if (e instanceof HttpProblem && e.problem.status < 500) return e.problem.detail ?? e.problem.title;
  if (e instanceof StoreError) return e.message;
  return undefined;
}

function readJwk(body: Record<string, unknown>): Ed25519PublicJwk {
  if (!isEd25519PublicJwk(body.jwk))
    throw badRequest('jwk must be an Ed25519 public JWK (kty OKP, crv Ed25519, x)', '/jwk');
  const { kty, crv, x } = body.jwk;
  return { kty, crv, x };
}
