import { describe, expect, it } from 'vitest';
import {
  applyLive,
  byUrgency,
  deviceStatus,
  devicesAt,
  matchesFilter,
  patientHeading,
  seenDevice,
} from './census-model.ts';
import type { CensusRow } from './live-types.ts';

const NOW = Date.parse('2025-03-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const row = (patientId: string, over: Partial<CensusRow> = {}): CensusRow => ({
  patientId,
  vitals: {},
  alarms: { high: 0, medium: 0, low: 0, total: 0 },
  devices: [],
  ...over,
});

describe('device status', () => {
  it('is online, stale after two silent intervals, offline after ten, never without a message', () => {
    expect(deviceStatus(iso(NOW - 9_000), 5, NOW)).toBe('online');
    expect(deviceStatus(iso(NOW - 11_000), 5, NOW)).toBe('stale');
    expect(deviceStatus(iso(NOW - 51_000), 5, NOW)).toBe('offline');
    expect(deviceStatus(undefined, 5, NOW)).toBe('never');
  });

  it('ages a silent device without a message, keeping unchanged devices as they were', () => {
    const fresh = {
      id: 'd1',
      kind: 'ecg',
      expectedIntervalS: 5,
      status: 'online' as const,
      lastSeenAt: iso(NOW),
    };
    const silent = { ...fresh, id: 'd2', lastSeenAt: iso(NOW - 20_000) };
    const out = devicesAt([fresh, silent], NOW);
    expect(out[0]).toBe(fresh);
    expect(out[1]?.status).toBe('stale');
    // A quarantined device stays quarantined however long it is silent.
    const quarantined = { ...silent, id: 'd3', status: 'quarantined' as const };
    expect(devicesAt([quarantined], NOW + 3600_000)[0]).toBe(quarantined);
  });
});

describe('live messages on a census row', () => {
  const base = row('p1', {
    vitals: { 'heart-rate': { value: 70, unit: '/min', at: iso(NOW - 60_000) } },
    devices: [
      { id: 'd1', kind: 'ecg', expectedIntervalS: 5, status: 'stale', lastSeenAt: iso(NOW - 20_000) },
    ],
  });

  it('takes newer vital values and keeps the row object when nothing changes', () => {
    const next = applyLive(base, {
      type: 'vitals',
      patientId: 'p1',
      deviceId: 'd1',
      at: iso(NOW),
      values: [
        { code: 'heart-rate', value: 88, unit: '/min' },
        { code: 'spo2', value: 97, unit: '%' },
      ],
    });
    expect(next.vitals['heart-rate']).toEqual({ value: 88, unit: '/min', at: iso(NOW) });
    expect(next.vitals.spo2?.value).toBe(97);
    expect(base.vitals.spo2).toBeUndefined();
    const old = applyLive(base, {
      type: 'vitals',
      patientId: 'p1',
      deviceId: 'd1',
      at: iso(NOW - 3_600_000),
      values: [{ code: 'heart-rate', value: 50 }],
    });
    expect(old).toBe(base);
    expect(applyLive(base, { type: 'hello' })).toBe(base);
  });

  it('takes a derived value but not a noisy stretch without one', () => {
    const derived = {
      type: 'derived' as const,
      patientId: 'p1',
      deviceId: 'd1',
      code: 'heart-rate',
      at: iso(NOW),
    };
    expect(applyLive(base, { ...derived, signalQuality: 0.2 })).toBe(base);
    expect(applyLive(base, { ...derived, value: 101, signalQuality: 0.9 }).vitals['heart-rate']).toEqual({
      value: 101,
      unit: '/min',
      at: iso(NOW),
    });
  });

  it('takes a NEWS2 score and a device status', () => {
    const scored = applyLive(base, {
      type: 'news2',
      patientId: 'p1',
      at: iso(NOW),
      score: { total: 6, band: 'medium', complete: false, missing: ['temperature'] },
    });
    expect(scored.news2).toEqual({
      total: 6,
      band: 'medium',
      complete: false,
      missing: ['temperature'],
      at: iso(NOW),
    });
    const online = applyLive(base, {
      type: 'device',
      patientId: 'p1',
      deviceId: 'd1',
      status: 'online',
      lastSeenAt: iso(NOW),
    });
    expect(online.devices[0]?.status).toBe('online');
    expect(applyLive(base, { type: 'device', patientId: 'p1', deviceId: 'other', status: 'online' })).toBe(
      base,
    );
  });

  it('marks the sending device seen', () => {
    const seen = seenDevice(base, 'd1', iso(NOW));
    expect(seen.devices[0]).toMatchObject({ status: 'online', lastSeenAt: iso(NOW) });
    expect(seenDevice(seen, 'd1', iso(NOW + 100))).toBe(seen);
    expect(seenDevice(base, 'unknown', iso(NOW))).toBe(base);
  });
});

