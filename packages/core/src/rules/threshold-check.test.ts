import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VITAL_CODES, VITALS, type VitalCode } from '../codes/vitals.ts';
import { checkPatientThresholds } from './threshold-check.ts';
import { DEFAULT_THRESHOLDS, patientThresholds, type ThresholdRule } from './thresholds.ts';

const rule = (
  r: Partial<ThresholdRule> & Pick<ThresholdRule, 'vital' | 'direction' | 'limit'>,
): ThresholdRule => ({
  hysteresis: 2,
  priority: 'medium',
  ...r,
});
const problem = (rules: ThresholdRule[]) => checkPatientThresholds(rules);

describe("a patient's limit rules", () => {
  it('accept sensible limits, none at all, and the defaults themselves', () => {
    expect(problem([])).toBeUndefined();
    expect(problem([...DEFAULT_THRESHOLDS])).toBeUndefined();
    expect(
      problem([
        rule({ vital: 'spo2', direction: 'low', limit: 88 }),
        rule({ vital: 'heart-rate', direction: 'high', limit: 140, hysteresis: 5 }),
        rule({ vital: 'bp-diastolic', direction: 'high', limit: 100 }),
      ]),
    ).toBeUndefined();
  });

  it('refuse a limit outside what the vital sign can be', () => {
    expect(problem([rule({ vital: 'spo2', direction: 'low', limit: 150 })])).toEqual({
      field: '/0/limit',
      detail:
        'limit 150 is outside what oxygen saturation by pulse oximetry can be (above 0 and below 100 %): it would alarm on every reading',
    });
    expect(problem([rule({ vital: 'heart-rate', direction: 'high', limit: 400 })])?.detail).toMatch(
      /could never alarm/,
    );
    expect(problem([rule({ vital: 'spo2', direction: 'high', limit: 100 })])?.field).toBe('/0/limit');
    expect(problem([rule({ vital: 'body-temperature', direction: 'low', limit: 10 })])?.field).toBe(
      '/0/limit',
    );
  });

  it('refuse numeric limits on vital signs that are not numbers', () => {
    expect(problem([rule({ vital: 'consciousness', direction: 'high', limit: 2 })])).toEqual({
      field: '/0/vital',
      detail:
        'Level of consciousness (ACVPU) is recorded as one of A, C, V, P, U, not a number: it has no numeric limit',
    });
    expect(problem([rule({ vital: 'fall', direction: 'high', limit: 0.5 })])?.detail).toMatch(/yes or no/);
    expect(problem([rule({ vital: 'supplemental-oxygen', direction: 'high', limit: 0.5 })])?.field).toBe(
      '/0/vital',
    );
  });

  it('refuse a high limit below the low one, whether the low one is the patient’s or the default', () => {
    expect(
      problem([
        rule({ vital: 'heart-rate', direction: 'high', limit: 40 }),
        rule({ vital: 'heart-rate', direction: 'low', limit: 100 }),
      ]),
    ).toEqual({
      field: '/1/limit',
      detail: "the low heart rate limit 100 must be below the patient's high limit 40",
    });
    expect(problem([rule({ vital: 'heart-rate', direction: 'high', limit: 45 })])).toEqual({
      field: '/0/limit',
      detail: 'the high heart rate limit 45 must be above the default low limit 50',
    });
  });

  it('refuse a hysteresis that could never let the alarm clear', () => {
    // 200 on a 120 limit: clearing would need -80 beats a minute.
    expect(
      problem([rule({ vital: 'heart-rate', direction: 'high', limit: 120, hysteresis: 200 })]),
    ).toMatchObject({
      field: '/0/hysteresis',
      detail: expect.stringMatching(/only at -80 beats\/minute, which heart rate cannot reach/),
    });
    // 60 on 120 with the default low limit 50: clearing at 60 is possible, but the band is only 70 wide.
    expect(
      problem([rule({ vital: 'heart-rate', direction: 'high', limit: 120, hysteresis: 70 })]),
    ).toMatchObject({
      field: '/0/hysteresis',
      detail: expect.stringMatching(
        /not smaller than the 70 between the low limit 50 and the high limit 120/,
      ),
    });
    expect(problem([rule({ vital: 'spo2', direction: 'low', limit: 90, hysteresis: 0 })])?.field).toBe(
      '/0/hysteresis',
    );
    // A band narrower than the default low rule's hysteresis (5) is the patient's limit's fault.
    expect(problem([rule({ vital: 'heart-rate', direction: 'high', limit: 53 })])).toMatchObject({
      field: '/0/limit',
      detail: expect.stringMatching(/the low rule's hysteresis 5 is not smaller than the 3/),
    });
  });

  it('name the rule and field at fault: a second rule, a bad count', () => {
    const hr = rule({ vital: 'heart-rate', direction: 'high', limit: 130, hysteresis: 5 });
    expect(problem([hr, hr])?.field).toBe('/1');
    expect(problem([hr, { ...hr, direction: 'low', limit: 40, consecutive: 0 }])?.field).toBe(
      '/1/consecutive',
    );
  });
});

/**
 * Any rule on a catalogue vital (mostly numeric ones), so that many sets are sensible and many are not:
 * either near the default of its vital and direction (0.85 to 1.15 times its limit, 0 to 3 times its
 * hysteresis), or anywhere around the vital's possible range, beyond both ends included.
 */
const anyRule: fc.Arbitrary<ThresholdRule> = fc
  // Even spreads (fast-check's doubles crowd near 0, its biased integers near the ends): else nearly every
  // set would be refused and the property would say little about accepted ones.
  .noBias(
    fc.record({
      vital: fc.oneof(
        {
          arbitrary: fc.constantFrom(...VITAL_CODES.filter((c) => VITALS[c].valueKind === 'quantity')),
          weight: 19,
        },
        { arbitrary: fc.constantFrom(...VITAL_CODES), weight: 1 },
      ),
      direction: fc.constantFrom('high' as const, 'low' as const),
      near: fc.boolean(),
      at: fc.integer({ min: -30, max: 1030 }).map((n) => n / 1000),
      spread: fc.oneof(
        { arbitrary: fc.constant(0), weight: 1 },
        { arbitrary: fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000), weight: 19 },
      ),
      priority: fc.constantFrom('low' as const, 'medium' as const, 'high' as const),
    }),
  )
  .map(({ vital, direction, near, at, spread, priority }) => {
    const v = VITALS[vital];
    const [min, max] = [v.min ?? 0, v.max ?? 1];
    const round = (n: number) => Math.round(n * 10) / 10;
    const d = DEFAULT_THRESHOLDS.find((r) => r.vital === vital && r.direction === direction);
    const [limit, hysteresis] =
      near && d
        ? [d.limit * (0.85 + at * 0.3), d.hysteresis * spread * 3]
        : [min + at * (max - min), spread * 0.2 * (max - min)];
    return { vital, direction, priority, limit: round(limit), hysteresis: round(hysteresis) };
  });

