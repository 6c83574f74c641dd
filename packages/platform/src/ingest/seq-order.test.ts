import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inAscendingSeq, peekSeq } from './seq-order.ts';

const jws = (payload: unknown) =>
  `eyJhbGciOiJFZERTQSJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;

describe('the order a batch is submitted in', () => {
  it('reads the claimed seq, and nothing from what is not a JWS payload with one', () => {
    expect(peekSeq(jws({ v: 1, seq: 7 }))).toBe(7);
    expect(peekSeq(jws({ seq: '7' }))).toBeUndefined();
    expect(peekSeq(jws({ seq: 1.5 }))).toBeUndefined();
    expect(peekSeq(jws(null))).toBeUndefined();
    expect(peekSeq('no dots')).toBeUndefined();
    expect(peekSeq('a.!!!.c')).toBeUndefined();
  });

  it('puts a batch sent out of order in ascending seq, unreadable ones last, ties as sent', () => {
    expect(inAscendingSeq([jws({ seq: 2 }), 'junk', jws({ seq: 1 }), jws({ seq: 2 })])).toEqual([2, 0, 3, 1]);
  });

  it('never throws on any input and always returns a permutation whose seqs ascend', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.integer({ min: 1, max: 50 }).map((seq) => jws({ seq })),
          ),
          {
            maxLength: 30,
          },
        ),
        (messages) => {
          const order = inAscendingSeq(messages);
          expect([...order].sort((a, b) => a - b)).toEqual(messages.map((_, i) => i));
          const seqs = order.map((i) => peekSeq(messages[i] as string) ?? Number.POSITIVE_INFINITY);
          for (let k = 1; k < seqs.length; k++) expect(seqs[k]).toBeGreaterThanOrEqual(seqs[k - 1] as number);
        },
      ),
    );
  });
});
