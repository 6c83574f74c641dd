import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newTotpSecret, parseTotpCode, totpCode, totpUri, verifyTotp } from './totp.ts';

/** RFC 6238 appendix B: the SHA-1 seed "12345678901234567890" in Base32; codes are the last 6 digits. */
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('TOTP', () => {
  it('matches the RFC 6238 SHA-1 test vectors (6 digits)', async () => {
    for (const [t, code] of [
      [59, '287082'],
      [1111111109, '081804'],
      [1111111111, '050471'],
      [1234567890, '005924'],
      [2000000000, '279037'],
    ] as const)
      expect(await totpCode(RFC_SECRET, t * 1000)).toBe(code);
  });

  it('accepts one step either side, refuses further, and refuses steps already used', async () => {
    const t = 1111111109_000;
    const step = Math.floor(t / 30_000);
    expect(await verifyTotp(RFC_SECRET, '081804', t)).toBe(step);
    expect(await verifyTotp(RFC_SECRET, '081804', t + 30_000)).toBe(step);
    expect(await verifyTotp(RFC_SECRET, '081804', t - 30_000)).toBe(step);
    expect(await verifyTotp(RFC_SECRET, '081804', t + 60_000)).toBeUndefined();
    expect(await verifyTotp(RFC_SECRET, '081804', t, step)).toBeUndefined();
    expect(await verifyTotp(RFC_SECRET, '081804', t, step - 1)).toBe(step);
  });

  it('makes 160-bit Base32 secrets and otpauth URIs for authenticator apps', () => {
    const s = newTotpSecret();
    expect(s).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(s);
    expect(totpUri(s, 'alice@example.org')).toBe(
      `otpauth://totp/OpenIoMT:alice%40example.org?secret=${s}&issuer=OpenIoMT`,
    );
  });

  it('parses typed codes: 6 digits, spaces and dashes ignored, anything else refused without throwing', () => {
    expect(parseTotpCode('123 456')).toBe('123456');
    expect(parseTotpCode('123-456')).toBe('123456');
    for (const bad of ['12345', '1234567', '12345a', '１２３４５６', 123456, null, ' '.repeat(20)])
      expect(parseTotpCode(bad)).toBeUndefined();
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[\d -]{0,16}$/)), (raw) => {
        const code = parseTotpCode(raw);
        if (code !== undefined) {
          expect(code).toMatch(/^\d{6}$/);
          expect(raw.replace(/[\s-]/g, '')).toBe(code);
        }
      }),
    );
  });
});
