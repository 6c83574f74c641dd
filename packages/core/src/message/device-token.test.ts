import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkDeviceToken,
  DEVICE_TOKEN_AUDIENCE,
  deviceTokenClaims,
  MAX_TOKEN_LIFETIME_S,
} from './device-token.ts';
import { parseCompactJws, signCompactJws } from './jws.ts';

const { privateKey } = generateKeyPairSync('ed25519');
const NOW = Date.UTC(2025, 2, 1, 10);
const token = (claims: unknown) => {
  const p = parseCompactJws(signCompactJws(claims, privateKey, 'kid'));
  if (!p.ok) throw new Error(p.rejection.detail);
  return p.value;
};
const check = (claims: unknown, device = 'dev-1', now = NOW) => checkDeviceToken(token(claims), device, now);
const good = deviceTokenClaims('dev-1', NOW);

describe('checkDeviceToken', () => {
  it('accepts fresh claims for the connecting device', () => {
    expect(good).toEqual({
      sub: 'dev-1',
      aud: DEVICE_TOKEN_AUDIENCE,
      iat: NOW / 1000,
      exp: NOW / 1000 + 300,
    });
    expect(check(good)).toEqual({ ok: true, value: good });
    expect(check({ ...good, jti: 'n-1' }).ok).toBe(true);
    expect(check(good, 'dev-1', NOW + 299_000).ok).toBe(true);
    expect(check(good, 'dev-1', NOW - 299_000).ok).toBe(true); // within clock skew
  });

  it.each([
    ['payload not JSON', 'not json', 'malformed-jws'],
    ['payload an array', [1], 'malformed-jws'],
    ['payload null', null, 'malformed-jws'],
    ['another device', { ...good, sub: 'dev-2' }, 'device-mismatch'],
    ['wrong audience', { ...good, aud: 'x' }, 'malformed-jws'],
    ['no exp', { ...good, exp: undefined }, 'malformed-jws'],
    ['iat a string', { ...good, iat: String(good.iat) }, 'malformed-jws'],
    ['exp infinite', { ...good, exp: '1e999' }, 'malformed-jws'],
    ['exp before iat', { ...good, exp: good.iat - 10 }, 'stale-timestamp'],
    ['lifetime over the maximum', { ...good, exp: good.iat + MAX_TOKEN_LIFETIME_S + 1 }, 'stale-timestamp'],
    ['jti not a string', { ...good, jti: 7 }, 'malformed-jws'],
  ])('rejects %s', (_name, claims, code) => {
    const r = check(claims);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.rejection.code).toBe(code);
  });

  it('rejects a token from the future or long expired', () => {
    expect(check(good, 'dev-1', NOW - 301_000)).toMatchObject({
      ok: false,
      rejection: { code: 'stale-timestamp' },
    });
    expect(check(good, 'dev-1', NOW + 601_000)).toMatchObject({
      ok: false,
      rejection: { code: 'stale-timestamp' },
    });
  });

  it('rejects an exp that JSON turns into Infinity', () => {
    const p = parseCompactJws(
      signCompactJws(
        `{"sub":"dev-1","aud":"${DEVICE_TOKEN_AUDIENCE}","iat":${good.iat},"exp":1e999}`,
        privateKey,
        'k',
      ),
    );
    expect(p.ok && checkDeviceToken(p.value, 'dev-1', NOW)).toMatchObject({
      ok: false,
      rejection: { code: 'malformed-jws' },
    });
  });
});
