import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VITAL_CODES, VITALS } from '../codes/vitals.ts';
import { offlineCondition } from '../rules/staleness.ts';
import { DEFAULT_THRESHOLDS, thresholdCondition } from '../rules/thresholds.ts';
import { DEFAULT_HEART_RATE_TREND, trendCondition } from '../rules/trends.ts';
import { alarmConditionDeviceId, alarmConditionDisplay } from './alarm-condition.ts';

/** What R4 accepts as a string (the JSON schema's pattern; Ajv compiles it with the u flag). */
const FHIR_STRING = /^[ \r\n\t\S]+$/u;

describe('alarmConditionDisplay', () => {
  it.each([
    ['threshold:heart-rate:high', 'Heart rate high'],
    ['threshold:heart-rate:low', 'Heart rate low'],
    ['threshold:spo2:low', 'SpO2 low'],
    ['threshold:respiratory-rate:high', 'Respiratory rate high'],
    ['threshold:bp-systolic:low', 'Systolic blood pressure low'],
    ['threshold:body-temperature:high', 'Temperature high'],
    ['threshold:consciousness:high', `${VITALS.consciousness.display} high`],
    ['threshold:lactate:high', 'Lactate high'],
    ['trend:heart-rate:rise', 'Heart rate rising'],
    ['trend:spo2:fall', 'SpO2 falling'],
    ['trend:heart-rate:wobble', 'Heart rate trend (wobble)'],
    ['news2', 'NEWS2 elevated'],
    ['news2:high', 'NEWS2 high'],
    ['news2:low-medium', 'NEWS2 low medium'],
    ['technical:device-offline:ox-1', 'Device offline'],
    ['technical:lead-off:ecg_7', 'Lead off'],
    ['technical:lead-off', 'Lead off'],
    ['technical:low-battery:dev:with:colons', 'Low battery'],
    ['technical:poor-signal:ppg-2', 'Poor signal quality'],
    ['technical:sensor-fault:x', 'Sensor fault'],
    ['rhythm:af', 'Atrial fibrillation suspected'],
    ['rhythm:vt', 'Abnormal rhythm (vt)'],
  ])('%s -> %s', (condition, display) => {
    expect(alarmConditionDisplay(condition)).toBe(display);
  });

  it('names the conditions the rules actually make', () => {
    for (const rule of DEFAULT_THRESHOLDS) {
      const display = alarmConditionDisplay(thresholdCondition(rule));
      expect(display).toMatch(new RegExp(` ${rule.direction}$`));
      expect(display).not.toMatch(/^Alarm condition/);
    }
    expect(alarmConditionDisplay(trendCondition(DEFAULT_HEART_RATE_TREND))).toBe('Heart rate rising');
    expect(alarmConditionDisplay(offlineCondition('dev_1'))).toBe('Device offline');
  });

  it('gives every catalogue vital a threshold display', () => {
    for (const code of VITAL_CODES) {
      expect(alarmConditionDisplay(`threshold:${code}:high`)).toMatch(/^\S.* high$/);
    }
  });

  it('falls back to the condition itself for unknown or malformed ones', () => {
    expect(alarmConditionDisplay('')).toBe('Alarm condition (unnamed)');
    expect(alarmConditionDisplay(' \u000b\n')).toBe('Alarm condition (unnamed)');
    expect(alarmConditionDisplay('custom-rule')).toBe('Alarm condition: custom-rule');
    expect(alarmConditionDisplay('threshold:heart-rate')).toBe('Alarm condition: threshold:heart-rate');
    expect(alarmConditionDisplay('threshold:heart-rate:high:x')).toBe(
      'Alarm condition: threshold:heart-rate:high:x',
    );
    expect(alarmConditionDisplay('news2:')).toBe('Alarm condition: news2:');
    expect(alarmConditionDisplay('technical:')).toBe('Alarm condition: technical:');
    expect(alarmConditionDisplay('technical:---:d')).toBe('Alarm condition: technical:---:d');
    expect(alarmConditionDisplay('rhythm:a\u0000f')).toBe('Abnormal rhythm (a f)');
  });

  it('does not find Object members in its tables', () => {
    expect(alarmConditionDisplay('threshold:constructor:high')).toBe('Constructor high');
    expect(alarmConditionDisplay('technical:__proto__:d')).toBe('Proto');
    expect(alarmConditionDisplay('rhythm:toString')).toBe('Abnormal rhythm (toString)');
    expect(alarmConditionDisplay('trend:hasOwnProperty:valueOf')).toBe('HasOwnProperty trend (valueOf)');
  });

  it('never throws and always returns a short, valid FHIR string', () => {
    const part = fc.oneof(
      fc.constantFrom('threshold', 'trend', 'news2', 'technical', 'rhythm', 'high', 'rise', 'af', 'lead-off'),
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
    );
    const condition = fc.oneof(
      fc.array(part, { maxLength: 5 }).map((p) => p.join(':')),
      fc.string({ unit: 'binary', maxLength: 400 }),
    );
    fc.assert(
      fc.property(condition, (c) => {
        const display = alarmConditionDisplay(c);
        expect(display).toMatch(FHIR_STRING);
        expect(display).toBe(display.trim());
        expect(Array.from(display).length).toBeLessThanOrEqual(120);
      }),
      { numRuns: 2000 },
    );
  });

  it('clips long conditions on a code point boundary', () => {
    const display = alarmConditionDisplay(`x${'😀'.repeat(300)}`);
    expect(Array.from(display)).toHaveLength(120);
    expect(display.endsWith('😀…')).toBe(true);
  });
});

describe('alarmConditionDeviceId', () => {
  it('reads the device of a technical condition, colons included', () => {
    expect(alarmConditionDeviceId('technical:device-offline:ox-1')).toBe('ox-1');
    expect(alarmConditionDeviceId('technical:lead-off:a:b')).toBe('a:b');
    expect(alarmConditionDeviceId('technical:lead-off')).toBeUndefined();
    expect(alarmConditionDeviceId('technical::dev')).toBeUndefined();
    expect(alarmConditionDeviceId('threshold:heart-rate:high')).toBeUndefined();
    expect(alarmConditionDeviceId('news2')).toBeUndefined();
  });
});
