import { describe, expect, it } from 'vitest';
import { deviceStateNote, pagePath } from './admin.ts';

describe('device show', () => {
  it('says plainly that a quarantined device, whose status stays active, has its readings refused', () => {
    const note = deviceStateNote({
      id: 'ecg-7',
      status: 'active',
      quarantine: {
        at: '2026-11-29T10:00:00.000Z',
        reason: 'forged-or-acl: 5 refusals in 60 s',
        by: 'intrusion-detection',
      },
    });
    expect(note).toMatch(
      /^Device ecg-7 is QUARANTINED since 2026-11-29T10:00:00.000Z by intrusion-detection/,
    );
    expect(note).toContain('openiomt device release ecg-7 --reason');
  });

  it('names a revocation, and says nothing about a device in good standing', () => {
    expect(deviceStateNote({ id: 'd', status: 'revoked' })).toMatch(/REVOKED/);
    expect(deviceStateNote({ id: 'd', status: 'active' })).toBeUndefined();
    expect(deviceStateNote({ id: 'd', status: 'registered' })).toBeUndefined();
  });
});

describe('list pages', () => {
  it('adds the page size to whatever query the command built, empty or not', () => {
    expect(pagePath('/api/v1/admin/dead-letters?', 50)).toBe('/api/v1/admin/dead-letters?limit=50');
    expect(pagePath('/api/v1/admin/dead-letters?device=d1', 50, 'c/1')).toBe(
      '/api/v1/admin/dead-letters?device=d1&limit=50&cursor=c%2F1',
    );
    expect(pagePath('/api/v1/admin/patients', 10)).toBe('/api/v1/admin/patients?limit=10');
  });
});
