import { checkPatientThresholds, type ThresholdRule } from '@openiomt/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../http/problem.ts';
import { parseSettingsChange, parseThresholds, settingsEtag, settingsIfMatch } from './settings-input.ts';

const rule = fc.record({
  vital: fc.constantFrom(
    'heart-rate',
    'spo2',
    'respiratory-rate',
    'bp-systolic',
    'body-temperature',
    'consciousness',
  ),
  direction: fc.constantFrom('high', 'low'),
  limit: fc.integer({ min: -10, max: 400 }),
  hysteresis: fc.integer({ min: 0, max: 50 }),
  priority: fc.constantFrom('low', 'medium', 'high'),
  forMs: fc.option(fc.integer({ min: 0, max: 600_000 }), { nil: undefined }),
  consecutive: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
});

/** The problem an input is refused with, if it is. */
function refusal(f: () => unknown) {
  try {
    f();
  } catch (e) {
    if (e instanceof HttpProblem) return e.problem;
    throw e;
  }
  return undefined;
}
const field = (input: unknown) => refusal(() => parseThresholds(input))?.field;
const hr = { vital: 'heart-rate', direction: 'high', limit: 120, hysteresis: 5, priority: 'medium' };

describe('patient threshold input', () => {
  it('takes well-formed rules as they are when core accepts them, and refuses them where core says', () => {
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 6 }), (rules) => {
        const clean = JSON.parse(JSON.stringify(rules));
        const problem = checkPatientThresholds(clean as ThresholdRule[]);
        const p = refusal(() => parseThresholds(clean));
        if (!problem) expect(parseThresholds(clean)).toEqual(clean);
        else
          expect(p).toMatchObject({
            status: 400,
            field: `/thresholds${problem.field}`,
            detail: problem.detail,
          });
      }),
    );
  });

  it('refuses anything else with a 400 that names the element at fault, and never throws otherwise', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.array(fc.dictionary(fc.string(), fc.jsonValue()))), (input) => {
        const p = refusal(() => parseThresholds(input));
        if (!p) return;
        expect(p.status).toBe(400);
        expect(p.field).toMatch(/^\/thresholds/);
      }),
      { numRuns: 500 },
    );
  });

  it('names the field: a limit that is not a number, a duplicate rule, an unknown property, the audit’s cases', () => {
    expect(field([{ ...hr, limit: 'fast' }])).toBe('/thresholds/0/limit');
    expect(field([hr, hr])).toBe('/thresholds/1');
    expect(field([{ ...hr, colour: 'red' }])).toBe('/thresholds/0/colour');
    expect(field([{ ...hr, consecutive: 0 }])).toBe('/thresholds/0/consecutive');
    expect(field([{ ...hr, hysteresis: undefined }])).toBe('/thresholds/0/hysteresis');
    expect(field({})).toBe('/thresholds');
    expect(field(null)).toBe('/thresholds');
    // SpO2 low limit 150; HR high 40 with low 100; hysteresis 200 on 120; a number on ACVPU.
    expect(field([{ ...hr, vital: 'spo2', direction: 'low', limit: 150 }])).toBe('/thresholds/0/limit');
    expect(
      field([
        { ...hr, limit: 40 },
        { ...hr, direction: 'low', limit: 100 },
      ]),
    ).toBe('/thresholds/1/limit');
    expect(field([{ ...hr, hysteresis: 200 }])).toBe('/thresholds/0/hysteresis');
    expect(field([hr, { ...hr, vital: 'consciousness', limit: 2 }])).toBe('/thresholds/1/vital');
  });
});

describe('the alarm settings body', () => {
  it('keeps what it leaves out, and refuses a body that sets nothing', () => {
    expect(parseSettingsChange({ spo2Scale2: true })).toEqual({ spo2Scale2: true });
    expect(parseSettingsChange({ thresholds: [hr] })).toEqual({ thresholds: [hr] });
    expect(parseSettingsChange({ thresholds: [], spo2Scale2: false })).toEqual({
      thresholds: [],
      spo2Scale2: false,
    });
    expect(refusal(() => parseSettingsChange({}))).toMatchObject({ status: 400, field: '' });
    expect(refusal(() => parseSettingsChange({ spo2Scale2: 'yes' }))?.field).toBe('/spo2Scale2');
    expect(refusal(() => parseSettingsChange({ thresholds: null }))?.field).toBe('/thresholds');
    expect(refusal(() => parseSettingsChange({ spo2scale2: true }))?.field).toBe('/spo2scale2');
    expect(refusal(() => parseSettingsChange([]))?.field).toBe('');
  });

  it('tags a version by its save time, and reads If-Match', () => {
    const saved = { updatedAt: '2026-11-28T08:00:00.123Z' };
    expect(settingsEtag(saved)).toBe(`"${Date.parse(saved.updatedAt)}"`);
    expect(settingsEtag(undefined)).toBe('"0"');
    expect(settingsIfMatch(settingsEtag(saved))).toBe(saved.updatedAt);
    expect(settingsIfMatch(`W/${settingsEtag(saved)}`)).toBe(saved.updatedAt);
    expect(settingsIfMatch('"0"')).toBeNull();
    expect(settingsIfMatch(undefined)).toBeUndefined();
    expect(settingsIfMatch('*')).toBeUndefined();
    for (const bad of ['123', '"a"', '"1", "2"', ''])
      expect(refusal(() => settingsIfMatch(bad))).toMatchObject({ status: 400, field: 'If-Match' });
  });
});
