import { describe, expect, it } from 'vitest';
import {
  countByStatus,
  type Device,
  enrolmentPayload,
  filterFleet,
  fleetStatus,
  intervalText,
  registerBody,
} from './fleet.ts';

const now = Date.UTC(2026, 0, 1, 12);
const ago = (s: number) => new Date(now - s * 1000).toISOString();
const device = (id: string, extra: Partial<Device> = {}): Device => ({
  id,
  kind: 'pulse-oximeter',
  status: 'active',
  expectedIntervalS: 60,
  createdAt: '2025-12-01T00:00:00Z',
  highSeq: 0,
  ...extra,
});

describe('device fleet', () => {
  it('computes the status from last seen and the expected interval', () => {
    expect(fleetStatus(device('a', { lastSeenAt: ago(30) }), now)).toBe('online');
    expect(fleetStatus(device('a', { lastSeenAt: ago(120) }), now)).toBe('online');
    expect(fleetStatus(device('a', { lastSeenAt: ago(121) }), now)).toBe('stale');
    expect(fleetStatus(device('a', { lastSeenAt: ago(600) }), now)).toBe('stale');
    expect(fleetStatus(device('a', { lastSeenAt: ago(601) }), now)).toBe('offline');
    expect(fleetStatus(device('a', { lastSeenAt: ago(601), expectedIntervalS: 3600 }), now)).toBe('online');
    expect(fleetStatus(device('a', { status: 'registered' }), now)).toBe('never');
    expect(fleetStatus(device('a', { status: 'revoked', lastSeenAt: ago(1) }), now)).toBe('revoked');
    const quarantine = { at: ago(5), reason: 'forged signatures', by: 'intrusion-detection' };
    expect(fleetStatus(device('q', { lastSeenAt: ago(1), quarantine }), now)).toBe('quarantined');
    expect(fleetStatus(device('q', { status: 'revoked', quarantine }), now)).toBe('revoked');
  });

  it('filters by status, kind and text, and counts by status', () => {
    const fleet = [
      device('ox-1', { lastSeenAt: ago(10), firmware: '2.1.0' }),
      device('ox-2', { lastSeenAt: ago(5000) }),
      device('ecg-1', { kind: 'ecg-patch', model: 'Patch X', lastSeenAt: ago(200) }),
      device('ecg-2', { kind: 'ecg-patch', status: 'revoked' }),
    ];
    const ids = (f: Parameters<typeof filterFleet>[1]) => filterFleet(fleet, f, now).map((d) => d.id);
    expect(ids({ status: '', kind: '', text: '' })).toEqual(['ox-1', 'ox-2', 'ecg-1', 'ecg-2']);
    expect(ids({ status: 'offline', kind: '', text: '' })).toEqual(['ox-2']);
    expect(ids({ status: '', kind: 'ecg-patch', text: '' })).toEqual(['ecg-1', 'ecg-2']);
    expect(ids({ status: '', kind: '', text: 'patch x' })).toEqual(['ecg-1']);
    expect(ids({ status: '', kind: '', text: ' 2.1 ' })).toEqual(['ox-1']);
    expect(countByStatus(fleet, now)).toEqual({
      online: 1,
      stale: 1,
      offline: 1,
      never: 0,
      quarantined: 0,
      revoked: 1,
    });
  });

  it('puts where and how to enrol in the QR code', () => {
    expect(JSON.parse(enrolmentPayload('https://iomt.example', 'ox-1', 'ABCD-1234'))).toEqual({
      platform: 'https://iomt.example',
      device: 'ox-1',
      enrolmentCode: 'ABCD-1234',
    });
  });

  it('checks the register form, naming the field at fault', () => {
    const form = {
      id: ' ox-9 ',
      kind: 'pulse-oximeter',
      model: '',
      manufacturer: ' Acme ',
      expectedIntervalS: '30',
    };
    expect(registerBody(form)).toEqual({
      ok: true,
      body: { id: 'ox-9', kind: 'pulse-oximeter', manufacturer: 'Acme', expectedIntervalS: 30 },
    });
    expect(registerBody({ ...form, expectedIntervalS: '' })).toMatchObject({
      ok: true,
      body: { id: 'ox-9' },
    });
    expect(registerBody({ ...form, id: '-bad' })).toMatchObject({ ok: false, field: 'id' });
    expect(registerBody({ ...form, kind: '' })).toMatchObject({ ok: false, field: 'kind' });
    expect(registerBody({ ...form, expectedIntervalS: '1.5' })).toMatchObject({
      ok: false,
      field: 'expectedIntervalS',
    });
    expect(registerBody({ ...form, expectedIntervalS: '0' })).toMatchObject({
      ok: false,
      field: 'expectedIntervalS',
    });
  });

  it('says the reporting interval in words', () => {
    expect(intervalText(30)).toBe('every 30 s');
    expect(intervalText(300)).toBe('every 5 min');
    expect(intervalText(7200)).toBe('every 2 h');
  });
});
