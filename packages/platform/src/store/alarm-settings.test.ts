import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DisposableStore, storeBackends } from './testing.ts';

describe.each(storeBackends())('alarm settings on $name', ({ open }) => {
  let store: DisposableStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  it('reads many patients at once as one at a time; a patient without settings has none', async () => {
    const [a, b, none] = await Promise.all([
      store.patients.create({}),
      store.patients.create({}),
      store.patients.create({}),
    ]);
    await store.alarmSettings.put({
      patientId: a.id,
      thresholds: [{ vital: 'spo2', direction: 'low', limit: 88, hysteresis: 2, priority: 'high' }],
      spo2Scale2: true,
      updatedBy: 'dr-1',
    });
    await store.alarmSettings.put({ patientId: b.id, thresholds: [], spo2Scale2: false, updatedBy: 'dr-2' });
    const many = await store.alarmSettings.getMany([a.id, b.id, none.id]);
    expect([...many.keys()].sort()).toEqual([a.id, b.id].sort());
    expect(many.get(a.id)).toEqual(await store.alarmSettings.get(a.id));
    expect(many.get(b.id)).toEqual(await store.alarmSettings.get(b.id));
    expect(many.get(a.id)).toMatchObject({ spo2Scale2: true, thresholds: [{ limit: 88 }] });
    expect(await store.alarmSettings.get(none.id)).toBeUndefined();
    expect(await store.alarmSettings.getMany([])).toEqual(new Map());
  });

  it('keeps a field left out, and saves only on the version a conditional save names', async () => {
    const { id } = await store.patients.create({});
    const spo2 = { vital: 'spo2', direction: 'low', limit: 88, hysteresis: 2, priority: 'high' } as const;
    // A first save of only Scale 2: no thresholds yet.
    const first = await store.alarmSettings.put({
      patientId: id,
      spo2Scale2: true,
      updatedBy: 'dr-1',
      expected: null,
    });
    expect(first).toMatchObject({ thresholds: [], spo2Scale2: true });
    const second = await store.alarmSettings.put({ patientId: id, thresholds: [spo2], updatedBy: 'dr-2' });
    expect(second).toMatchObject({ thresholds: [spo2], spo2Scale2: true, updatedBy: 'dr-2' });
    const third = await store.alarmSettings.put({ patientId: id, spo2Scale2: false, updatedBy: 'dr-1' });
    expect(third).toMatchObject({ thresholds: [spo2], spo2Scale2: false });
    // Each save is a new version, even within one millisecond.
    const versions = [first, second, third].map((s) => Date.parse(s!.updatedAt));
    expect(versions[1]).toBeGreaterThan(versions[0]!);
    expect(versions[2]).toBeGreaterThan(versions[1]!);
    // Compare and set: a save based on an older version, or on "nothing saved", finds nothing to change.
    const stale = { patientId: id, thresholds: [], updatedBy: 'dr-3' };
    expect(await store.alarmSettings.put({ ...stale, expected: second!.updatedAt })).toBeUndefined();
    expect(await store.alarmSettings.put({ ...stale, expected: null })).toBeUndefined();
    expect(await store.alarmSettings.get(id)).toEqual(third);
    const fourth = await store.alarmSettings.put({ ...stale, expected: third!.updatedAt });
    expect(fourth).toMatchObject({ thresholds: [], spo2Scale2: false, updatedBy: 'dr-3' });
  });
});
