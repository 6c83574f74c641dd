import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './webhook-deliverer.ts';
import { signWebhook, verifyWebhookSignature } from './webhook-signature.ts';

const secretArb = fc.base64String({ minLength: 8, maxLength: 64 });
const bodyArb = fc.uint8Array({ minLength: 1, maxLength: 512 });
const nowS = 1_750_000_000;
const tsArb = fc.integer({ min: nowS - 300, max: nowS + 300 });

describe('webhook signatures', () => {
  it('are HMAC-SHA256 of "<timestamp>.<body>" in lowercase hex, as documented', () => {
    const expected = createHmac('sha256', 'whsec').update('1700000000.{"a":1}').digest('hex');
    expect(signWebhook('whsec', 1_700_000_000, '{"a":1}')).toBe(`v1=${expected}`);
  });

  it('verify what was signed, with the bytes as received', () => {
    fc.assert(
      fc.property(secretArb, tsArb, bodyArb, (secret, ts, body) => {
        const signature = signWebhook(secret, ts, body);
        expect(verifyWebhookSignature({ secret, timestamp: String(ts), signature, body, nowS })).toBe(true);
      }),
    );
  });

  it('fail when any byte of the body changes', () => {
    fc.assert(
      fc.property(
        secretArb,
        tsArb,
        bodyArb,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (secret, ts, body, at, delta) => {
          const signature = signWebhook(secret, ts, body);
          const changed = Uint8Array.from(body);
          const i = at % changed.length;
          changed[i] = (changed[i]! + delta) % 256;
          expect(
            verifyWebhookSignature({ secret, timestamp: String(ts), signature, body: changed, nowS }),
          ).toBe(false);
        },
      ),
    );
  });

  it('fail when any character of the timestamp changes, even to another recent time', () => {
    fc.assert(
      fc.property(
        secretArb,
        tsArb,
        bodyArb,
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        (secret, ts, body, at, d) => {
          const signature = signWebhook(secret, ts, body);
          const digits = String(ts).split('');
          const i = at % digits.length;
          digits[i] = String((Number(digits[i]) + d) % 10);
          const timestamp = digits.join('');
          expect(verifyWebhookSignature({ secret, timestamp, signature, body, nowS, toleranceS: 1e10 })).toBe(
            false,
          );
        },
      ),
    );
  });

  it('fail with another secret, a changed signature, or a malformed header', () => {
    fc.assert(
      fc.property(secretArb, secretArb, tsArb, bodyArb, fc.nat(), (secret, other, ts, body, at) => {
        fc.pre(secret !== other);
        const timestamp = String(ts);
        const signature = signWebhook(secret, ts, body);
        expect(verifyWebhookSignature({ secret: other, timestamp, signature, body, nowS })).toBe(false);
        const hex = signature.slice(3).split('');
        const i = at % hex.length;
        hex[i] = hex[i] === '0' ? '1' : '0';
        expect(
          verifyWebhookSignature({ secret, timestamp, signature: `v1=${hex.join('')}`, body, nowS }),
        ).toBe(false);
      }),
    );
    fc.assert(
      fc.property(fc.string(), fc.string(), (timestamp, signature) => {
        expect(verifyWebhookSignature({ secret: 's', timestamp, signature, body: 'x', nowS })).toBe(false);
      }),
    );
    const signature = signWebhook('s', nowS, 'x');
    const base = { secret: 's', timestamp: String(nowS), body: 'x', nowS };
    expect(verifyWebhookSignature({ ...base, signature: signature.toUpperCase() })).toBe(false);
    expect(verifyWebhookSignature({ ...base, signature: undefined })).toBe(false);
    expect(verifyWebhookSignature({ ...base, timestamp: undefined, signature })).toBe(false);
  });

  it('accept one of several signatures (a secret being rotated), refuse stale timestamps', () => {
    const body = '{"id":"x"}';
    const signature = `v1=${'0'.repeat(64)} ${signWebhook('new', nowS, body)}`;
    expect(verifyWebhookSignature({ secret: 'new', timestamp: String(nowS), signature, body, nowS })).toBe(
      true,
    );
    const old = signWebhook('new', nowS - 301, body);
    expect(
      verifyWebhookSignature({ secret: 'new', timestamp: String(nowS - 301), signature: old, body, nowS }),
    ).toBe(false);
    expect(
      verifyWebhookSignature({
        secret: 'new',
        timestamp: String(nowS - 301),
        signature: old,
        body,
        nowS,
        toleranceS: 600,
      }),
    ).toBe(true);
    expect(() => signWebhook('s', 1.5, body)).toThrow(RangeError);
  });
});

describe('retry backoff', () => {
  it('doubles from the base up to the cap, shortened by at most the jitter, so waits increase', () => {
    const policy = { baseDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.2 };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, r) => {
          const full = Math.min(60_000, 1000 * 2 ** (n - 1));
          const d = retryDelayMs(n, policy, () => r);
          expect(d).toBeGreaterThanOrEqual(Math.floor(full * 0.8));
          expect(d).toBeLessThanOrEqual(full);
        },
      ),
    );
    // Worst case for ordering: this wait at its longest, the next at its shortest.
    for (let n = 1; n < 6; n++)
      expect(retryDelayMs(n + 1, policy, () => 0.999_999)).toBeGreaterThan(retryDelayMs(n, policy, () => 0));
  });
});
