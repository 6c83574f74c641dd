import { generateKeyPairSync } from 'node:crypto';
import {
  decodeReading,
  type Ed25519PublicJwk,
  jwkThumbprint,
  observationIndex,
  signCompactJws,
} from '@openiomt/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DisposableStore, openMemoryStore } from '../store/testing.ts';
import { DeviceRegistry } from './device-registry.ts';
import { verifyMessage } from './verify.ts';
import { VerifyPool } from './verify-pool.ts';

const policy = { maxClockSkewS: 60, maxMessageAgeS: 86_400, maxMessageBytes: 65_536 };

function newKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const { x } = publicKey.export({ format: 'jwk' }) as { x: string };
  const jwk: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x };
  return { privateKey, jwk, kid: jwkThumbprint(jwk) };
}

describe('verifyMessage on a verify worker', () => {
  let store: DisposableStore;
  let registry: DeviceRegistry;
  const pool = new VerifyPool(1);
  const key = newKey();
  const other = newKey(); // never enrolled: its kid is unknown
  const now = Date.now();
  const sign = (seq: number, extra: Record<string, unknown> = {}, k = key) =>
    signCompactJws(
      {
        v: 1,
        device: 'vw-1',
        seq,
        ts: new Date(now - 1000).toISOString(),
        vitals: [
          { code: 'heart-rate', value: 72 },
          { code: 'bp-systolic', value: 120 },
          { code: 'bp-diastolic', value: 80 },
        ],
        status: { battery: 0.5 },
        ...extra,
      },
      k.privateKey,
      k.kid,
      'openiomt-reading+jws',
    );

  beforeAll(async () => {
    store = await openMemoryStore();
    await store.migrate();
    const patient = await store.patients.create({});
    const { enrolmentCode } = await store.devices.register({ id: 'vw-1', kind: 'ecg-patch' });
    await store.devices.enrol('vw-1', enrolmentCode, key.jwk);
    await store.assignments.assign({
      deviceId: 'vw-1',
      patientId: patient.id,
      from: new Date(now - 3600_000).toISOString(),
    });
    registry = new DeviceRegistry(store);
  });
  afterAll(async () => {
    await pool.close();
    await store?.dispose();
  });

  const both = async (raw: Buffer, device: string | undefined = 'vw-1') => {
    const onWorker = await verifyMessage(raw, device, now, policy, registry, pool);
    const inThread = await verifyMessage(raw, device, now, policy, registry);
    return { onWorker, inThread };
  };
  const comparable = (r: Awaited<ReturnType<typeof verifyMessage>>) =>
    r.ok
      ? { ok: true, ...r.value, message: r.value.message(), deviceId: r.deviceId }
      : { ok: false, rejection: r.rejection, deviceId: r.deviceId };

  it('accepts a good reading with the same summary, index and message as the in-thread path', async () => {
    const compact = sign(1);
    const { onWorker, inThread } = await both(Buffer.from(`${compact}\n`));
    expect(onWorker.ok ? 'ok' : onWorker.rejection).toBe('ok');
    expect(comparable(onWorker)).toEqual(comparable(inThread));
    const decoded = decodeReading(Buffer.from(compact.split('.')[1] ?? '', 'base64url').toString());
    if (!onWorker.ok || !decoded.ok) throw new Error('expected ok');
    expect(onWorker.value.compact).toBe(compact);
    expect(onWorker.value.observations).toEqual(observationIndex(decoded.value));
    expect(onWorker.value.reading).toMatchObject({ device: 'vw-1', seq: 1, status: { battery: 0.5 } });
  });

  it('reports the same rejection either way, in the same order of checks', async () => {
    const cases: [string, Buffer, string | undefined][] = [
      ['malformed and unknown kid', Buffer.from(`${sign(2, {}, other).slice(0, -3)}!!!`), 'vw-1'],
      ['unknown kid', Buffer.from(sign(2, {}, other)), 'vw-1'],
      ['sent by another device', Buffer.from(sign(2)), 'vw-2'],
      ['bad signature', Buffer.from(flipSignatureChar(sign(2))), 'vw-1'],
      ['payload names another device', Buffer.from(sign(2, { device: 'vw-9' })), 'vw-1'],
      ['bad payload', Buffer.from(sign(2, { vitals: [{ code: 'heart-rate', value: -5 }] })), 'vw-1'],
      ['from the future', Buffer.from(sign(2, { ts: new Date(now + 3600_000).toISOString() })), 'vw-1'],
      ['before the assignment', Buffer.from(sign(2, { ts: new Date(now - 7200_000).toISOString() })), 'vw-1'],
    ];
    for (const [name, raw, device] of cases) {
      const { onWorker, inThread } = await both(raw, device);
      expect(onWorker.ok, name).toBe(false);
      expect(comparable(onWorker), name).toEqual(comparable(inThread));
    }
  });

  it('agrees with the in-thread path on arbitrarily damaged messages', async () => {
    const good = sign(3);
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: good.length - 1 }),
        fc.string({ maxLength: 4 }),
        fc.nat({ max: 3 }),
        async (at, insert, cut) => {
          const damaged = good.slice(0, at) + insert + good.slice(at + cut);
          const { onWorker, inThread } = await both(Buffer.from(damaged));
          expect(comparable(onWorker)).toEqual(comparable(inThread));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('does the work in-thread once the pool is closed', async () => {
    const closed = new VerifyPool(1);
    await closed.close();
    expect(closed.usable).toBe(false);
    await expect(closed.check(sign(4), key.jwk.x, 1000)).rejects.toThrow(/not available/);
    const r = await verifyMessage(Buffer.from(sign(4)), 'vw-1', now, policy, registry, closed);
    expect(r.ok).toBe(true);
  });
});

/**
 * A signature with one full character changed (the third from the end: the last holds only padding bits,
 * and overwriting with fixed characters is no change when the signature already ends with them).
 */
function flipSignatureChar(compact: string): string {
  const i = compact.length - 3;
  return `${compact.slice(0, i)}${compact[i] === 'A' ? 'B' : 'A'}${compact.slice(i + 1)}`;
}
