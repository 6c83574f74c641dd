import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../http/problem.ts';
import { messageCursor } from '../store/messages.ts';
import {
  charCount,
  MAX_MESSAGE_CHARS,
  parseDecisionReason,
  parseErasureListQuery,
  parseErasureReason,
  parseMessageBody,
  parseMessageQuery,
} from './input.ts';

/** The field a refusal names, or undefined when the parser accepted. */
function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (!(e instanceof HttpProblem)) throw e;
    expect(e.problem.status).toBe(400);
    return e.problem.field ?? '';
  }
}

const texts = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  // Any UTF-16 unit, lone surrogates and control characters included.
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), maxLength: 50 }),
  fc.string({ minLength: 3990, maxLength: 4010 }),
  fc
    .constantFrom(' ', '\n', '\t', '\u00A0', '\uFEFF', '\u0000', '\u007F', '\uD800', '\uDC00x')
    .chain((c) => fc.string().map((s) => c + s + c)),
);

describe('message body', () => {
  it('keeps a trimmed text of 1..4000 characters and refuses the rest, naming /body', () => {
    expect(parseMessageBody({ body: '  Hello, doctor.\nSee you Tuesday.  ' })).toBe(
      'Hello, doctor.\nSee you Tuesday.',
    );
    expect(parseMessageBody({ body: '😀'.repeat(MAX_MESSAGE_CHARS) })).toHaveLength(2 * MAX_MESSAGE_CHARS);
    for (const bad of [
      {},
      { body: '' },
      { body: '   \n\t ' },
      { body: 42 },
      { body: null },
      { body: ['hi'] },
      { body: 'x'.repeat(MAX_MESSAGE_CHARS + 1) },
      { body: 'bell\u0007' },
      { body: 'half \uD83D pair' },
    ])
      expect(refusal(() => parseMessageBody(bad))).toBe('/body');
    expect(refusal(() => parseMessageBody('hi'))).toBe('');
    expect(refusal(() => parseMessageBody(null))).toBe('');
  });

  it('accepts exactly the well-formed trimmed texts within bounds, and returns them trimmed', () => {
    fc.assert(
      fc.property(texts, (raw) => {
        const trimmed = raw.trim();
        const field = refusal(() => parseMessageBody({ body: raw }));
        const acceptable =
          trimmed.length > 0 &&
          charCount(trimmed) <= MAX_MESSAGE_CHARS &&
          // Lone surrogates do not survive UTF-8: an independent test of well-formed text.
          Buffer.from(trimmed, 'utf8').toString('utf8') === trimmed &&
          // biome-ignore lint/suspicious/noControlCharactersInRegex: the property restates the rule
          !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(trimmed);
        expect(field).toBe(acceptable ? undefined : '/body');
        if (acceptable) {
          const text = parseMessageBody({ body: raw });
          expect(text).toBe(trimmed);
          expect(parseMessageBody({ body: text })).toBe(text);
        }
      }),
    );
  });

  it('never throws anything but a 400 for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        refusal(() => parseMessageBody(v));
        refusal(() => parseMessageBody({ body: v }));
      }),
    );
  });
});

describe('message list query', () => {
  it('reads limit and before, with defaults', () => {
    expect(parseMessageQuery({})).toEqual({ limit: 50 });
    expect(parseMessageQuery({ limit: '100', before: '2026-01-02T03:04:05+01:00' })).toEqual({
      limit: 100,
      before: { at: '2026-01-02T02:04:05.000Z' },
    });
    const next = messageCursor({
      sentAt: '2026-01-02T03:04:05.006Z',
      id: 'a3bb189e-8bf9-3888-9912-ace4e6543002',
    });
    expect(parseMessageQuery({ before: next })).toEqual({
      limit: 50,
      before: { at: '2026-01-02T03:04:05.006Z', id: 'a3bb189e-8bf9-3888-9912-ace4e6543002' },
    });
    for (const [q, field] of [
      [{ limit: '0' }, '/limit'],
      [{ limit: '101' }, '/limit'],
      [{ limit: '1.5' }, '/limit'],
      [{ limit: ['1', '2'] }, '/limit'],
      [{ before: '2026-01-02' }, '/before'],
      [{ before: 'yesterday' }, '/before'],
      [{ before: ['2026-01-02T03:04:05Z', '2026-01-02T03:04:05Z'] }, '/before'],
    ] as const)
      expect(refusal(() => parseMessageQuery(q))).toBe(field);
  });

  it('accepts every limit 1..100 and every instant, refuses other limits naming the parameter', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -10, max: 200 }).map(String), fc.string({ maxLength: 6 })),
        fc.date({
          min: new Date('1970-01-01T00:00:00Z'),
          max: new Date('2999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        (limit, date) => {
          const n = /^[0-9]{1,4}$/.test(limit) ? Number(limit) : Number.NaN;
          const ok = n >= 1 && n <= 100;
          const field = refusal(() => parseMessageQuery({ limit, before: date.toISOString() }));
          expect(field).toBe(ok ? undefined : '/limit');
          if (ok)
            expect(parseMessageQuery({ limit, before: date.toISOString() })).toEqual({
              limit: n,
              before: { at: date.toISOString() },
            });
        },
      ),
    );
  });

  it('gives back the exact position of any next it issued, and refuses other strings', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1970-01-01T00:00:00Z'),
          max: new Date('2999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        fc.uuid(),
        fc.string({ maxLength: 40 }),
        (date, id, junk) => {
          const at = date.toISOString();
          expect(parseMessageQuery({ before: messageCursor({ sentAt: at, id }) }).before).toEqual({ at, id });
          const field = refusal(() => parseMessageQuery({ before: junk }));
          if (field !== undefined) expect(field).toBe('/before');
        },
      ),
    );
  });
});

describe('erasure reasons and list', () => {
  it('reads the optional request reason and the required decision reason', () => {
    expect(parseErasureReason(undefined)).toBeUndefined();
    expect(parseErasureReason({})).toBeUndefined();
    expect(parseErasureReason({ reason: '  ' })).toBeUndefined();
    expect(parseErasureReason({ reason: ' moving abroad ' })).toBe('moving abroad');
    expect(refusal(() => parseErasureReason({ reason: 7 }))).toBe('/reason');
    expect(refusal(() => parseErasureReason({ reason: 'x'.repeat(1001) }))).toBe('/reason');
    expect(parseDecisionReason({ reason: ' verified identity ' })).toBe('verified identity');
    for (const bad of [undefined, {}, { reason: '' }, { reason: ' ' }, { reason: 'x'.repeat(501) }])
      expect(refusal(() => parseDecisionReason(bad))).toBe('/reason');
    expect(parseErasureListQuery({ status: 'pending', limit: '10' })).toEqual({
      status: 'pending',
      limit: 10,
    });
    expect(refusal(() => parseErasureListQuery({ status: 'done' }))).toBe('/status');
  });

  it('a request reason is either refused naming /reason or kept trimmed', () => {
    fc.assert(
      fc.property(texts, (raw) => {
        const field = refusal(() => parseErasureReason({ reason: raw }));
        if (field !== undefined) {
          expect(field).toBe('/reason');
          return;
        }
        const r = parseErasureReason({ reason: raw });
        expect(r).toBe(raw.trim() === '' ? undefined : raw.trim());
      }),
    );
  });
});
