import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseUsername } from './username.ts';

describe('normaliseUsername', () => {
  it('folds case, width and surrounding space to one stored form', () => {
    expect(normaliseUsername('Alice')).toBe('alice');
    expect(normaliseUsername('  alice@Example.ORG ')).toBe('alice@example.org');
    expect(normaliseUsername('ＡＬＩＣＥ')).toBe('alice'); // full-width letters (NFKC)
    expect(normaliseUsername('\u212Aate')).toBe('kate'); // KELVIN SIGN
  });

  it('refuses what cannot be a username', () => {
    for (const bad of [
      '',
      'ab',
      'a b c',
      '.alice',
      'al/ice',
      'ålice',
      'a'.repeat(65),
      42,
      null,
      undefined,
      ['alice'],
    ])
      expect(normaliseUsername(bad)).toBeUndefined();
  });

  it('is idempotent, and its output is lower-case ASCII within bounds that matches the database check', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.stringMatching(/^[A-Za-z0-9._@+-]{1,70}$/)),
        (raw) => {
          const n = normaliseUsername(raw);
          if (n === undefined) return;
          expect(normaliseUsername(n)).toBe(n);
          expect(n).toBe(n.toLowerCase());
          expect(n).toMatch(/^[a-z0-9][a-z0-9._@+-]{2,63}$/);
        },
      ),
    );
  });

  it('maps case variants of one name to the same account', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9][a-z0-9._@+-]{2,40}$/),
        fc.array(fc.boolean(), { minLength: 41, maxLength: 41 }),
        (name, upper) => {
          const variant = [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('');
          expect(normaliseUsername(variant)).toBe(name);
        },
      ),
    );
  });
});
