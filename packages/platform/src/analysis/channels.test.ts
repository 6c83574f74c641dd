import { observationId, type ReadingMessage, type WaveformChunk, type WaveformCode } from '@openiomt/core';
import { describe, expect, it } from 'vitest';
import { channelsOf, SourceLog, toStreamChunk } from './channels.ts';

const chunk = (
  code: WaveformCode,
  data: (number | null)[] = [1, 2],
  start = '2025-01-01T00:00:00Z',
): WaveformChunk => ({
  code,
  rate: 250,
  start,
  factor: 0.005,
  origin: -5.12,
  data,
});

const message = (waveforms: WaveformChunk[]): ReadingMessage => ({
  v: 1,
  device: 'd1',
  seq: 7,
  ts: '2025-01-01T00:00:01Z',
  vitals: [{ code: 'heart-rate', value: 60 }],
  waveforms,
});

describe('channelsOf', () => {
  it('analyses lead II of the ECG leads, and the PPG and respiration', () => {
    const channels = channelsOf(
      message([chunk('ecg-i'), chunk('ecg-ii'), chunk('ppg'), chunk('ecg-v1'), chunk('respiration')]),
    );
    expect(channels.map((c) => [c.kind, c.code])).toEqual([
      ['ecg', 'ecg-ii'],
      ['ppg', 'ppg'],
      ['resp', 'respiration'],
    ]);
    // ids of the stored waveform Observations: they follow the one vital
    expect(channels[0]?.chunks[0]?.observationId).toBe(
      observationId({ device: 'd1', seq: 7, ts: '2025-01-01T00:00:01Z' }, 2),
    );
    expect(channels[2]?.chunks[0]?.observationId).toBe(
      observationId({ device: 'd1', seq: 7, ts: '2025-01-01T00:00:01Z' }, 5),
    );
  });

  it('falls back to modified lead II, then the other leads in catalogue order', () => {
    expect(channelsOf(message([chunk('ecg-v1'), chunk('ecg-mlii')])).map((c) => c.code)).toEqual([
      'ecg-mlii',
    ]);
    expect(channelsOf(message([chunk('ecg-v2'), chunk('ecg-iii')])).map((c) => c.code)).toEqual(['ecg-iii']);
    expect(channelsOf(message([]))).toEqual([]);
  });

  it('keeps every chunk of the chosen lead, in order', () => {
    const a = chunk('ecg-ii', [1], '2025-01-01T00:00:00Z');
    const b = chunk('ecg-ii', [2], '2025-01-01T00:00:00.004Z');
    expect(channelsOf(message([a, b]))[0]?.chunks.map((c) => c.chunk)).toEqual([a, b]);
  });
});

describe('toStreamChunk', () => {
  it('turns raw samples into physical values and keeps missing ones missing', () => {
    const c = toStreamChunk(chunk('ecg-ii', [1024, null, 1224], '2025-01-01T00:00:00.5+01:00'));
    expect(c?.startMs).toBe(Date.parse('2024-12-31T23:00:00.500Z'));
    expect(c?.rateHz).toBe(250);
    expect(c?.endMs).toBe(Date.parse('2024-12-31T23:00:00.512Z'));
    expect(c?.samples[0]).toBeCloseTo(0, 12);
    expect(c?.samples[1]).toBeNull();
    expect(c?.samples[2]).toBeCloseTo(1, 12);
  });

  it('refuses a start that is no instant', () => {
    expect(toStreamChunk(chunk('ppg', [1], 'yesterday'))).toBeUndefined();
  });
});

describe('SourceLog', () => {
  it('keeps recent chunks and earlier windows, forgetting what no result can reach', () => {
    const log = new SourceLog(20_000, 60_000);
    for (let s = 0; s < 100; s++) log.addChunk({ id: `c${s}`, startMs: s * 1000, endMs: (s + 1) * 1000 });
    for (let w = 0; w < 10; w++) log.addWindow({ id: `w${w}`, startMs: w * 10_000, endMs: (w + 1) * 10_000 });
    log.addChunk({ id: 'c100', startMs: 100_000, endMs: 101_000 });
    const ids = log.sourcesFor(101_000).map((s) => s.id);
    expect(ids.filter((id) => id.startsWith('w'))).toEqual(['w4', 'w5', 'w6', 'w7', 'w8', 'w9']);
    expect(ids.filter((id) => id.startsWith('c'))).toHaveLength(20);
    // a window that ends after the result is not cited
    expect(log.sourcesFor(95_000).map((s) => s.id)).not.toContain('w9');
  });
});
