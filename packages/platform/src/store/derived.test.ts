import { randomUUID } from 'node:crypto';
import { type MappedDerived, mapDerived } from '@openiomt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDateCondition } from '../fhir/search-params.ts';
import type { DerivedToStore } from './derived.ts';
import { provenanceWithLastUpdated, withLastUpdated } from './fhir-view.ts';
import { observationSearchRepository } from './observation-search.ts';
import { type SampleKey, sampleKey, sampleReading } from './sample-readings.ts';
import { type DisposableStore, storeBackends } from './testing.ts';
import type { StoreError } from './types.ts';

const T0 = Date.parse('2025-06-01T10:00:00.000Z');

describe.each(storeBackends())('derived observations on $name', ({ open }) => {
  let store: DisposableStore;
  let key: SampleKey;
  beforeAll(async () => {
    store = await open();
    key = sampleKey();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  const setup = async () => {
    const deviceId = `dev-${randomUUID().slice(0, 8)}`;
    const patient = await store.patients.create({});
    await store.devices.register({ id: deviceId, kind: 'ecg-patch' });
    await store.assignments.assign({ deviceId, patientId: patient.id, from: '2020-01-01T00:00:00Z' });
    return { deviceId, patientId: patient.id };
  };

  /** An analysed ECG window of 10 s starting at `startMs`, with HRV and a rhythm call. */
  const window = (
    deviceId: string,
    patientId: string,
    startMs: number,
    recorded = new Date().toISOString(),
  ): DerivedToStore & MappedDerived => {
    const mapped = mapDerived({
      deviceId,
      patientId,
      sourceCode: 'ecg-ii',
      window: {
        kind: 'ecg',
        startMs,
        endMs: startMs + 10_000,
        quality: 0.9,
        leadOff: false,
        rate: 70,
        hrv: { sdnnMs: 40, rmssdMs: 30, pnn50: 0.1, beats: 12, spanMs: 10_000 },
        rhythm: 'not-af',
      },
      sources: [{ id: randomUUID(), startMs, endMs: startMs + 10_000 }],
      algorithmVersion: 'test-1',
      recorded,
    });
    return { ...mapped, deviceId, patientId };
  };

  it('stores a window once, and reads each Observation and its Provenance back', async () => {
    const { deviceId, patientId } = await setup();
    const w = window(deviceId, patientId, T0);
    expect(await store.derivedObservations.addMany([w])).toBe(4);
    // analysing the same stretch again (after a restart) stores nothing new
    expect(await store.derivedObservations.addMany([window(deviceId, patientId, T0)])).toBe(0);
    // Served with meta.lastUpdated: when the window was analysed and stored (its Provenance's recorded).
    const provenance = provenanceWithLastUpdated(w.provenance as Record<string, unknown>);
    for (const o of w.observations) {
      const served = withLastUpdated(o.resource, (w.provenance as { recorded: string }).recorded);
      expect(await store.derivedObservations.get(o.id)).toEqual(served);
      expect(await store.observations.get(o.id)).toEqual(served);
      expect(await store.derivedObservations.provenanceOf(o.id)).toEqual(provenance);
      expect(await store.observations.provenanceOf(o.id)).toEqual(provenance);
    }
    expect(await store.derivedObservations.provenance(w.provenance.id as string)).toEqual(provenance);
    // the other rows hold only a pointer, which is no Provenance of its own
    expect(await store.derivedObservations.provenance(w.observations[1]?.id as string)).toBeUndefined();
    expect(await store.derivedObservations.get(randomUUID())).toBeUndefined();
    expect(await store.derivedObservations.get('not-a-uuid')).toBeUndefined();
    expect(await store.observations.provenanceOf(randomUUID())).toBeUndefined();
  });

  it("still answers a device Observation's Provenance from its signed reading", async () => {
    const { deviceId, patientId } = await setup();
    const reading = sampleReading({ deviceId, patientId, seq: 1, key });
    await store.readings.commit([reading]);
    const obs = reading.fhir.observations[0];
    expect(await store.observations.provenanceOf(obs?.id as string)).toEqual(
      provenanceWithLastUpdated(reading.fhir.provenance as unknown as Record<string, unknown>),
    );
  });

  it('serves derived Observations with meta.lastUpdated, the instant their window was recorded', async () => {
    const { deviceId, patientId } = await setup();
    // Analysed 12 s after the window began: lastUpdated is when it was made and stored, not its effective time.
    const recorded = new Date(T0 + 12_345).toISOString();
    const w = window(deviceId, patientId, T0, recorded);
    await store.derivedObservations.addMany([w]);
    const fhir = observationSearchRepository(store.db);
    // The first Observation of a window holds the Provenance, the others point to it: both paths.
    for (const o of w.observations) {
      const read = await fhir.get(o.id);
      expect(read?.meta).toEqual({ ...(o.resource as { meta?: object }).meta, lastUpdated: recorded });
    }
    const page = await fhir.search({ patientId, limit: 100 });
    expect(page.items.map((o) => (o.meta as { lastUpdated?: string }).lastUpdated)).toEqual(
      w.observations.map(() => recorded),
    );
    const codes = w.observations.map((o) => o.code);
    const lastn = await fhir.lastn(patientId, codes, 1);
    expect(lastn.map((o) => (o.meta as { lastUpdated?: string }).lastUpdated)).toEqual(
      codes.map(() => recorded),
    );
    // _lastUpdated searches the same instant that is served.
    const since = (prefix: string) => [parseDateCondition(`${prefix}${recorded}`)!];
    expect((await fhir.search({ patientId, lastUpdated: since('ge'), limit: 100 })).items).toHaveLength(4);
    expect((await fhir.search({ patientId, lastUpdated: since('lt'), limit: 100 })).items).toHaveLength(0);
  });

  it('refuses a window whose Provenance is not keyed by its first Observation', async () => {
    const { deviceId, patientId } = await setup();
    const w = window(deviceId, patientId, T0);
    const bad = { ...w, provenance: { ...w.provenance, id: randomUUID() } };
    await expect(store.derivedObservations.addMany([bad])).rejects.toMatchObject({
      code: 'invalid',
    } satisfies Partial<StoreError>);
    const none = { ...w, observations: [] };
    await expect(store.derivedObservations.addMany([none])).rejects.toMatchObject({ code: 'invalid' });
  });

  it('lists device and derived Observations as one series, paging exactly across both', async () => {
    const { deviceId, patientId } = await setup();
    const readings = [1, 2, 3, 4, 5].map((seq) =>
      sampleReading({ deviceId, patientId, seq, key, ts: new Date(T0 + seq * 7_000).toISOString() }),
    );
    await store.readings.commit(readings);
    const windows = [0, 1, 2, 3].map((k) => window(deviceId, patientId, T0 + k * 10_000));
    await store.derivedObservations.addMany(windows);

    const expected = [
      ...readings.flatMap((r) => r.fhir.observations.map((o) => ({ id: o.id, at: Date.parse(o.effective) }))),
      ...windows.flatMap((w) => w.observations.map((o) => ({ id: o.id, at: Date.parse(o.effective) }))),
    ]
      .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((x) => x.id);
    expect(expected).toHaveLength(25 + 16);

    for (const limit of [1, 3, 7, 100]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.observations.list({ patientId, limit, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((o) => o.id as string));
        cursor = page.next;
      } while (cursor);
      expect(seen).toEqual(expected);
    }

    // a token resolved to index codes finds device and derived heart rates alike
    const hr = await store.observations.list({ patientId, codes: ['heart-rate', 'pulse-rate'], limit: 100 });
    expect(hr.items).toHaveLength(5 + 4);
    expect(hr.items.filter((o) => o.derivedFrom !== undefined)).toHaveLength(4);
    const rhythm = await store.observations.list({ patientId, codes: ['heart-rhythm'] });
    expect(rhythm.items.map((o) => o.id)).toEqual(windows.map((w) => w.observations[3]?.id));
    expect((await store.observations.list({ patientId, codes: [] })).items).toEqual([]);

    // date range: [T0+10 s, T0+30 s) holds derived windows 1 and 2 and readings 2, 3, 4 (at 14, 21, 28 s)
    const range = await store.observations.list({
      patientId,
      from: new Date(T0 + 10_000).toISOString(),
      to: new Date(T0 + 30_000).toISOString(),
      limit: 100,
    });
    expect(range.items).toHaveLength(2 * 4 + 3 * 5);
    const other = await setup();
    expect((await store.observations.list({ patientId: other.patientId })).items).toEqual([]);
    expect((await store.observations.list({ deviceId, code: 'hrv-sdnn' })).items).toHaveLength(4);
  });
});
