/**
 * Refused enrolments are security events (`enrolment-refused`, subsystem `enrolment`): each reason named,
 * the device only when it is registered, the code never; the caller's answer is the same whatever the reason.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { type Ed25519PublicJwk, jwkThumbprint, signCompactJws } from '@openiomt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpProblem } from '../http/problem.ts';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import { StoreError } from '../store/types.ts';
import { DeviceRegistry } from './device-registry.ts';
import { Enrolment } from './enrolment.ts';

const SOURCE = '192.0.2.7';
const uid = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

function newKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as unknown as Ed25519PublicJwk;
  const pub = { kty: 'OKP', crv: 'Ed25519', x: jwk.x } as Ed25519PublicJwk;
  return { privateKey, jwk: pub, kid: jwkThumbprint(pub) };
}
type Key = ReturnType<typeof newKey>;
const body = (key: Key, payload: Record<string, unknown>, signer: Key = key) => ({
  jwk: key.jwk,
  proof: signCompactJws({ iat: Math.floor(Date.now() / 1000), ...payload }, signer.privateKey, signer.kid),
});

describe.each(storeBackends())('enrolment refusals on $name', ({ open }) => {
  let store: DisposableStore;
  let enrolment: Enrolment;
  beforeAll(async () => {
    store = await open();
    enrolment = new Enrolment(store, new DeviceRegistry(store), 3600);
  });
  afterAll(async () => {
    await store?.dispose();
  });

  /** Tries an enrolment that must be refused; returns the error and the security events it caused. */
  async function refused(deviceId: string, b: Record<string, unknown>) {
    const before = new Set(
      (await store.securityEvents.list({ kind: 'enrolment-refused', limit: 1000 })).items.map((e) => e.id),
    );
    const error = await enrolment.enrol(deviceId, b, SOURCE).then(
      () => undefined,
      (e: unknown) => e,
    );
    const events = (await store.securityEvents.list({ kind: 'enrolment-refused', limit: 1000 })).items.filter(
      (e) => !before.has(e.id),
    );
    return { error, events };
  }

  it('records a wrong, used and expired code, each with its reason and the device, never the code', async () => {
    const id = uid('dev');
    const { enrolmentCode } = await store.devices.register({ id, kind: 'thermometer' });
    const key = newKey();

    const wrong = await refused(id, body(key, { device: id, enrolmentCode: 'AAAA-BBBB-CC' }));
    expect(wrong.error).toBeInstanceOf(StoreError);
    expect((wrong.error as StoreError).message).toBe('enrolment code is not valid for this device');
    expect(wrong.events).toEqual([
      expect.objectContaining({
        kind: 'enrolment-refused',
        deviceId: id,
        source: SOURCE,
        subsystem: 'enrolment',
        detail: 'wrong enrolment code',
      }),
    ]);

    await enrolment.enrol(id, body(key, { device: id, enrolmentCode }), SOURCE);
    const used = await refused(id, body(newKey(), { device: id, enrolmentCode }));
    expect((used.error as StoreError).message).toBe((wrong.error as StoreError).message);
    expect(used.events.map((e) => [e.deviceId, e.detail])).toEqual([
      [id, 'no enrolment code outstanding (already used, or none issued)'],
    ]);

    const fresh = await store.devices.newEnrolmentCode(id, 3600);
    await store.db.query(
      `UPDATE devices SET enrolment_expires_at = now() - interval '1 second' WHERE id = $1`,
      [id],
    );
    const expired = await refused(id, body(newKey(), { device: id, enrolmentCode: fresh.enrolmentCode }));
    expect((expired.error as StoreError).message).toBe((wrong.error as StoreError).message);
    expect(expired.events.map((e) => [e.deviceId, e.detail])).toEqual([[id, 'enrolment code expired']]);

    for (const e of [...wrong.events, ...used.events, ...expired.events]) {
      expect(e.detail).not.toContain(enrolmentCode);
      expect(e.detail).not.toContain(fresh.enrolmentCode);
      expect(e.detail).not.toContain('AAAA');
    }
  });

  it('names no device for an id nobody registered, and names a revoked one', async () => {
    const nobody = uid('nobody');
    const unknown = await refused(nobody, body(newKey(), { device: nobody, enrolmentCode: 'AAAA-BBBB-CC' }));
    expect((unknown.error as StoreError).code).toBe('enrolment-invalid');
    expect(unknown.events).toHaveLength(1);
    expect(unknown.events[0]?.deviceId).toBeUndefined();
    expect(unknown.events[0]).toMatchObject({
      source: SOURCE,
      subsystem: 'enrolment',
      detail: `device ${nobody}: unknown device`,
    });

    const revoked = uid('dev');
    const { enrolmentCode } = await store.devices.register({ id: revoked, kind: 'wearable' });
    await store.devices.revoke(revoked, 'lost');
    const gone = await refused(revoked, body(newKey(), { device: revoked, enrolmentCode }));
    expect(gone.events.map((e) => [e.deviceId, e.detail])).toEqual([[revoked, 'device revoked']]);
  });

  it('records a bad proof of possession, with the device when it is registered', async () => {
    const id = uid('dev');
    const { enrolmentCode } = await store.devices.register({ id, kind: 'bp-cuff' });
    const forged = await refused(id, body(newKey(), { device: id, enrolmentCode }, newKey()));
    expect(forged.error).toBeInstanceOf(HttpProblem);
    expect(forged.events.map((e) => [e.deviceId, e.detail])).toEqual([
      [id, 'proof kid must be the RFC 7638 thumbprint of jwk'],
    ]);
    const stale = newKey();
    const old = {
      jwk: stale.jwk,
      proof: signCompactJws(
        { iat: Math.floor(Date.now() / 1000) - 3600, device: id, enrolmentCode },
        stale.privateKey,
        stale.kid,
      ),
    };
    expect((await refused(id, old)).events.map((e) => e.detail)).toEqual([
      'proof iat must be within 600 s of now',
    ]);
    const nobody = uid('nobody');
    const elsewhere = await refused(nobody, body(newKey(), { device: nobody }));
    expect(elsewhere.events.map((e) => [e.deviceId, e.detail])).toEqual([
      [undefined, `device ${nobody}: proof payload needs enrolmentCode`],
    ]);
    // The code was never spent by the refusals: it still enrols the device.
    await expect(
      enrolment.enrol(id, body(newKey(), { device: id, enrolmentCode }), SOURCE),
    ).resolves.toMatchObject({ deviceId: id });
  });
});
