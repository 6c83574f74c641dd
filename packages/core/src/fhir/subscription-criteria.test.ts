import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapObservations } from './observation.ts';
import { readingArb } from './reading-arbitrary.ts';
import {
  matchesCriteria,
  matchesNumber,
  parseQuantityCondition,
  parseSubscriptionCriteria,
  QUANTITY_PREFIXES,
  type SubscriptionCriteria,
} from './subscription-criteria.ts';

const parsed = (s: string): SubscriptionCriteria => {
  const r = parseSubscriptionCriteria(s);
  if (!r.ok) throw new Error(r.diagnostics);
  return r.criteria;
};
const hr = (value: number, patient = 'p1') => ({
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
  category: [
    {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }],
    },
  ],
  subject: { reference: `Patient/${patient}` },
  valueQuantity: { value, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
});
const bp = (sys: number, dia: number) => ({
  code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
  subject: { reference: 'Patient/p1' },
  component: [
    { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: sys } },
    { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: dia } },
  ],
});

describe('Subscription.criteria', () => {
  it('matches heart rate above 120, by LOINC or catalogue code, with or without the unit', () => {
    for (const s of [
      'Observation?code=http://loinc.org|8867-4&value-quantity=gt120',
      'Observation?code=heart-rate&value-quantity=gt120|http://unitsofmeasure.org|/min',
      'Observation?code=8867-4&value-quantity=gt120%7C%7C%2Fmin',
    ]) {
      const c = parsed(s);
      expect(c.codes).toContain('heart-rate');
      expect(matchesCriteria(c, hr(130)), s).toBe(true);
      expect(matchesCriteria(c, hr(110)), s).toBe(false);
      expect(matchesCriteria(c, hr(120)), s).toBe(false);
    }
    expect(matchesCriteria(parsed('Observation?code=8867-4&value-quantity=gt120|x|mm[Hg]'), hr(130))).toBe(
      false,
    );
    expect(matchesCriteria(parsed('Observation?code=8310-5&value-quantity=gt1'), hr(130))).toBe(false);
  });

  it('narrows to a patient and a category, and ANDs value conditions into ranges', () => {
    const c = parsed(
      'Observation?code=8867-4&patient=Patient/p1&category=vital-signs&value-quantity=ge60&value-quantity=le100',
    );
    expect(matchesCriteria(c, hr(80))).toBe(true);
    expect(matchesCriteria(c, hr(80, 'p2'))).toBe(false);
    expect(matchesCriteria(c, hr(101))).toBe(false);
    expect(matchesCriteria(parsed('Observation?code=8867-4&category=waveforms'), hr(80))).toBe(false);
  });

  it('matches blood-pressure components, with component-code or the composite parameter', () => {
    const pair = parsed(
      'Observation?code=85354-9&component-code=http://loinc.org|8480-6&component-value-quantity=gt140',
    );
    expect(matchesCriteria(pair, bp(150, 90))).toBe(true);
    expect(matchesCriteria(pair, bp(130, 150))).toBe(false);
    const composite = parsed('Observation?code=blood-pressure&component-code-value-quantity=8462-4$ge90');
    expect(matchesCriteria(composite, bp(120, 95))).toBe(true);
    expect(matchesCriteria(composite, bp(120, 85))).toBe(false);
  });

  it('uses the implicit precision for eq and ne', () => {
    expect(matchesNumber(100.4, parseQuantityCondition('eq100')!)).toBe(true);
    expect(matchesNumber(100.5, parseQuantityCondition('100')!)).toBe(false);
    expect(matchesNumber(100.04, parseQuantityCondition('eq100.0')!)).toBe(true);
    expect(matchesNumber(100.4, parseQuantityCondition('eq100.0')!)).toBe(false);
    expect(matchesNumber(99, parseQuantityCondition('ne100')!)).toBe(true);
  });

  it('refuses everything else, saying which parameter', () => {
    const bad: [string, RegExp][] = [
      ['Patient?name=x', /only Observation/],
      ['Observation?value-quantity=gt1', /code is required/],
      ['Observation?code=not-a-code', /code: "not-a-code"/],
      ['Observation?code=8867-4&value-quantity=above120', /value-quantity must be/],
      ['Observation?code=8867-4&value-quantity=sa120', /value-quantity must be/],
      ['Observation?code=8867-4&date=gt2024', /unknown parameter "date"/],
      ['Observation?code=8867-4&patient=a/b/c', /patient must be/],
      ['Observation?code=8867-4&code=8310-5', /code may be given once/],
      ['Observation?code=8867-4&category=laboratory', /category must be/],
      ['Observation?code=8867-4&component-code=8480-6', /component-code needs/],
      ['Observation?code=8867-4&value-quantity=gt1|x', /value-quantity must be/],
      ['Observation?code=%E0%A4%A', /percent-encoding/],
      ['', /search URL/],
    ];
    for (const [s, re] of bad) {
      const r = parseSubscriptionCriteria(s);
      expect(r.ok, s).toBe(false);
      if (!r.ok) expect(r.diagnostics, s).toMatch(re);
    }
    expect(parseSubscriptionCriteria(42).ok).toBe(false);
  });

  it('never throws on arbitrary input, and every accepted criteria has a known code (property)', () => {
    const piece = fc.oneof(
      fc.string(),
      fc.constantFrom(
        'code=8867-4',
        'value-quantity=gt',
        'patient=',
        '&',
        '=',
        '|',
        '%',
        '$',
        'component-code=',
        'category=vital-signs',
      ),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (parts) => {
        const r = parseSubscriptionCriteria(`Observation?${parts.join('')}`);
        if (r.ok) expect(r.criteria.codes.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with plain comparison for every prefix and number (property, against a model)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...QUANTITY_PREFIXES),
        fc.integer({ min: -500, max: 500 }),
        fc.integer({ min: -5000, max: 5000 }),
        (prefix, bound, tenths) => {
          const x = tenths / 10;
          const c = parseSubscriptionCriteria(`Observation?code=8867-4&value-quantity=${prefix}${bound}`);
          if (!c.ok) throw new Error(c.diagnostics);
          const model = {
            gt: x > bound,
            ge: x >= bound,
            lt: x < bound,
            le: x <= bound,
            eq: x >= bound - 0.5 && x < bound + 0.5,
            ne: !(x >= bound - 0.5 && x < bound + 0.5),
          }[prefix];
          expect(matchesCriteria(c.criteria, hr(x))).toBe(model);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('matches the Observations mapReading makes exactly when code and value say so (property)', () => {
    const c = parsed('Observation?code=heart-rate&value-quantity=gt120');
    fc.assert(
      fc.property(readingArb, (message) => {
        for (const o of mapObservations(message, 'p1')) {
          const v = (o.resource as { valueQuantity?: { value?: number } }).valueQuantity?.value;
          expect(matchesCriteria(c, o.resource)).toBe(o.code === 'heart-rate' && v !== undefined && v > 120);
        }
      }),
      { numRuns: 200 },
    );
  });
});