describe('property: whatever is accepted can both alarm and clear', () => {
  it('for every rule in effect, a possible value breaches it and a possible value clears it without breaching its partner', () => {
    fc.assert(
      fc.property(fc.array(anyRule, { maxLength: 6 }), (rules) => {
        const p = checkPatientThresholds(rules);
        if (p) {
          // Refusals name a rule and one of its fields.
          expect(p.field).toMatch(/^\/\d+(\/(vital|limit|hysteresis))?$/);
          expect(Number(p.field.split('/')[1])).toBeLessThan(rules.length);
          return;
        }
        const effective = patientThresholds(rules);
        for (const r of effective) {
          if (r.vital === 'battery' || r.vital === 'signal-quality') continue;
          const v = VITALS[r.vital as VitalCode];
          expect(v.valueKind).toBe('quantity');
          const [min, max] = [v.min as number, v.max as number];
          expect(r.limit).toBeGreaterThan(min);
          expect(r.limit).toBeLessThan(max);
          expect(r.hysteresis).toBeGreaterThan(0);
          const breach = r.direction === 'high' ? (r.limit + max) / 2 : (r.limit + min) / 2;
          const clear = r.direction === 'high' ? r.limit - r.hysteresis : r.limit + r.hysteresis;
          expect(breach).toBeGreaterThanOrEqual(min);
          expect(breach).toBeLessThanOrEqual(max);
          expect(clear).toBeGreaterThanOrEqual(min);
          expect(clear).toBeLessThanOrEqual(max);
          const partner = effective.find((o) => o.vital === r.vital && o.direction !== r.direction);
          if (!partner) continue;
          // The clearing value does not breach the other limit.
          if (r.direction === 'high') expect(clear).toBeGreaterThanOrEqual(partner.limit);
          else expect(clear).toBeLessThanOrEqual(partner.limit);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('accepts any rule chosen inside the range, with a small margin, beside the defaults', () => {
    const numeric = VITAL_CODES.filter((c) => VITALS[c].valueKind === 'quantity');
    fc.assert(
      fc.property(
        fc.constantFrom(...numeric),
        fc.double({ min: 0.3, max: 0.7, noNaN: true }),
        (vital, at) => {
          const v = VITALS[vital];
          const [min, max] = [v.min as number, v.max as number];
          const limit = min + at * (max - min);
          const low = rule({
            vital,
            direction: 'low',
            limit: limit - (max - min) * 0.1,
            hysteresis: (max - min) * 0.01,
          });
          const high = rule({
            vital,
            direction: 'high',
            limit: limit + (max - min) * 0.1,
            hysteresis: (max - min) * 0.01,
          });
          expect(checkPatientThresholds([low, high])).toBeUndefined();
        },
      ),
    );
  });
});
