import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LookupBatch } from './lookup-batch.ts';

describe('LookupBatch', () => {
  it('answers every caller with its own key, in chunks of at most maxKeys, each key asked once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 120 }),
        fc.integer({ min: 1, max: 50 }),
        async (keys, maxKeys) => {
          const queries: number[][] = [];
          // Odd keys have no value.
          const batch = new LookupBatch<number, string>(async (ks) => {
            queries.push(ks);
            return new Map(ks.filter((k) => k % 2 === 0).map((k) => [k, `v${k}`]));
          }, maxKeys);
          const answers = await Promise.all(keys.map((k) => batch.load(k)));
          expect(answers).toEqual(keys.map((k) => (k % 2 === 0 ? `v${k}` : undefined)));
          const asked = queries.flat();
          expect(asked.sort((a, b) => a - b)).toEqual([...new Set(keys)].sort((a, b) => a - b));
          for (const q of queries) expect(q.length).toBeLessThanOrEqual(maxKeys);
          expect(queries.length).toBe(Math.ceil(new Set(keys).size / maxKeys));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('a failed query fails only the callers of its chunk; the next turn asks again', async () => {
    let calls = 0;
    const batch = new LookupBatch<string, number>(async (ks) => {
      calls++;
      if (ks.includes('bad')) throw new Error('database down');
      return new Map(ks.map((k) => [k, k.length]));
    }, 1);
    const [bad, good] = await Promise.allSettled([batch.load('bad'), batch.load('good')]);
    expect(bad).toMatchObject({ status: 'rejected', reason: new Error('database down') });
    expect(good).toEqual({ status: 'fulfilled', value: 4 });
    expect(await batch.load('good')).toBe(4);
    expect(calls).toBe(3);
  });
});