describe('ranking and filter', () => {
  const counts = (high: number, medium: number, low: number) => ({
    high,
    medium,
    low,
    total: high + medium + low,
  });
  const news2 = (total: number) => ({
    total,
    band: 'low' as const,
    complete: true,
    missing: [],
    at: iso(NOW),
  });

  it('ranks by open alarm priority, then NEWS2 (unscored last), then alarm count, then id', () => {
    const rows = [
      row('a-quiet'),
      row('b-news7', { news2: news2(7) }),
      row('c-low-alarm', { alarms: counts(0, 0, 1), news2: news2(1) }),
      row('d-high', { alarms: counts(1, 0, 0), news2: news2(0) }),
      row('e-news0', { news2: news2(0) }),
      row('f-two-medium', { alarms: counts(0, 2, 0), news2: news2(3) }),
      row('g-one-medium', { alarms: counts(0, 1, 0), news2: news2(3) }),
    ];
    expect(rows.sort((x, y) => byUrgency(x, y)).map((r) => r.patientId)).toEqual([
      'd-high',
      'f-two-medium',
      'g-one-medium',
      'c-low-alarm',
      'b-news7',
      'e-news0',
      'a-quiet',
    ]);
  });

  it('ranks with the live alarm counts when given', () => {
    const a = row('a');
    const b = row('b', { alarms: counts(1, 0, 0) });
    const live = new Map([['a', counts(1, 1, 0)]]);
    expect(byUrgency(a, b, (r) => live.get(r.patientId) ?? counts(0, 0, 0))).toBeLessThan(0);
  });

  it('filters by name or id words, priority words and stale devices', () => {
    const r = row('p-0042', {
      displayName: 'Ada Lovelace',
      alarms: counts(0, 1, 0),
      devices: [{ id: 'd', kind: 'ecg', expectedIntervalS: 5, status: 'offline' }],
    });
    expect(matchesFilter(r, '')).toBe(true);
    expect(matchesFilter(r, 'ada')).toBe(true);
    expect(matchesFilter(r, 'LOVE 0042')).toBe(true);
    expect(matchesFilter(r, 'ada grace')).toBe(false);
    expect(matchesFilter(r, 'medium')).toBe(true);
    expect(matchesFilter(r, 'high')).toBe(false);
    expect(matchesFilter(r, 'stale')).toBe(true);
  });
});

describe("the patient view's heading", () => {
  it('is a placeholder until the census answers, never the record id for a moment', () => {
    expect(patientHeading(row('p-7f3a'), false)).toEqual({ text: 'Patient', loading: true });
  });

  it('is the name as soon as one is known, even before the census answers', () => {
    const named = row('p-7f3a', { displayName: 'Ife Adebayo' });
    expect(patientHeading(named, false)).toEqual({ text: 'Ife Adebayo', loading: false });
    expect(patientHeading(named, true)).toEqual({ text: 'Ife Adebayo', loading: false });
  });

  it('is the record id only when the census answered without a name', () => {
    expect(patientHeading(row('p-7f3a'), true)).toEqual({ text: 'p-7f3a', loading: false });
  });
});
