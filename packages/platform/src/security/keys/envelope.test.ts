import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ENVELOPE_OVERHEAD,
  ENVELOPE_VERSION,
  EnvelopeError,
  NONCE_BYTES,
  open,
  parseEnvelope,
  seal,
  TAG_BYTES,
} from './envelope.ts';

const aad = Buffer.from('openiomt/test\u0000patient-1');

describe('envelope (AES-256-GCM, version 1)', () => {
  it('round-trips, with the documented layout and a fresh nonce each time', () => {
    const key = randomBytes(32);
    const plain = Buffer.from('Ada Lovelace, 1815-12-10');
    const a = seal(key, plain, aad);
    const b = seal(key, plain, aad);
    expect(a.length).toBe(plain.length + ENVELOPE_OVERHEAD);
    expect(a[0]).toBe(ENVELOPE_VERSION);
    expect(a.subarray(1, 1 + NONCE_BYTES).equals(b.subarray(1, 1 + NONCE_BYTES))).toBe(false);
    expect(a.includes(plain)).toBe(false);
    expect(open(key, a, aad).equals(plain)).toBe(true);
    const parts = parseEnvelope(a);
    expect(parts.ciphertext.length).toBe(plain.length);
    expect(parts.tag.length).toBe(TAG_BYTES);
  });

  it('refuses another context, another key, and any altered byte', () => {
    const key = randomBytes(32);
    const sealed = seal(key, Buffer.from('secret'), aad);
    expect(() => open(key, sealed, Buffer.from('openiomt/test\u0000patient-2'))).toThrow(EnvelopeError);
    expect(() => open(randomBytes(32), sealed, aad)).toThrow(/wrong key, wrong context or altered/);
    for (let i = 1; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i] = (bad[i] as number) ^ 0x01;
      expect(() => open(key, bad, aad)).toThrow(EnvelopeError);
    }
    const versioned = Buffer.from(sealed);
    versioned[0] = 2;
    expect(() => open(key, versioned, aad)).toThrow(/unknown envelope version 2/);
  });

  it('refuses keys that are not 256 bits', () => {
    expect(() => seal(randomBytes(16), Buffer.from('x'), aad)).toThrow(EnvelopeError);
  });

  it('parser: arbitrary bytes never crash it, they are parsed or refused with EnvelopeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          const p = parseEnvelope(bytes);
          expect(bytes.length).toBeGreaterThanOrEqual(ENVELOPE_OVERHEAD);
          expect(p.nonce.length + p.ciphertext.length + p.tag.length + 1).toBe(bytes.length);
        } catch (e) {
          expect(e).toBeInstanceOf(EnvelopeError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('open: arbitrary bytes (even with the right version byte) are refused, never decrypted', () => {
    const key = randomBytes(32);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, versioned) => {
        const input = versioned && bytes.length > 0 ? Uint8Array.from([ENVELOPE_VERSION, ...bytes]) : bytes;
        expect(() => open(key, input, aad)).toThrow(EnvelopeError);
      }),
      { numRuns: 2000 },
    );
  });

  it('a sealed envelope with random byte flips still never opens', () => {
    const key = randomBytes(32);
    const sealed = seal(key, Buffer.from('{"displayName":"someone"}'), aad);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: sealed.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (i, x) => {
          const bad = Buffer.from(sealed);
          bad[i] = (bad[i] as number) ^ x;
          expect(() => open(key, bad, aad)).toThrow(EnvelopeError);
        },
      ),
    );
  });
});
