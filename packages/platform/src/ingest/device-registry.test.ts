import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleKey, sampleReading } from '../store/sample-readings.ts';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import { DeviceRegistry } from './device-registry.ts';

describe.each(storeBackends())('device registry warm-up on $name', ({ open }) => {
  let store: DisposableStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  /** An enrolled device assigned to a new patient, whose one reading was received at `receivedAt`. */
  const seenDevice = async (receivedAt: string | undefined) => {
    const id = `dev-${randomUUID().slice(0, 8)}`;
    const { enrolmentCode } = await store.devices.register({ id, kind: 'ecg-patch' });
    const key = sampleKey();
    await store.devices.enrol(id, enrolmentCode, key.jwk);
    const patient = await store.patients.create({});
    await store.assignments.assign({ deviceId: id, patientId: patient.id, from: '2020-01-01T00:00:00Z' });
    if (receivedAt !== undefined) {
      const reading = sampleReading({ deviceId: id, patientId: patient.id, seq: 7, key });
      await store.readings.commit([{ ...reading, receivedAt }]);
    }
    return { id, kid: key.kid, patientId: patient.id };
  };

  it('loads the devices seen since a time, with their keys and assignments, and no others', async () => {
    const now = Date.now();
    const recent = await seenDevice(new Date(now - 60_000).toISOString());
    const newest = await seenDevice(new Date(now - 1_000).toISOString());
    const old = await seenDevice(new Date(now - 7_200_000).toISOString());
    const never = await seenDevice(undefined);

    const seen = await store.devices.recentlySeen(new Date(now - 3_600_000).toISOString(), 100);
    const ids = seen.devices.map((d) => d.id);
    expect(ids.indexOf(newest.id)).toBeLessThan(ids.indexOf(recent.id));
    expect(ids).toContain(recent.id);
    expect(ids).not.toContain(old.id);
    expect(ids).not.toContain(never.id);
    expect(seen.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([recent.kid, newest.kid]));
    expect(seen.keys.map((k) => k.kid)).not.toContain(old.kid);

    const registry = new DeviceRegistry(store);
    expect(registry.cachedKey(recent.kid)).toBeUndefined();
    expect(await registry.warm(now - 3_600_000)).toBeGreaterThanOrEqual(2);
    // Known without asking the database: the key, the device with its highest sequence number, the patient.
    expect(registry.cachedKey(recent.kid)?.deviceId).toBe(recent.id);
    expect(registry.cachedDevice(recent.id)?.status).toBe('active');
    expect(registry.cachedKey(old.kid)).toBeUndefined();
    expect(registry.cachedDevice(never.id)).toBeUndefined();
    await store.close();
    expect(await registry.highestSeq(recent.id)).toBe(7);
    expect(await registry.patientAt(recent.id, now)).toBe(recent.patientId);
  });
});
