import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMON_PASSWORDS } from './common-passwords.ts';
import { checkPassword, PASSWORD_MAX, PASSWORD_MIN } from './password-policy.ts';

const reason = (p: unknown, user = 'alice') => {
  const v = checkPassword(p, user);
  return v.ok ? 'ok' : v.reason;
};

describe('password policy (NIST SP 800-63B style)', () => {
  it('accepts long passphrases without composition rules', () => {
    expect(reason('plum velvet river lantern')).toBe('ok');
    expect(reason('alllowercaseletters')).toBe('ok');
    expect(reason('ein Schlüssel für alles')).toBe('ok');
  });

  it('refuses short, overlong, common, repetitive and context passwords, saying why', () => {
    expect(reason('short pass')).toMatch(/at least 12/);
    expect(reason('x'.repeat(PASSWORD_MAX + 1))).toMatch(/at most 256/);
    expect(reason('Password1234')).toMatch(/most common/);
    expect(reason('aaaaaaaaaaaaaaa')).toMatch(/repeated character or a simple sequence/);
    expect(reason('abcdefghijklmnop')).toMatch(/simple sequence/);
    expect(reason('9876543210987')).not.toBe('ok');
    expect(reason('my name is Alice ok', 'alice')).toMatch(/username/);
    expect(reason('bob.smith rules forever', 'bob.smith@example.org')).toMatch(/username/);
    expect(reason('i love openiomt so much')).toMatch(/product name/);
    expect(reason(12345678901234)).toMatch(/must be a string/);
  });

  it('counts characters, not UTF-16 units', () => {
    expect(reason('😀'.repeat(PASSWORD_MIN - 1))).toMatch(/at least 12/);
    expect(reason('😀🙂'.repeat(6))).toBe('ok');
  });

  it('refuses every listed common password, whatever its case', () => {
    for (const p of COMMON_PASSWORDS) expect(checkPassword(p.toUpperCase(), 'someone').ok).toBe(false);
  });

  it('never throws, and never accepts anything outside the length bounds or containing the username', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.stringMatching(/^[a-z0-9]{3,12}$/),
        (p, user) => {
          const v = checkPassword(p, user);
          if (!v.ok) return;
          const n = [...p.normalize('NFKC')].length;
          expect(n).toBeGreaterThanOrEqual(PASSWORD_MIN);
          expect(n).toBeLessThanOrEqual(PASSWORD_MAX);
          expect(p.normalize('NFKC').toLowerCase()).not.toContain(user);
        },
      ),
    );
  });
});
