import { describe, expect, it } from 'vitest';
import { draftsFrom, isDefault, locateError, type ThresholdRule, toBody } from './thresholds-model.ts';

const DEFAULTS: ThresholdRule[] = [
  { vital: 'heart-rate', direction: 'high', limit: 120, hysteresis: 5, priority: 'medium', forMs: 10_000 },
  { vital: 'spo2', direction: 'low', limit: 90, hysteresis: 2, priority: 'medium', forMs: 10_000 },
  { vital: 'body-temperature', direction: 'high', limit: 39, hysteresis: 0.2, priority: 'low' },
];

describe('alarm limits form', () => {
  it('shows the defaults with the patient rules over them, then rules without a default', () => {
    const rows = draftsFrom({
      defaults: DEFAULTS,
      thresholds: [
        { vital: 'spo2', direction: 'low', limit: 88, hysteresis: 2, priority: 'high' },
        {
          vital: 'bp-diastolic',
          direction: 'high',
          limit: 100,
          hysteresis: 5,
          priority: 'low',
          consecutive: 2,
        },
      ],
    });
    expect(rows.map((r) => [r.vital, r.limit, r.priority, r.forS, r.consecutive])).toEqual([
      ['heart-rate', '120', 'medium', '10', ''],
      ['spo2', '88', 'high', '', ''],
      ['body-temperature', '39', 'low', '', ''],
      ['bp-diastolic', '100', 'low', '', '2'],
    ]);
    expect(rows.map(isDefault)).toEqual([true, false, true, false]);
  });

  it('sends only rules that differ from their default, and knows which row each is', () => {
    const rows = draftsFrom({ defaults: DEFAULTS, thresholds: [] });
    const edited = rows.map((r) =>
      r.vital === 'body-temperature' ? { ...r, limit: '38,5', forS: '30' } : r,
    );
    const { body, rowOf } = toBody(edited, true);
    expect(body).toEqual({
      thresholds: [
        {
          vital: 'body-temperature',
          direction: 'high',
          limit: 38.5,
          hysteresis: 0.2,
          priority: 'low',
          forMs: 30_000,
        },
      ],
      spo2Scale2: true,
    });
    expect(rowOf).toEqual([2]);
  });

  it('sends a blank limit as null and a word as typed, for the platform to name the field', () => {
    const rows = draftsFrom({ defaults: DEFAULTS, thresholds: [] });
    const edited = [{ ...rows[0]!, limit: '' }, { ...rows[1]!, hysteresis: 'two' }, rows[2]!];
    const { body } = toBody(edited, false);
    expect(body.thresholds.map((t) => [t.limit, t.hysteresis])).toEqual([
      [null, 5],
      [90, 'two'],
    ]);
  });

  it('keeps a clearConsecutive it does not show', () => {
    const rows = draftsFrom({
      defaults: DEFAULTS,
      thresholds: [
        { vital: 'spo2', direction: 'low', limit: 88, hysteresis: 2, priority: 'high', clearConsecutive: 3 },
      ],
    });
    expect(toBody(rows, false).body.thresholds[0]).toMatchObject({ vital: 'spo2', clearConsecutive: 3 });
  });

  it('traces a refusal back to the row and input', () => {
    const rowOf = [2, 5];
    expect(locateError('/thresholds/1/limit', rowOf)).toEqual({ row: 5, input: 'limit' });
    expect(locateError('/thresholds/0/forMs', rowOf)).toEqual({ row: 2, input: 'forS' });
    expect(locateError('/thresholds/1', rowOf)).toEqual({ row: 5 });
    expect(locateError('/thresholds/0/colour', rowOf)).toEqual({ row: 2 });
    expect(locateError('/thresholds/9/limit', rowOf)).toEqual({});
    expect(locateError('/spo2Scale2', rowOf)).toEqual({ input: 'spo2Scale2' });
    expect(locateError('/thresholds', rowOf)).toEqual({});
    expect(locateError(undefined, rowOf)).toEqual({});
  });
});
