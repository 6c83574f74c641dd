/** What ingest looks up for a device it sees for the first time, asked for many devices in one query. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleKey } from './sample-readings.ts';
import { type DisposableStore, storeBackends } from './testing.ts';

const uid = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

describe.each(storeBackends())('device lookups for many on $name', ({ open }) => {
  let store: DisposableStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  it('answers keys, devices and assignment histories as the one-at-a-time lookups do', async () => {
    const ids = [uid('dev'), uid('dev'), uid('dev')];
    const kids: string[] = [];
    for (const id of ids) {
      const { enrolmentCode } = await store.devices.register({ id, kind: 'ecg-patch' });
      const key = sampleKey();
      await store.devices.enrol(id, enrolmentCode, key.jwk);
      kids.push(key.kid);
    }
    // The first device had two patients, in order; the second one; the third none.
    const [p1, p2, p3] = await Promise.all([1, 2, 3].map(() => store.patients.create({})));
    await store.assignments.assign({
      deviceId: ids[0]!,
      patientId: p2!.id,
      from: '2026-02-01T00:00:00Z',
    });
    await store.assignments.assign({
      deviceId: ids[0]!,
      patientId: p1!.id,
      from: '2026-01-01T00:00:00Z',
      to: '2026-02-01T00:00:00Z',
    });
    await store.assignments.assign({ deviceId: ids[1]!, patientId: p3!.id, from: '2026-01-01T00:00:00Z' });

    const unknown = uid('nobody');
    const keys = await store.devices.keysByKids([...kids, unknown]);
    expect([...keys.keys()].sort()).toEqual([...kids].sort());
    for (const kid of kids) expect(keys.get(kid)).toEqual(await store.devices.keyByKid(kid));

    const devices = await store.devices.getMany([...ids, unknown]);
    expect([...devices.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids) expect(devices.get(id)).toEqual(await store.devices.get(id));

    const histories = await store.assignments.historyMany([...ids, unknown]);
    expect([...histories.keys()].sort()).toEqual([...ids, unknown].sort());
    for (const id of ids) expect(histories.get(id)).toEqual(await store.assignments.history(id));
    expect(histories.get(ids[0]!)?.map((a) => a.patientId)).toEqual([p1!.id, p2!.id]);
    expect(histories.get(ids[2]!)).toEqual([]);
    expect(histories.get(unknown)).toEqual([]);
  });
});
