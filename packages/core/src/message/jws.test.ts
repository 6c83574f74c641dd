import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Ed25519PublicJwk,
  importEd25519,
  isEd25519PublicJwk,
  jwkThumbprint,
  parseCompactJws,
  signCompactJws,
  verifyJws,
} from './jws.ts';
import { REJECTION_CODES } from './rejection.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const jwk = publicKey.export({ format: 'jwk' }) as unknown as Ed25519PublicJwk;
const message = {
  v: 1,
  device: 'd-1',
  seq: 3,
  ts: '2025-03-01T10:00:00Z',
  vitals: [{ code: 'spo2', value: 97 }],
};
const signed = signCompactJws(message, privateKey, jwkThumbprint(jwk), 'openiomt-reading+jws');
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const sig64 = signed.split('.')[2] as string;

/** Parses and verifies: true only when both succeed. */
function accepted(compact: string): boolean {
  const p = parseCompactJws(compact);
  return p.ok && verifyJws(p.value, publicKey);
}

describe('signCompactJws / parseCompactJws / verifyJws', () => {
  it('round-trips a signed message', () => {
    const p = parseCompactJws(signed);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.value.header).toEqual({ alg: 'EdDSA', kid: jwkThumbprint(jwk), typ: 'openiomt-reading+jws' });
    expect(JSON.parse(p.value.payload)).toEqual(message);
    expect(p.value.compact).toBe(signed);
    expect(verifyJws(p.value, importEd25519(jwk))).toBe(true);
    expect(verifyJws(p.value, generateKeyPairSync('ed25519').publicKey)).toBe(false);
  });

  it.each([
    ['two parts', 'a.b', 'malformed-jws'],
    ['padding', `${b64({ alg: 'EdDSA', kid: 'k' })}=.e30.${sig64}`, 'malformed-jws'],
    ['header not JSON', `${Buffer.from('{').toString('base64url')}.e30.${sig64}`, 'malformed-jws'],
    ['header an array', `${b64([1])}.e30.${sig64}`, 'malformed-jws'],
    ['alg none', `${b64({ alg: 'none', kid: 'k' })}.e30.${sig64}`, 'unsupported-algorithm'],
    ['alg HS256', `${b64({ alg: 'HS256', kid: 'k' })}.e30.${sig64}`, 'unsupported-algorithm'],
    ['no kid', `${b64({ alg: 'EdDSA' })}.e30.${sig64}`, 'malformed-jws'],
    ['crit', `${b64({ alg: 'EdDSA', kid: 'k', crit: ['exp'] })}.e30.${sig64}`, 'malformed-jws'],
    ['typ number', `${b64({ alg: 'EdDSA', kid: 'k', typ: 1 })}.e30.${sig64}`, 'malformed-jws'],
    ['short signature', `${b64({ alg: 'EdDSA', kid: 'k' })}.e30.AAAA`, 'bad-signature'],
    [
      'payload not UTF-8',
      `${b64({ alg: 'EdDSA', kid: 'k' })}.${Buffer.from([0xff, 0xfe]).toString('base64url')}.${sig64}`,
      'malformed-jws',
    ],
  ])('rejects %s', (_name, compact, code) => {
    const r = parseCompactJws(compact);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.rejection.code).toBe(code);
  });

  it('refuses a non-canonical base64url signature (was malleable: spare low bits ignored)', () => {
    // 64 bytes = 86 chars; the last char carries 4 unused bits. Flip one of them.
    const last = sig64.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1] as string;
    const forged = `${signed.slice(0, -1)}${twin}`;
    expect(Buffer.from(forged.split('.')[2] as string, 'base64url')).toEqual(Buffer.from(sig64, 'base64url'));
    expect(accepted(forged)).toBe(false);
  });
});

describe('tamper detection (fast-check)', () => {
  it('a changed character anywhere makes parse or verify fail', () => {
    fc.assert(
      fc.property(fc.nat({ max: signed.length - 1 }), fc.integer({ min: 1, max: 255 }), (pos, flip) => {
        const changed = String.fromCharCode((signed.charCodeAt(pos) ^ flip) & 0xff);
        const mutated = signed.slice(0, pos) + changed + signed.slice(pos + 1);
        expect(accepted(mutated)).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('every position and every bit is covered once', () => {
    for (let pos = 0; pos < signed.length; pos++)
      for (let bit = 0; bit < 8; bit++) {
        const changed = String.fromCharCode(signed.charCodeAt(pos) ^ (1 << bit));
        expect(
          accepted(signed.slice(0, pos) + changed + signed.slice(pos + 1)),
          `pos ${pos} bit ${bit}`,
        ).toBe(false);
      }
  });

  it('parseCompactJws never throws on arbitrary strings, and every refusal has a code and detail', () => {
    const check = (s: string) => {
      const r = parseCompactJws(s);
      if (!r.ok) {
        expect(Object.keys(REJECTION_CODES)).toContain(r.rejection.code);
        expect(r.rejection.detail.length).toBeGreaterThan(0);
      }
    };
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), check), { numRuns: 2000 });
    const part = fc.oneof(fc.base64String(), fc.stringMatching(/^[A-Za-z0-9_-]{0,120}$/));
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), (ps) => check(ps.join('.'))),
      {
        numRuns: 2000,
      },
    );
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (h, p) => check(`${b64(h)}.${b64(p)}.${sig64}`)),
      { numRuns: 1000 },
    );
    const t = Date.now();
    check('.'.repeat(1_000_000));
    check('A'.repeat(2_000_000));
    expect(Date.now() - t).toBeLessThan(2000);
  });
});

describe('keys', () => {
  it('imports Ed25519 JWKs and recognises them', () => {
    expect(isEd25519PublicJwk(jwk)).toBe(true);
    expect(isEd25519PublicJwk({ ...jwk, x: 'short' })).toBe(false);
    expect(isEd25519PublicJwk({ kty: 'EC', crv: 'P-256', x: jwk.x })).toBe(false);
    expect(() => importEd25519({ ...jwk, crv: 'X25519' } as never)).toThrow(/Ed25519/);
  });

  it('computes the RFC 7638 thumbprint (RFC 8037 appendix A.3 vector)', () => {
    const rfc = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' } as const;
    expect(jwkThumbprint(rfc)).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });
});
