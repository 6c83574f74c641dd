import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAnnotations, WfdbAnnotationError } from './annotation.ts';
import { parseHeader, WfdbHeaderError } from './header.ts';
import { decodeRecord, decodeStream } from './signal.ts';

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
      fc.property(
        fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 3000 })),
        (text) => {
          try {
            parseHeader(text);
          } catch (e) {
            expect(e).toBeInstanceOf(WfdbHeaderError);
            // One short line a terminal shows as it is: no control or escape bytes, the input cut short.
            const message = (e as Error).message;
            expect(message.length).toBeLessThan(200);
            expect(
              [...message].some(
                (c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f),
              ),
            ).toBe(false);
          }
        },
      ),
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

  it('a data file of any length decodes as far as it goes, and a shortfall is reported exactly', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(16, 212, 80, 24),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 40 }),
        fc.nat(),
        (format, signalCount, declared, cut) => {
          const header = parseHeader(
            [
              `r ${signalCount} 250 ${declared}`,
              ...Array.from({ length: signalCount }, () => `r.dat ${format}`),
            ].join('\n'),
          );
          const bytesPerFrame = (signalCount * { 16: 16, 212: 12, 80: 8, 24: 24 }[format]!) / 8;
          const full = Uint8Array.from(
            { length: Math.ceil(declared * bytesPerFrame) },
            (_, i) => (i * 37) & 0xff,
          );
          const bytes = full.subarray(0, cut % (full.length + 1));
          const whole = decodeRecord(header, new Map([['r.dat', full]]));
          const part = decodeRecord(header, new Map([['r.dat', bytes]]));
          const frames = part.signals[0]!.digital.length;
          expect(whole.shortFiles).toEqual([]);
          expect(frames).toBeLessThanOrEqual(declared);
          expect(part.shortFiles).toEqual(
            frames < declared ? [{ fileName: 'r.dat', frames, declaredFrames: declared }] : [],
          );
          // Every whole frame the bytes hold is decoded, and decoded as in the complete file.
          expect(frames).toBe(Math.min(declared, Math.floor((bytes.length * 8) / (bytesPerFrame * 8))));
          for (const [i, s] of part.signals.entries())
            expect(Array.from(s.digital)).toEqual(Array.from(whole.signals[i]!.digital.subarray(0, frames)));
        },
      ),
    );
  });
});
