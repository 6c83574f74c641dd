import { ROLES } from '@openiomt/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hasControlCharacter,
  PEOPLE_IDS_MAX,
  PEOPLE_LIMIT_MAX,
  PEOPLE_QUERY_MAX,
  PEOPLE_QUERY_MIN,
  parsePeopleQuery,
} from './people-query.ts';

const field = (raw: Record<string, unknown> | undefined) => {
  const p = parsePeopleQuery(raw);
  return p.ok ? undefined : p.field;
};

describe('the people directory query', () => {
  it('reads q, role and limit, with the default limit', () => {
    expect(parsePeopleQuery({ q: '  Ana   SILVA ' })).toEqual({
      ok: true,
      query: { kind: 'search', text: 'ana silva', limit: 10 },
    });
    expect(parsePeopleQuery({ q: 'ＡＮ', role: 'nurse', limit: '25' })).toEqual({
      ok: true,
      query: { kind: 'search', text: 'an', role: 'nurse', limit: 25 },
    });
  });

  it('reads ids: distinct, in the order given', () => {
    const a = '3f0c8a52-3c1e-4a0b-9d55-0f6f4a3b2c1d';
    expect(parsePeopleQuery({ ids: `${a},u-2,${a}` })).toEqual({
      ok: true,
      query: { kind: 'lookup', ids: [a, 'u-2'] },
    });
    const fifty = Array.from({ length: PEOPLE_IDS_MAX }, (_, i) => `user${i}`);
    expect(parsePeopleQuery({ ids: fifty.join(',') })).toEqual({
      ok: true,
      query: { kind: 'lookup', ids: fifty },
    });
    // Duplicates count once.
    expect(field({ ids: [...fifty, 'user0'].join(',') })).toBeUndefined();
  });

  it('names the parameter at fault', () => {
    expect(field(undefined)).toBe('/q');
    expect(field({})).toBe('/q');
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

  it('names ids at fault, and refuses q and ids together', () => {
    expect(field({ q: 'ana', ids: 'u1' })).toBe('/ids');
    expect(field({ q: 'a', ids: 'bad,,id' })).toBe('/ids');
    for (const ids of ['', ',', 'u1,', ',u1', 'u1,,u2', 'u 1', 'u1;u2', '-u1', 'x'.repeat(129), 'ü'])
      expect(field({ ids }), JSON.stringify(ids)).toBe('/ids');
    expect(field({ ids: ['u1', 'u2'] })).toBe('/ids');
    const many = Array.from({ length: PEOPLE_IDS_MAX + 1 }, (_, i) => `user${i}`).join(',');
    expect(field({ ids: many })).toBe('/ids');
    expect(field({ ids: 'x'.repeat(100_000) })).toBe('/ids');
    expect(field({ ids: 'u1', role: 'nurse' })).toBe('/role');
    expect(field({ ids: 'u1', limit: '5' })).toBe('/limit');
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
        fc.oneof(value, fc.constant(undefined), fc.constant(undefined)),
        (q, role, limit, ids) => {
          const p = parsePeopleQuery({ q, role, limit, ids });
          if (!p.ok) {
            expect(['/q', '/role', '/limit', '/ids']).toContain(p.field);
            expect(p.detail.length).toBeGreaterThan(0);
            return;
          }
          // Exactly one of q and ids was given, and it decides the kind.
          expect(q === undefined).toBe(ids !== undefined);
          expect(p.query.kind).toBe(q === undefined ? 'lookup' : 'search');
          if (p.query.kind === 'lookup') return;
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

  it('accepts exactly the lists of 1..50 well-formed ids, each once', () => {
    const wellFormed = fc.oneof(fc.uuid(), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,12}$/));
    const piece = fc.oneof(
      { weight: 8, arbitrary: wellFormed },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
    );
    const pieces = fc.oneof(
      fc.array(piece, { minLength: 0, maxLength: 8 }),
      fc.array(wellFormed, { minLength: 40, maxLength: 60 }),
    );
    const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;
    let accepted = 0;
    fc.assert(
      fc.property(pieces, (xs) => {
        const p = parsePeopleQuery({ ids: xs.join(',') });
        // Written out again: every piece a user id (no comma inside one), 1..50 of them once duplicates go.
        const given = xs.join(',').split(',');
        const distinct = [...new Set(given)];
        const valid = given.every((id) => USER_ID.test(id)) && distinct.length <= PEOPLE_IDS_MAX;
        expect(p.ok, JSON.stringify(xs)).toBe(valid);
        if (!p.ok) {
          expect(p.field).toBe('/ids');
          return;
        }
        accepted++;
        expect(p.query).toEqual({ kind: 'lookup', ids: distinct });
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });
});
