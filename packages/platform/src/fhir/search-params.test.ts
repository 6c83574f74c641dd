import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HttpProblem } from '../http/problem.ts';
import { checkParams, DATE_PREFIXES, dateParams, matchesDate, parseDateCondition } from './search-params.ts';

describe('FHIR date search values', () => {
  it('reads each precision as the range it stands for', () => {
    expect(parseDateCondition('2024')).toEqual({
      prefix: 'eq',
      lo: Date.UTC(2024, 0, 1),
      hi: Date.UTC(2025, 0, 1),
    });
    expect(parseDateCondition('ge2024-02')).toEqual({
      prefix: 'ge',
      lo: Date.UTC(2024, 1, 1),
      hi: Date.UTC(2024, 2, 1),
    });
    expect(parseDateCondition('lt2024-02-29')?.hi).toBe(Date.UTC(2024, 2, 1));
    expect(parseDateCondition('sa2024-02-29T10:00+01:00')).toEqual({
      prefix: 'sa',
      lo: Date.UTC(2024, 1, 29, 9, 0),
      hi: Date.UTC(2024, 1, 29, 9, 1),
    });
    const ms = parseDateCondition('2024-02-29T10:00:00.250Z');
    expect(ms && ms.hi - ms.lo).toBe(1);
  });

  it('refuses malformed values, naming the parameter', () => {
    for (const bad of ['xx2024', '2024-13', '2023-02-29', '2024-01-01T10:00', 'ge', '2024-01-01T25:00Z'])
      expect(parseDateCondition(bad), bad).toBeNull();
    try {
      dateParams(['qq2024'], 'date');
      expect.unreachable();
    } catch (e) {
      expect((e as HttpProblem).problem.field).toBe('date');
    }
  });

  it('matches a point in time the way the FHIR range rules say (property)', () => {
    const instant = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) });
    fc.assert(
      fc.property(fc.constantFrom(...DATE_PREFIXES), instant, instant, (prefix, t, v) => {
        const value = new Date(v).toISOString().slice(0, 19);
        const c = parseDateCondition(`${prefix}${value}Z`);
        if (!c) return false;
        const inside = t >= c.lo && t < c.hi;
        const expected = {
          eq: inside,
          ne: !inside,
          lt: t < c.lo,
          eb: t < c.lo,
          gt: t >= c.hi,
          sa: t >= c.hi,
          le: t < c.hi,
          ge: t >= c.lo,
        }[prefix];
        // ge/le are the union of gt/lt with eq; ne is the complement of eq.
        return (
          matchesDate(t, c) === expected &&
          matchesDate(t, { ...c, prefix: 'ge' }) ===
            (matchesDate(t, { ...c, prefix: 'gt' }) || matchesDate(t, { ...c, prefix: 'eq' }))
        );
      }),
    );
  });
});

describe('search parameter checks', () => {
  it('refuses an unknown parameter and a repeated one, naming it', () => {
    const field = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as HttpProblem).problem.field;
      }
      return undefined;
    };
    expect(field(() => checkParams({ pateint: 'x' }, ['patient']))).toBe('pateint');
    expect(field(() => checkParams({ patient: ['a', 'b'] }, ['patient']))).toBe('patient');
    expect(field(() => checkParams({ _summary: 'text' }, []))).toBe('_summary');
    expect(checkParams({ date: ['ge2024', 'le2025'] }, ['date'], ['date']).all('date')).toHaveLength(2);
  });
});
