import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clearSessionCookie, parseCookies, SESSION_COOKIE, sessionCookie } from './cookies.ts';

const tokenChars = fc.constantFrom(
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'.split(''),
);
const token = fc.string({ unit: tokenChars, minLength: 1, maxLength: 64 });
const name = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_-0123456789'.split('')),
  minLength: 1,
  maxLength: 20,
});

describe('session cookie', () => {
  it('is HttpOnly, SameSite=Strict, Path=/, with Max-Age and Secure', () => {
    const c = sessionCookie('oiss_abc', { maxAgeS: 43_200, secure: true });
    expect(c).toBe(`${SESSION_COOKIE}=oiss_abc; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure`);
    expect(clearSessionCookie(true)).toMatch(
      /^openiomt_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict; Secure$/,
    );
    expect(() => sessionCookie('a;b', { maxAgeS: 1, secure: true })).toThrow(/base64url/);
  });

  it('round-trips: what we set is what we read back, among other cookies in any order', () => {
    fc.assert(
      fc.property(token, fc.array(fc.tuple(name, token), { maxLength: 5 }), fc.nat(5), (t, others, at) => {
        const pairs = others.filter(([n]) => n !== SESSION_COOKIE).map(([n, v]) => `${n}=${v}`);
        const set = sessionCookie(t, { maxAgeS: 60, secure: true });
        pairs.splice(Math.min(at, pairs.length), 0, set.split(';')[0] as string);
        expect(parseCookies(pairs.join('; ')).get(SESSION_COOKIE)).toBe(t);
      }),
    );
  });

  it('never throws on arbitrary headers and only returns token-shaped names', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.array(fc.string())), (header) => {
        const jar = parseCookies(header);
        for (const k of jar.keys()) expect(k).toMatch(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);
      }),
    );
  });

  it('keeps the first of duplicate names, strips quotes, skips junk and ignores huge headers', () => {
    expect(parseCookies('a=1; a=2').get('a')).toBe('1');
    expect(parseCookies('a="x y"').get('a')).toBe('x y');
    expect([...parseCookies('=v; ;novalue; b c=1; ok=2').entries()]).toEqual([['ok', '2']]);
    expect(parseCookies(`${SESSION_COOKIE}=${'x'.repeat(9000)}`).size).toBe(0);
    expect(parseCookies(undefined).size).toBe(0);
  });
});
