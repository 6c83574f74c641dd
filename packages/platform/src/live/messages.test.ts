import type { ReadingMessage } from '@openiomt/core';
import { describe, expect, it } from 'vitest';
import { deviceLiveStatus, significant4, vitalsMessages, waveformMessages } from './messages.ts';

const T0 = Date.parse('2026-11-28T08:00:00.000Z');

const message = (m: Partial<ReadingMessage>): ReadingMessage => ({
  v: 1,
  device: 'd1',
  seq: 1,
  ts: '2026-11-28T09:00:00+01:00',
  vitals: [],
  waveforms: [],
  ...m,
});

describe('live messages', () => {
  it('calls a device stale after 2 and offline after 10 silent expected intervals', () => {
    expect(deviceLiveStatus(undefined, 10, T0)).toBe('never');
    expect(deviceLiveStatus(T0, 10, T0, true)).toBe('quarantined');
    expect(deviceLiveStatus(T0, 10, T0 + 20_000)).toBe('online');
    expect(deviceLiveStatus(T0, 10, T0 + 20_001)).toBe('stale');
    expect(deviceLiveStatus(T0, 10, T0 + 100_000)).toBe('stale');
    expect(deviceLiveStatus(T0, 10, T0 + 100_001)).toBe('offline');
  });

  it('sends numeric vital signs only, grouped by measurement time, with catalogue units', () => {
    const m = message({
      vitals: [
        { code: 'heart-rate', value: 72 },
        { code: 'spo2', value: 97, at: '2026-11-28T07:59:30Z' },
        { code: 'consciousness', value: 'A' },
        { code: 'supplemental-oxygen', value: false },
        { code: 'steps', value: 10 },
      ],
    });
    expect(vitalsMessages('p1', 'd1', m)).toEqual([
      {
        type: 'vitals',
        patientId: 'p1',
        deviceId: 'd1',
        at: '2026-11-28T08:00:00.000Z',
        values: [{ code: 'heart-rate', value: 72, unit: '/min' }],
      },
      {
        type: 'vitals',
        patientId: 'p1',
        deviceId: 'd1',
        at: '2026-11-28T07:59:30.000Z',
        values: [{ code: 'spo2', value: 97, unit: '%' }],
      },
    ]);
  });

  it('turns raw waveform samples into physical values, keeping gaps', () => {
    const m = message({
      waveforms: [
        {
          code: 'ecg-ii',
          rate: 250,
          start: '2026-11-28T09:00:00+01:00',
          factor: 0.005,
          origin: -0.1,
          data: [0, 20, null, 333],
        },
      ],
    });
    expect(waveformMessages('p1', 'd1', m)).toEqual([
      {
        type: 'waveform',
        patientId: 'p1',
        deviceId: 'd1',
        code: 'ecg-ii',
        rateHz: 250,
        start: '2026-11-28T08:00:00.000Z',
        samples: [-0.1, 0, null, 1.565],
        unit: 'mV',
      },
    ]);
    expect(significant4(1.23456)).toBe(1.235);
    expect(significant4(0.000123456)).toBe(0.0001235);
    expect(significant4(12345.6)).toBe(12350);
  });
});
