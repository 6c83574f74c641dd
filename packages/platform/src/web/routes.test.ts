import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acceptedEncodings } from './routes.ts';

describe('Accept-Encoding', () => {
  it('reads codings with their quality, refusing q=0', () => {
    expect([...acceptedEncodings('gzip, deflate, br')]).toEqual(['gzip', 'deflate', 'br']);
    expect(acceptedEncodings('br;q=0, gzip;q=0.5').has('br')).toBe(false);
    expect(acceptedEncodings('br;q=0, gzip;q=0.5').has('gzip')).toBe(true);
    expect(acceptedEncodings('GZIP;Q=1').has('gzip')).toBe(true);
    expect(acceptedEncodings('').size).toBe(0);
  });

  it('never throws and only names codings the header mentions', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (header) => {
        const out = acceptedEncodings(header);
        for (const name of out) expect(header.toLowerCase()).toContain(name);
      }),
    );
  });
});
