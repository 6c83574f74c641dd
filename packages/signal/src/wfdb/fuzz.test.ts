import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAnnotations, WfdbAnnotationError } from './annotation.ts';
import { parseHeader, WfdbHeaderError } from './header.ts';
import { decodeStream } from './signal.ts';

/** Packs 12-bit samples two per three bytes (WFDB format 212 writer layout). */
function encode212(samples: number[]): Uint8Array {
  const out = new Uint8Array(Math.ceil(samples.length * 1.5));
  for (let i = 0, p = 0; i < samples.length; i += 2, p += 3) {
    const a = samples[i]! & 0xfff;
    const b = (samples[i + 1] ?? 0) & 0xfff;
    out[p] = a & 0xff;
    out[p + 1] = (a >> 8) | ((b >> 8) << 4);
    out[p + 2] = b & 0xff;
  }
  return out;
}

describe('WFDB parsers under arbitrary input', () => {
  it('header parser either parses or throws WfdbHeaderError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          parseHeader(text);
        } catch (e) {
          expect(e).toBeInstanceOf(WfdbHeaderError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('annotation parser either parses or throws WfdbAnnotationError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          const file = parseAnnotations(bytes);
          for (const a of file.annotations) expect(Number.isInteger(a.sample)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(WfdbAnnotationError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('format 212 decoding inverts the packing for any 12-bit samples', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -2048, max: 2047 }), { maxLength: 101 }), (samples) => {
        const decoded = decodeStream(encode212(samples), 212, 0, samples.length);
        expect(Array.from(decoded)).toEqual(samples);
      }),
    );
  });
});
