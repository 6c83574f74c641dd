import { randomUUID } from 'node:crypto';
import {
  type Observation,
  observationIndex,
  type ReadingMessage,
  signCompactJws,
  type WaveformChunk,
} from '@openiomt/core';
import { WAVEFORM_ANALYSIS_VERSION } from '@openiomt/signal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DerivedMeasurementEvent, InProcessBus, type StoredReadingEvent } from '../bus/bus.ts';
import { createLogger } from '../log.ts';
import {
  FIXTURE_RECORDINGS_DIR,
  loadRecordings,
  loopedSamples,
  type PatientRecording,
  type RecordedWaveform,
  secondSpan,
} from '../simulate/recordings.ts';
import { type SampleKey, sampleKey } from '../store/sample-readings.ts';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import { WaveformAnalysis } from './waveform-analysis.ts';

const T0 = Date.parse('2025-06-01T10:00:00.000Z');

const chunkOf = (w: RecordedWaveform, second: number, code = w.code): WaveformChunk => {
  const { from, count } = secondSpan(w.rate, second);
  return {
    code,
    rate: w.rate,
    start: new Date(T0 + second * 1000).toISOString(),
    factor: w.factor,
    origin: w.origin,
    data: loopedSamples(w, from, count),
  };
};

describe.each(storeBackends())('waveform analysis on $name', ({ open }) => {
  let store: DisposableStore;
  let key: SampleKey;
  let recording: PatientRecording;
  beforeAll(async () => {
    store = await open();
    key = sampleKey();
    const all = await loadRecordings(FIXTURE_RECORDINGS_DIR);
    recording = all.find((r) => r.ppg && r.respiration) as PatientRecording;
  });
  afterAll(async () => {
    await store?.dispose();
  });

  /** A registered device and patient, and a sender that stores a reading and announces it like ingest. */
  const setup = async () => {
    const deviceId = `dev-${randomUUID().slice(0, 8)}`;
    const patient = await store.patients.create({});
    await store.devices.register({ id: deviceId, kind: 'ecg-patch' });
    await store.assignments.assign({ deviceId, patientId: patient.id, from: '2020-01-01T00:00:00Z' });
    const bus = new InProcessBus();
    const events: DerivedMeasurementEvent[] = [];
    bus.subscribe('analysis.derived', (e) => events.push(e));
    let seq = 0;
    /** A signed reading of these chunks, as stored, and the event ingest publishes for it. */
    const make = (waveforms: WaveformChunk[], second: number) => {
      seq++;
      const message: ReadingMessage = {
        v: 1,
        device: deviceId,
        seq,
        ts: new Date(T0 + (second + 1) * 1000).toISOString(),
        vitals: [],
        waveforms,
      };
      const observations = observationIndex(message);
      const receivedAt = new Date().toISOString();
      const jws = signCompactJws(message, key.privateKey, key.kid);
      const reading = {
        deviceId,
        seq,
        patientId: patient.id,
        kid: key.kid,
        ts: message.ts,
        receivedAt,
        via: 'mqtt' as const,
        jws,
        observations,
      };
      const event: StoredReadingEvent = {
        deviceId,
        seq,
        patientId: patient.id,
        receivedAt,
        message,
        observations,
      };
      return { reading, event };
    };
    const send = async (waveforms: WaveformChunk[], second: number) => {
      const { reading, event } = make(waveforms, second);
      await store.readings.commit([reading]);
      bus.publish('reading.stored', event);
    };
    return { deviceId, patientId: patient.id, bus, events, make, send };
  };

  it('derives heart rate, HRV-ready windows, pulse and respiratory rate from real signals', async () => {
    const { patientId, bus, events, send } = await setup();
    const analysis = new WaveformAnalysis({ bus, store, log: createLogger('silent') }).start();
    const { ecg, ppg, respiration } = recording as Required<PatientRecording>;
    for (let s = 0; s < 45; s++) await send([chunkOf(ecg, s), chunkOf(ppg, s), chunkOf(respiration, s)], s);
    await analysis.close();
    expect(analysis.counts).toMatchObject({ analysed: 45, skipped: 0, failed: 0 });

    const byCode = (code: string) => events.filter((e) => e.code === code);
    // 45 s with a 1.5 s look-ahead: four 10-s windows of each kind
    expect(byCode('heart-rate')).toHaveLength(4);
    expect(byCode('pulse-rate')).toHaveLength(4);
    expect(byCode('respiratory-rate')).toHaveLength(4);
    // MIT-BIH 101 at about 70/min; the PPG (another person, Challenge 2015 v102s) at about 104/min, its first
    // window still learning the pulse shape; the respiration wave the same way.
    for (const e of byCode('heart-rate')) {
      expect(e).toMatchObject({ patientId, leadOff: false });
      expect(e.value).toBeGreaterThan(55);
      expect(e.value).toBeLessThan(90);
    }
    const pulses = byCode('pulse-rate').filter((e) => e.value !== undefined);
    expect(pulses.length).toBeGreaterThanOrEqual(1);
    for (const e of pulses) {
      expect(e.value).toBeGreaterThan(90);
      expect(e.value).toBeLessThan(120);
    }
    const breaths = byCode('respiratory-rate').filter((e) => e.value !== undefined);
    expect(breaths.length).toBeGreaterThanOrEqual(2);
    for (const e of breaths) {
      expect(e.value).toBeGreaterThan(6);
      expect(e.value).toBeLessThan(20);
    }
    // the ECG's HRV and rhythm call come once enough beats are in (from the third window here)
    const last = byCode('heart-rate').at(-1) as DerivedMeasurementEvent;
    expect(last.rhythm).toBe('not-af');
    // and what it rests on (mitdb 101 is sinus rhythm with a steady RR: RR irregularity says no AF)
    expect(last.rhythmBasis).toBe('rr-not-af-like');
    expect(last.observationIds).toHaveLength(4);

    // every announced Observation is stored, its sources exist, and its Provenance names the algorithm
    for (const e of events) {
      for (const id of e.observationIds) {
        const o = (await store.observations.get(id)) as Observation;
        expect(o.id).toBe(id);
        for (const ref of o.derivedFrom ?? [])
          expect(
            await store.observations.get(ref.reference?.replace('Observation/', '') as string),
          ).toBeDefined();
        const p = (await store.observations.provenanceOf(id)) as { agent: { who: { display: string } }[] };
        expect(p.agent[0]?.who.display).toContain(WAVEFORM_ANALYSIS_VERSION);
      }
    }
    const page = await store.observations.list({ patientId, codes: ['heart-rate'], limit: 100 });
    expect(page.items).toHaveLength(4);
  });

  it('announces lead off with no value when the samples are missing', async () => {
    const { bus, events, send } = await setup();
    const analysis = new WaveformAnalysis({ bus, store, log: createLogger('silent') }).start();
    const { ecg } = recording;
    for (let s = 0; s < 25; s++) {
      const chunk = chunkOf(ecg, s);
      await send([s < 5 ? chunk : { ...chunk, data: chunk.data.map(() => null) }], s);
    }
    await analysis.close();
    const off = events.filter((e) => e.leadOff);
    expect(off.length).toBeGreaterThan(0);
    for (const e of off) {
      expect(e.code).toBe('heart-rate');
      expect(e.value).toBeUndefined();
      const o = (await store.observations.get(e.observationIds[0] as string)) as Observation;
      expect(o.valueQuantity).toBeUndefined();
      expect(o.dataAbsentReason?.text).toMatch(/lead off/);
    }
  });

  it('skips analysis past its queue bound without touching storage, and ignores readings without waveforms', async () => {
    const { deviceId, bus, events, make } = await setup();
    const analysis = new WaveformAnalysis(
      { bus, store, log: createLogger('silent') },
      { maxQueue: 3 },
    ).start();
    const made = Array.from({ length: 10 }, (_, s) => make([chunkOf(recording.ecg, s)], s));
    await store.readings.commit(made.map((m) => m.reading));
    // ten readings stored at once: three wait, seven are not analysed
    for (const { event } of made) bus.publish('reading.stored', event);
    const { event: vitalsOnly } = make([], 10);
    bus.publish('reading.stored', vitalsOnly);
    await analysis.close();
    expect(analysis.counts).toMatchObject({ analysed: 3, skipped: 7, failed: 0 });
    expect(await store.readings.count(deviceId)).toBe(10);
    expect(events).toEqual([]);
  });

  it('counts and logs a failure (here: the store is gone) without throwing', async () => {
    const gone = await open();
    await gone.dispose();
    const bus = new InProcessBus();
    const lines: string[] = [];
    const sink = { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream;
    const analysis = new WaveformAnalysis({ bus, store: gone, log: createLogger('error', sink) }).start();
    // 13 s of ECG complete one window, whose storing fails.
    for (let s = 0; s < 13; s++) {
      const message: ReadingMessage = {
        v: 1,
        device: 'dev-gone',
        seq: s + 1,
        ts: new Date(T0 + (s + 1) * 1000).toISOString(),
        vitals: [],
        waveforms: [chunkOf(recording.ecg, s)],
      };
      const observations = observationIndex(message);
      const receivedAt = new Date().toISOString();
      bus.publish('reading.stored', {
        deviceId: 'dev-gone',
        seq: s + 1,
        patientId: 'patient-secret',
        receivedAt,
        message,
        observations,
      });
    }
    await analysis.close();
    expect(analysis.counts).toMatchObject({ analysed: 12, failed: 1 });
    expect(lines.join('')).toMatch(/waveform analysis failed/);
    expect(lines.join('')).not.toMatch(/patient-secret/);
  });
});
