import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapReading } from './map-reading.ts';
import { observationIndex } from './observation-index.ts';
import { readingArb } from './reading-arbitrary.ts';

describe('observation index', () => {
  it('names exactly the Observations mapReading makes, in the same order', () => {
    fc.assert(
      fc.property(readingArb, (message) => {
        const mapped = mapReading({
          message,
          patientId: 'p1',
          kid: 'k',
          jws: 'a.b.c',
          receivedAt: message.ts,
        });
        expect(observationIndex(message)).toEqual(
          mapped.observations.map(({ id, code, effective }) => ({ id, code, effective })),
        );
      }),
      { numRuns: 300 },
    );
  });
});
