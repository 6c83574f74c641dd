import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provenanceWithLastUpdated, withLastUpdated } from './fhir-view.ts';
import { provenanceOfObservations } from './patient-export.ts';
import { type SampleKey, sampleKey, sampleReading } from './sample-readings.ts';
import { type DisposableStore, storeBackends } from './testing.ts';
import type { ReadingToStore, StoreError } from './types.ts';

describe.each(storeBackends())('readings and observations on $name', ({ open }) => {
  let store: DisposableStore;
  let key: SampleKey;
  beforeAll(async () => {
    store = await open();
    key = sampleKey();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  /** A registered, enrolled, assigned device and a reading maker for it. */
  const setup = async () => {
    const deviceId = `dev-${randomUUID().slice(0, 8)}`;
    const patient = await store.patients.create({});
    await store.devices.register({ id: deviceId, kind: 'ecg-patch' });
    await store.assignments.assign({ deviceId, patientId: patient.id, from: '2020-01-01T00:00:00Z' });
    const reading = (seq: number, extra: Partial<{ battery: number; firmware: string; ts: string }> = {}) =>
      sampleReading({ deviceId, patientId: patient.id, seq, key, ...extra });
    return { deviceId, patientId: patient.id, reading };
  };

  it('stores a batch once, with its observations and provenance', async () => {
    const { deviceId, patientId, reading } = await setup();
    const batch = [reading(1), reading(2), reading(3)];
    expect(await store.readings.commit(batch)).toEqual([
      { stored: true },
      { stored: true },
      { stored: true },
    ]);
    expect(await store.readings.count(deviceId)).toBe(3);
    expect(await store.readings.highSeq(deviceId)).toBe(3);
    const got = await store.readings.get(deviceId, 2);
    expect(got).toEqual({ jws: batch[1]!.jws, patientId, receivedAt: batch[1]!.receivedAt });
    expect(await store.readings.provenance(deviceId, 2)).toEqual(batch[1]!.fhir.provenance);
    // Served with meta.lastUpdated: when the reading was received.
    for (const o of batch[0]!.fhir.observations)
      expect(await store.observations.get(o.id)).toEqual(withLastUpdated(o.resource, batch[0]!.receivedAt));
    const all = await store.observations.list({ deviceId, limit: 1000 });
    expect(all.items).toHaveLength(15);
    expect(await store.readings.get(deviceId, 4)).toBeUndefined();
    expect(await store.readings.highSeq('no-such-device')).toBe(0);
  });

  it('serves a reading stored with the hashed ids of before stop 15 under those ids, beside time-ordered ones', async () => {
    const { deviceId, patientId } = await setup();
    const ts = '2026-03-01T08:00:00.000Z';
    const old = sampleReading({ deviceId, patientId, seq: 1, key, ts, idScheme: 'hashed' });
    const now = sampleReading({ deviceId, patientId, seq: 2, key, ts });
    await store.readings.commit([old, now]);
    for (const o of now.fhir.observations)
      expect(o.id.slice(0, 13).replace('-', '')).toBe(Date.parse(ts).toString(16).padStart(12, '0'));
    for (const o of old.fhir.observations) expect(o.id.charAt(14)).toBe('8');
    for (const r of [old, now]) {
      const ids = r.fhir.observations.map((o) => o.id);
      for (const o of r.fhir.observations)
        expect(await store.observations.get(o.id)).toEqual(withLastUpdated(o.resource, r.receivedAt));
      expect(await store.readings.provenance(deviceId, r.seq)).toEqual(r.fhir.provenance);
      const served = provenanceWithLastUpdated(r.fhir.provenance);
      expect(await store.observations.provenanceOf(ids[0]!)).toEqual(served);
      expect(await provenanceOfObservations(store.db, ids)).toEqual([served]);
    }
    const listed = await store.observations.list({ deviceId, limit: 100 });
    expect(new Set(listed.items.map((o) => o.id))).toEqual(
      new Set([...old.fhir.observations, ...now.fhir.observations].map((o) => o.id)),
    );
  });

  it('keeps the JWS out of line without compressing it (base64url hardly compresses)', async () => {
    const { rows } = await store.db.query<{ storage: string }>(
      `SELECT attstorage AS storage FROM pg_attribute WHERE attrelid = 'readings'::regclass AND attname = 'jws'`,
    );
    expect(rows).toEqual([{ storage: 'e' }]);
  });

  it('answers a replayed seq with the jws already stored and keeps only the first', async () => {
    const { deviceId, reading } = await setup();
    const first = reading(1, { ts: '2026-03-01T08:00:00.000Z' });
    await store.readings.commit([first]);
    const replay = reading(1, { ts: '2026-03-01T08:00:05.000Z' });
    const fresh = reading(2);
    expect(await store.readings.commit([replay, fresh])).toEqual([
      { stored: false, existingJws: first.jws },
      { stored: true },
    ]);
    expect(await store.readings.count(deviceId)).toBe(2);
    // Ids are deterministic per (device, seq, time, index): the stored Observations are the first's, and
    // the replay's (another time) were never stored.
    expect(await store.observations.get(first.observations[0]!.id)).toEqual(
      withLastUpdated(first.fhir.observations[0]!.resource, first.receivedAt),
    );
    expect(await store.observations.get(replay.observations[0]!.id)).toBeUndefined();
  });

  it('keeps the first of duplicates within one batch', async () => {
    const { deviceId, reading } = await setup();
    const a = reading(7, { ts: '2026-03-01T08:00:00.000Z' });
    const b = reading(7, { ts: '2026-03-01T08:00:00.000Z', battery: 12 });
    expect(await store.readings.commit([a, b, a])).toEqual([
      { stored: true },
      { stored: false, existingJws: a.jws },
      { stored: false, existingJws: a.jws },
    ]);
    expect((await store.readings.get(deviceId, 7))?.jws).toBe(a.jws);
    expect(await store.observations.get(b.observations[0]!.id)).toEqual(
      withLastUpdated(a.fhir.observations[0]!.resource, a.receivedAt),
    );
    expect((await store.observations.list({ deviceId })).items).toHaveLength(5);
  });

  it('moves high_seq, last_seen_at and status forward, never back', async () => {
    const { deviceId, reading } = await setup();
    const r18 = reading(18, { battery: 70, firmware: '1.9.0' });
    const r20 = reading(20, { battery: 50, firmware: '2.0.0' });
    await store.readings.commit([r20, r18]);
    let device = await store.devices.get(deviceId);
    const latest = [r18.receivedAt, r20.receivedAt].sort()[1];
    expect(device).toMatchObject({ highSeq: 20, battery: 50, firmware: '2.0.0', lastSeenAt: latest });
    // A late upload of older readings from the device's buffer.
    await store.readings.commit([reading(15, { battery: 90, firmware: '1.0.0' })]);
    device = await store.devices.get(deviceId);
    expect(device).toMatchObject({ highSeq: 20, battery: 50, firmware: '2.0.0' });
    expect(Date.parse(device!.lastSeenAt!)).toBeGreaterThanOrEqual(Date.parse(r20.receivedAt));
    await store.readings.commit([reading(21)]);
    expect(await store.devices.get(deviceId)).toMatchObject({ highSeq: 21, battery: 50 });
  });

  it('commits a batch atomically: one bad reading stores none of it', async () => {
    const { deviceId, reading } = await setup();
    const taken = reading(1);
    await store.readings.commit([taken]);
    const good = reading(2);
    // Passes the checks made in JavaScript; the database refuses the repeated observation id.
    const clash: ReadingToStore = {
      ...reading(3),
      observations: [{ ...reading(3).observations[0]!, id: taken.observations[0]!.id }],
    };
    await expect(store.readings.commit([good, clash])).rejects.toThrow();
    expect(await store.readings.get(deviceId, 2)).toBeUndefined();
    expect(await store.readings.count(deviceId)).toBe(1);
    expect((await store.devices.get(deviceId))?.highSeq).toBe(1);
    expect(await store.observations.get(good.observations[0]!.id)).toBeUndefined();
  });

  it('refuses malformed input before touching the database, naming the field', async () => {
    const { reading } = await setup();
    const bad = { ...reading(1), seq: 0 };
    await expect(store.readings.commit([reading(2), bad])).rejects.toMatchObject({
      code: 'invalid',
      field: '/1/seq',
    } satisfies Partial<StoreError>);
    expect(await store.readings.commit([])).toEqual([]);
  });

  it('serves concurrent batches from many callers without losing or doubling any', async () => {
    const devices = await Promise.all([1, 2, 3].map(() => setup()));
    const batches = devices.flatMap((d) => [
      [d.reading(1), d.reading(2)],
      [d.reading(2), d.reading(3)],
    ]);
    const outcomes = await Promise.all(batches.map((b) => store.readings.commit(b)));
    expect(outcomes.flat().filter((o) => o.stored)).toHaveLength(9);
    for (const d of devices) expect(await store.readings.count(d.deviceId)).toBe(3);
  });

  it('lists observations by patient, code and time window, page by page in time order', async () => {
    const { patientId, reading } = await setup();
    const start = Date.UTC(2025, 5, 1, 12, 0, 0);
    const at = (i: number) => new Date(start + i * 1000).toISOString();
    await store.readings.commit(Array.from({ length: 12 }, (_, i) => reading(i + 1, { ts: at(i) })));
    const window = { patientId, code: 'heart-rate', from: at(2), to: at(10) };
    const effective: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.observations.list({ ...window, limit: 3, ...(cursor ? { cursor } : {}) });
      effective.push(...page.items.map((o) => o.effectiveDateTime as string));
      cursor = page.next;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(effective).toEqual(Array.from({ length: 8 }, (_, i) => at(i + 2)));
    const waveforms = await store.observations.list({ patientId, code: 'ecg-ii' });
    expect(waveforms.items).toHaveLength(12);
    expect(waveforms.next).toBeUndefined();
    await expect(store.observations.list({ patientId, from: 'yesterday' })).rejects.toMatchObject({
      field: 'from',
    });
    expect(await store.observations.get('not-a-uuid')).toBeUndefined();
  });
});
