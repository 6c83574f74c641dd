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
});
