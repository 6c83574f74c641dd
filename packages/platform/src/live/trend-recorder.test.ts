import type { News2Score, ReadingMessage } from '@openiomt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus } from '../bus/bus.ts';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import { TrendRecorder } from './trend-recorder.ts';
import { trendRepository } from './trend-store.ts';

const at = (hhmmss: string) => `2026-11-28T08:${hhmmss}.000Z`;
const ms = (hhmmss: string) => Date.parse(at(hhmmss));

describe.each(storeBackends())('vital trends on $name', ({ open }) => {
  let store: DisposableStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  let seq = 0;
  const reading = (bus: InProcessBus, patientId: string, vitals: ReadingMessage['vitals'], ts: string) => {
    seq++;
    const message: ReadingMessage = { v: 1, device: 'dev-t', seq, ts, vitals, waveforms: [] };
    bus.publish('reading.stored', {
      deviceId: 'dev-t',
      seq,
      patientId,
      receivedAt: ts,
      message,
      observations: [],
    });
  };
  const score = (total: number) =>
    ({ total, band: 'low', complete: false, issues: [] }) as unknown as News2Score;

  it('sums values into minute buckets and reads them back in larger buckets', async () => {
    const bus = new InProcessBus();
    const trends = new TrendRecorder({ store, bus, flushMs: 3_600_000 }).start();
    const p = 'trend-p1';
    reading(bus, p, [{ code: 'heart-rate', value: 60 }], at('00:10'));
    reading(
      bus,
      p,
      [
        { code: 'heart-rate', value: 80 },
        { code: 'spo2', value: 97, at: at('00:20') },
        { code: 'consciousness', value: 'A' },
        { code: 'steps', value: 12 },
      ],
      at('00:40'),
    );
    reading(bus, p, [{ code: 'heart-rate', value: 100 }], at('01:05'));
    bus.publish('analysis.derived', {
      patientId: p,
      deviceId: 'dev-t',
      code: 'respiratory-rate',
      value: 18,
      at: ms('02:00'),
      signalQuality: 0.9,
      observationIds: [],
    });
    bus.publish('analysis.derived', {
      patientId: p,
      deviceId: 'dev-t',
      code: 'heart-rate',
      at: ms('02:00'),
      signalQuality: 0.1,
      observationIds: [],
    });
    bus.publish('news2.scored', { patientId: p, score: score(3), at: ms('01:30') });
    await trends.flush();
    // A late value for a minute already written is merged into its row.
    reading(bus, p, [{ code: 'heart-rate', value: 70 }], at('00:50'));
    await trends.flush();

    const minutes = await trends.trends(p, ['heart-rate', 'spo2', 'news2'], ms('00:00'), ms('10:00'), 60);
    expect(minutes).toEqual({
      'heart-rate': [
        { t: at('00:00'), n: 3, avg: 70, min: 60, max: 80 },
        { t: at('01:00'), n: 1, avg: 100, min: 100, max: 100 },
      ],
      spo2: [{ t: at('00:00'), n: 1, avg: 97, min: 97, max: 97 }],
      news2: [{ t: at('01:00'), n: 1, avg: 3, min: 3, max: 3 }],
    });
    const fiveMinutes = await trends.trends(p, undefined, ms('03:00'), ms('10:00'), 300);
    expect(fiveMinutes).toEqual({
      'heart-rate': [{ t: at('00:00'), n: 4, avg: 77.5, min: 60, max: 100 }],
      news2: [{ t: at('00:00'), n: 1, avg: 3, min: 3, max: 3 }],
      'respiratory-rate': [{ t: at('00:00'), n: 1, avg: 18, min: 18, max: 18 }],
      spo2: [{ t: at('00:00'), n: 1, avg: 97, min: 97, max: 97 }],
    });
    // The window's end is exclusive; codes asked with no data come back empty.
    expect(await trends.trends(p, ['heart-rate', 'bp-systolic'], ms('00:00'), ms('01:00'), 60)).toEqual({
      'heart-rate': [{ t: at('00:00'), n: 3, avg: 70, min: 60, max: 80 }],
      'bp-systolic': [],
    });
    expect(await trends.latest(p, ms('00:00'))).toEqual({
      'heart-rate': { value: 100, unit: '/min', at: ms('01:05') },
      spo2: { value: 97, unit: '%', at: ms('00:20') },
      'respiratory-rate': { value: 18, unit: '/min', at: ms('02:00') },
    });
    expect(Object.keys(await trends.latest(p, ms('01:10')))).toEqual(['respiratory-rate']);
    await trends.close();
  });

  it('writes what is pending when closed, and listens no more', async () => {
    const bus = new InProcessBus();
    const trends = new TrendRecorder({ store, bus, flushMs: 3_600_000 }).start();
    reading(bus, 'trend-p2', [{ code: 'body-temperature', value: 37.2 }], at('05:00'));
    await trends.close();
    reading(bus, 'trend-p2', [{ code: 'body-temperature', value: 39 }], at('05:10'));
    const stored = await trendRepository(store.db).trends(
      'trend-p2',
      ['body-temperature'],
      ms('00:00'),
      ms('10:00'),
      60,
    );
    expect(stored['body-temperature']).toEqual([{ t: at('05:00'), n: 1, avg: 37.2, min: 37.2, max: 37.2 }]);
  });
});
