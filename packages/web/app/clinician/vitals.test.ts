import { describe, expect, it } from 'vitest';
import { ageText, bandText, formatVital, headline, isStale, unitText } from './vitals.ts';

const NOW = Date.parse('2025-03-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

describe('vital formatting', () => {
  it('shows temperature with one decimal, the rest whole, and a dash for nothing', () => {
    expect(formatVital('body-temperature', 37.25)).toBe('37.3');
    expect(formatVital('heart-rate', 71.6)).toBe('72');
    expect(formatVital('spo2', undefined)).toBe('–');
    expect(formatVital('heart-rate', Number.NaN)).toBe('–');
  });

  it('shows units as people read them', () => {
    expect(unitText('bp-systolic', 'mm[Hg]')).toBe('mmHg');
    expect(unitText('body-temperature', 'Cel')).toBe('°C');
    expect(unitText('unknown', 'mm[Hg]')).toBe('mmHg');
    expect(unitText('unknown', 'kg')).toBe('kg');
  });

  it('ages in a few characters', () => {
    expect(ageText(ago(2000), NOW)).toBe('now');
    expect(ageText(ago(42_000), NOW)).toBe('42 s');
    expect(ageText(ago(5 * 60_000 + 10_000), NOW)).toBe('5 min');
    expect(ageText(ago(3 * 3_600_000), NOW)).toBe('3 h');
    expect(ageText(ago(2 * 86_400_000), NOW)).toBe('2 d');
    expect(ageText(new Date(NOW + 60_000).toISOString(), NOW)).toBe('future');
    expect(ageText(undefined, NOW)).toBe('');
  });

  it('marks a value stale after its NEWS2 freshness window', () => {
    expect(isStale('heart-rate', ago(9 * 60_000), NOW)).toBe(false);
    expect(isStale('heart-rate', ago(11 * 60_000), NOW)).toBe(true);
    expect(isStale('bp', ago(50 * 60_000), NOW)).toBe(false);
    expect(isStale('bp', ago(61 * 60_000), NOW)).toBe(true);
    expect(isStale('body-temperature', ago(11 * 3_600_000), NOW)).toBe(false);
    expect(isStale('spo2', undefined, NOW)).toBe(true);
    expect(isStale('spo2', 'not a time', NOW)).toBe(true);
  });

  it('says the NEWS2 band in words', () => {
    expect(bandText('low-medium')).toBe('Low–medium');
    expect(bandText('high')).toBe('High');
    expect(bandText(undefined)).toBe('Not scored');
  });
});

describe('headline readings', () => {
  it('joins blood pressure as systolic/diastolic, timed by the systolic', () => {
    const h = headline(
      'bp',
      {
        'bp-systolic': { value: 121, at: ago(60_000) },
        'bp-diastolic': { value: 79.4, at: ago(60_000) },
      },
      NOW,
    );
    expect(h).toMatchObject({ text: '121/79', unit: 'mmHg', stale: false, missing: false });
    expect(headline('bp', {}, NOW)).toMatchObject({ text: '–', missing: true, stale: true });
  });

  it('takes heart rate from the ECG unless the oximeter pulse rate is newer', () => {
    const hr = { value: 80, at: ago(120_000) };
    const pr = { value: 82, at: ago(10_000) };
    expect(headline('heart-rate', { 'heart-rate': hr, 'pulse-rate': pr }, NOW)).toMatchObject({
      text: '82',
      short: 'PR',
    });
    expect(
      headline('heart-rate', { 'heart-rate': { ...hr, at: pr.at }, 'pulse-rate': pr }, NOW),
    ).toMatchObject({
      text: '80',
      short: 'HR',
    });
    expect(headline('heart-rate', {}, NOW)).toMatchObject({ text: '–', missing: true });
  });

  it('marks an old SpO2 stale', () => {
    expect(headline('spo2', { spo2: { value: 95, at: ago(30 * 60_000) } }, NOW)).toMatchObject({
      text: '95',
      unit: '%',
      stale: true,
    });
  });
});
