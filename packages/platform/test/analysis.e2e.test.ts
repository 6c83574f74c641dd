/**
 * Waveform analysis end to end: a real device streams a real ECG (MIT-BIH 101) in signed one-second chunks
 * over MQTT; the platform derives heart-rate Observations, serves them on the FHIR API with a Provenance
 * naming the algorithm and the source Observations, and announces them on the bus for the rules.
 */

import { WAVEFORM_ANALYSIS_VERSION } from '@openiomt/signal';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFhirValidator } from '../../core/src/fhir/fhir-schema.ts';
import { vitalSignsProblems } from '../../core/src/fhir/vitalsigns-profile.ts';
import type { DerivedMeasurementEvent } from '../src/bus/bus.ts';
import {
  FIXTURE_RECORDINGS_DIR,
  loadRecordings,
  loopedSamples,
  type RecordedWaveform,
  secondSpan,
} from '../src/simulate/recordings.ts';
import {
  backends,
  provisionDevice,
  publish,
  startTestPlatform,
  type TestDevice,
  type TestPlatform,
  topicOf,
} from './harness.ts';

const fhir = loadFhirValidator();

describe.each(backends)('waveform analysis end to end ($name)', (backend) => {
  let t: TestPlatform;
  let ecg: RecordedWaveform;
  const events: DerivedMeasurementEvent[] = [];
  beforeAll(async () => {
    t = await startTestPlatform(backend);
    t.platform.bus.subscribe('analysis.derived', (e) => events.push(e));
    const recordings = await loadRecordings(FIXTURE_RECORDINGS_DIR);
    ecg = recordings.find((r) => r.name === 'mitdb-101')?.ecg as RecordedWaveform;
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Sends `seconds` one-second ECG chunks ending about now, each its own signed reading. */
  async function stream(d: TestDevice, client: MqttClient, seconds: number, leadOffFrom = Infinity) {
    const start = Date.now() - (seconds + 2) * 1000;
    for (let s = 0; s < seconds; s++) {
      const { from, count } = secondSpan(ecg.rate, s);
      const data = s >= leadOffFrom ? new Array(count).fill(null) : loopedSamples(ecg, from, count);
      const chunkStart = new Date(start + s * 1000).toISOString();
      const waveforms = [
        { code: ecg.code, rate: ecg.rate, start: chunkStart, factor: ecg.factor, origin: ecg.origin, data },
      ];
      const jws = d.sign(s + 1, { vitals: [], waveforms }, new Date(start + (s + 1) * 1000).toISOString());
      expect(await publish(client, topicOf(d.id), jws)).toBe(0);
    }
  }

  /** Polls a FHIR search until it has at least `n` entries (analysis runs after the PUBACK). */
  async function search(path: string, n: number): Promise<any[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await t.api('GET', path);
      expect(res.status).toBe(200);
      const entries = res.body.entry ?? [];
      if (entries.length >= n || Date.now() > deadline) return entries;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('derives heart-rate Observations from 33 s of real ECG, with a Provenance and a bus event', async () => {
    const d = await provisionDevice(t, 'ecg-analysed');
    const client = await d.connect(5);
    await stream(d, client, 33);
    client.end();

    // windows complete every 10 s of signal: three in 33 s
    const entries = await search(`/fhir/R4/Observation?patient=${d.patientId}&code=8867-4`, 3);
    const derived = entries.map((e) => e.resource).filter((o) => o.derivedFrom !== undefined);
    expect(derived).toHaveLength(3);
    for (const o of derived) {
      expect(fhir.errors(o)).toBeUndefined();
      expect(vitalSignsProblems(o)).toEqual([]);
      // MIT-BIH 101 beats at about 70/min in its first minute
      expect(o.valueQuantity.value).toBeGreaterThan(55);
      expect(o.valueQuantity.value).toBeLessThan(90);
      expect(o.method.text).toContain(WAVEFORM_ANALYSIS_VERSION);

      const prov = (await t.api('GET', `/fhir/R4/Provenance?target=Observation/${o.id}`)).body.entry[0]
        .resource;
      expect(fhir.errors(prov)).toBeUndefined();
      expect(prov.target).toContainEqual({ reference: `Observation/${o.id}` });
      expect(JSON.stringify(prov.agent)).toContain(WAVEFORM_ANALYSIS_VERSION);
      // Both were made and stored when the window was analysed: the Provenance's recorded instant.
      expect(prov.meta.lastUpdated).toBe(new Date(prov.recorded).toISOString());
      expect(o.meta.lastUpdated).toBe(prov.meta.lastUpdated);
      expect(Date.parse(o.meta.lastUpdated)).toBeGreaterThanOrEqual(Date.parse(o.effectivePeriod.end));
      const cited = prov.entity.map((e: any) => e.what.reference);
      for (const ref of o.derivedFrom) {
        expect(cited).toContain(ref.reference);
        // the source is the device's own ECG chunk, stored and readable
        const src = await t.api('GET', `/fhir/R4/${ref.reference}`);
        expect(src.status).toBe(200);
        expect(src.body.valueSampledData).toBeDefined();
        expect(src.body.device).toEqual(o.device);
      }
      const byId = await t.api('GET', `/fhir/R4/Provenance/${prov.id}`);
      expect(byId.body).toEqual(prov);
      expect((await t.api('GET', `/fhir/R4/Observation/${o.id}`)).body).toEqual(o);
      // Served the same, meta.lastUpdated included, wherever else it goes (subscription notifications).
      expect(await t.platform.store.derivedObservations.get(o.id)).toEqual(o);
      expect(await t.platform.store.derivedObservations.provenanceOf(o.id)).toEqual(prov);
    }
    // ... and in the patient's listed series (the patient export pages through it).
    const listed = (await t.platform.store.observations.list({ patientId: d.patientId, limit: 1000 })).items;
    // Nothing derived claims a stretch before the first ECG sample: 33 s of ECG, not the AF screen's 60 s.
    const firstSample = Math.min(
      ...listed
        .filter((o: any) => o.valueSampledData)
        .map((o: any) => Date.parse(o.effectiveDateTime ?? o.effectivePeriod.start)),
    );
    const starts = listed
      .filter((o: any) => o.derivedFrom !== undefined)
      .map(
        (o: any) =>
          [o.code.coding[0].code, Date.parse(o.effectivePeriod?.start ?? o.effectiveDateTime)] as const,
      );
    expect(starts.some(([code]) => code === '8884-9')).toBe(true); // the rhythm call is among them
    expect(starts.filter(([, at]) => at < firstSample)).toEqual([]);
    expect(listed.filter((o) => typeof (o.meta as any)?.lastUpdated !== 'string')).toEqual([]);
    for (const o of derived) expect(listed.find((x) => x.id === o.id)).toEqual(o);

    // a source chunk's own Provenance is the device's signature, found the same way
    const source = derived[0].derivedFrom[0].reference;
    const signed = (await t.api('GET', `/fhir/R4/Provenance?target=${source}`)).body.entry[0].resource;
    expect(signed.signature[0].sigFormat).toBe('application/jose');
    expect((await t.api('GET', '/fhir/R4/Provenance?target=Observation/nothing')).body.entry).toEqual([]);
    expect((await t.api('GET', '/fhir/R4/Provenance')).status).toBe(400);

    // paging the patient's whole series (33 ECG chunks and the derived ones) visits each Observation once
    const all = await search(`/fhir/R4/Observation?patient=${d.patientId}&_count=1000`, 0);
    const paged: string[] = [];
    for (let url: string | undefined = `/fhir/R4/Observation?patient=${d.patientId}&_count=7`; url; ) {
      const page: any = (await t.api('GET', url)).body;
      paged.push(...(page.entry ?? []).map((e: any) => e.resource.id));
      const next: string | undefined = page.link.find((l: any) => l.relation === 'next')?.url;
      url = next ? new URL(next).pathname + new URL(next).search : undefined;
    }
    expect(paged).toEqual(all.map((e) => e.resource.id));
    expect(all.length).toBeGreaterThan(33 + 3);
    // a date range keeps what starts inside it
    const [from, to] = [derived[1].effectivePeriod.start, derived[2].effectivePeriod.start];
    const ranged = await search(
      `/fhir/R4/Observation?patient=${d.patientId}&code=http://loinc.org|8867-4&date=ge${from}&date=lt${to}`,
      0,
    );
    expect(ranged.map((e) => e.resource.id)).toEqual([derived[1].id]);

    const mine = events.filter((e) => e.deviceId === d.id);
    expect(mine).toHaveLength(3);
    for (const e of mine) {
      expect(e).toMatchObject({ patientId: d.patientId, code: 'heart-rate', leadOff: false });
      expect(derived.map((o) => o.id)).toContain(e.observationIds[0]);
      expect(e.value).toBe(derived.find((o) => o.id === e.observationIds[0]).valueQuantity.value);
    }
  });

  it('announces lead off with no value when the chunks carry only missing samples', async () => {
    const d = await provisionDevice(t, 'ecg-lead-off');
    const client = await d.connect(5);
    await stream(d, client, 25, 5);
    client.end();
    const entries = await search(`/fhir/R4/Observation?patient=${d.patientId}&code=heart-rate`, 2);
    expect(entries).toHaveLength(2);
    const last = entries[1].resource;
    expect(last.valueQuantity).toBeUndefined();
    expect(last.dataAbsentReason.text).toMatch(/lead off/);
    await t.platform.analysis.drain();
    const mine = events.filter((e) => e.deviceId === d.id);
    expect(mine).toHaveLength(2);
    expect(mine[1]).toMatchObject({ leadOff: true, code: 'heart-rate' });
    expect(mine[1]?.value).toBeUndefined();
  });
});
