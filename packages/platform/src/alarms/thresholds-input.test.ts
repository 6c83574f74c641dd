import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../http/problem.ts';
import { parseThresholds } from './routes.ts';

const rule = fc.record({
  vital: fc.constantFrom('heart-rate', 'spo2', 'respiratory-rate', 'bp-systolic', 'body-temperature'),
  direction: fc.constantFrom('high', 'low'),
  limit: fc.double({ noNaN: true, noDefaultInfinity: true }),
  hysteresis: fc.double({ min: 0, max: 50, noNaN: true }),
  priority: fc.constantFrom('low', 'medium', 'high'),
  forMs: fc.option(fc.integer({ min: 0, max: 600_000 }), { nil: undefined }),
  consecutive: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
});

describe('patient threshold input', () => {
  it('accepts valid rules as they are', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(rule, { selector: (r) => `${r.vital}:${r.direction}`, maxLength: 10 }),
        (rules) => {
          const clean = rules.map((r) => JSON.parse(JSON.stringify(r)));
          expect(parseThresholds(clean)).toEqual(clean);
        },
      ),
    );
  });

  it('refuses anything else with a 400 that names the element at fault, and never throws otherwise', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.array(fc.dictionary(fc.string(), fc.jsonValue()))), (input) => {
        try {
          parseThresholds(input);
        } catch (e) {
          expect(e).toBeInstanceOf(HttpProblem);
          const p = (e as HttpProblem).problem;
          expect(p.status).toBe(400);
          expect(p.field).toMatch(/^\/thresholds/);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('names the field: a limit that is not a number, a duplicate rule, an unknown property', () => {
    const field = (input: unknown) => {
      try {
        parseThresholds(input);
      } catch (e) {
        return (e as HttpProblem).problem.field;
      }
      return undefined;
    };
    const hr = { vital: 'heart-rate', direction: 'high', limit: 120, hysteresis: 5, priority: 'medium' };
    expect(field([{ ...hr, limit: 'fast' }])).toBe('/thresholds/0/limit');
    expect(field([hr, hr])).toBe('/thresholds/1');
    expect(field([{ ...hr, colour: 'red' }])).toBe('/thresholds/0/colour');
    expect(field([{ ...hr, consecutive: 0 }])).toBe('/thresholds/0/consecutive');
    expect(field({})).toBe('/thresholds');
  });
});
