import { ROLES } from '@openiomt/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hasControlCharacter,
  PEOPLE_LIMIT_MAX,
  PEOPLE_QUERY_MAX,
  PEOPLE_QUERY_MIN,
  parsePeopleQuery,
} from './people-query.ts';

describe('the people directory query', () => {
  it('reads q, role and limit, with the default limit', () => {
    expect(parsePeopleQuery({ q: '  Ana   SILVA ' })).toEqual({
      ok: true,
      query: { text: 'ana silva', limit: 10 },
    });
    expect(parsePeopleQuery({ q: 'ＡＮ', role: 'nurse', limit: '25' })).toEqual({
      ok: true,
      query: { text: 'an', role: 'nurse', limit: 25 },
    });
  });

  it('names the parameter at fault', () => {
    const field = (raw: Record<string, unknown> | undefined) => {
      const p = parsePeopleQuery(raw);
      return p.ok ? undefined : p.field;
    };
    expect(field(undefined)).toBe('/q');
    expect(field({ q: 'a' })).toBe('/q');
    expect(field({ q: ' a ' })).toBe('/q');
    expect(field({ q: ['an', 'bo'] })).toBe('/q');
    expect(field({ q: 'an\u0000' })).toBe('/q');
    expect(field({ q: 'x'.repeat(PEOPLE_QUERY_MAX + 1) })).toBe('/q');
    expect(field({ q: 'an', role: 'doctor' })).toBe('/role');
    expect(field({ q: 'an', role: ['nurse'] })).toBe('/role');
    for (const limit of ['0', '26', '-1', '1.5', '1e1', '', ' 5', '0x10', '1000'])
      expect(field({ q: 'an', limit }), limit).toBe('/limit');
  });

  it('never throws on any input, and what it accepts is within bounds', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
    );
    const value = fc.oneof(text, fc.array(text, { maxLength: 3 }), fc.constant(undefined));
    fc.assert(
      fc.property(
        value,
        fc.oneof(value, fc.constantFrom(...ROLES)),
        fc.oneof(value, fc.integer({ min: -5, max: 40 }).map(String)),
        (q, role, limit) => {
          const p = parsePeopleQuery({ q, role, limit });
          if (!p.ok) {
            expect(['/q', '/role', '/limit']).toContain(p.field);
            expect(p.detail.length).toBeGreaterThan(0);
            return;
          }
          const { text: t, limit: n, role: r } = p.query;
          expect([...t].length).toBeGreaterThanOrEqual(PEOPLE_QUERY_MIN);
          expect([...t].length).toBeLessThanOrEqual(PEOPLE_QUERY_MAX);
          expect(t).toBe(t.trim());
          expect(t).toBe(t.toLowerCase());
          expect(hasControlCharacter(t)).toBe(false);
          expect(Number.isInteger(n) && n >= 1 && n <= PEOPLE_LIMIT_MAX).toBe(true);
          if (r !== undefined) expect(ROLES).toContain(r);
          expect(typeof q).toBe('string');
        },
      ),
      { numRuns: 2000 },
    );
  });
});
