import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CensusOrder, HOLD_MS, nextCensusOrder } from './census-order.ts';
import type { CensusRow, News2Band } from './live-types.ts';

const T0 = Date.parse('2025-03-01T12:00:00Z');

const counts = (high: number, medium = 0, low = 0) => ({ high, medium, low, total: high + medium + low });

const row = (
  patientId: string,
  { high = 0, medium = 0, news2 }: { high?: number; medium?: number; news2?: [number, News2Band] } = {},
): CensusRow => ({
  patientId,
  vitals: {},
  alarms: counts(high, medium),
  devices: [],
  ...(news2
    ? {
        news2: {
          total: news2[0],
          band: news2[1],
          complete: true,
          missing: [],
          at: new Date(T0).toISOString(),
        },
      }
    : {}),
});

/** A ward where a > b > c > d by NEWS2, no alarms. */
const ward = () => [
  row('a', { news2: [4, 'low'] }),
  row('b', { news2: [3, 'low'] }),
  row('c', { news2: [2, 'low'] }),
  row('d', { news2: [1, 'low'] }),
];

const first = (rows: CensusRow[]) => nextCensusOrder(undefined, { rows, now: T0, interacting: false });

/** Rows with one replaced (by id). */
const swap = (rows: CensusRow[], r: CensusRow) => rows.map((x) => (x.patientId === r.patientId ? r : x));

describe('census order', () => {
  it('ranks the first load by urgency, with nothing pending', () => {
    const o = first([
      row('d', { news2: [1, 'low'] }),
      row('x', { medium: 1 }),
      row('a', { news2: [4, 'low'] }),
    ]);
    expect(o.ids).toEqual(['x', 'a', 'd']);
    expect(o.resortPending).toBe(false);
    expect(o.rankedAt).toBe(T0);
  });

  it('does not re-rank within 10 s, and says a re-sort is pending', () => {
    const o = first(ward());
    const rows = swap(ward(), row('d', { news2: [6, 'medium'] }));
    const held = nextCensusOrder(o, { rows, now: T0 + HOLD_MS - 1, interacting: false });
    expect(held.ids).toEqual(['a', 'b', 'c', 'd']);
    expect(held.resortPending).toBe(true);
    expect(held.rankedAt).toBe(T0);
  });

  it('re-ranks after 10 s when the user is not interacting', () => {
    const o = first(ward());
    const rows = swap(ward(), row('d', { news2: [6, 'medium'] }));
    const held = nextCensusOrder(o, { rows, now: T0 + 3000, interacting: false });
    const due = nextCensusOrder(held, { rows, now: T0 + HOLD_MS, interacting: false });
    expect(due.ids).toEqual(['d', 'a', 'b', 'c']);
    expect(due.resortPending).toBe(false);
    expect(due.rankedAt).toBe(T0 + HOLD_MS);
    // The next change waits another 10 s from this re-rank.
    const again = swap(rows, row('c', { news2: [9, 'medium'] }));
    expect(nextCensusOrder(due, { rows: again, now: T0 + HOLD_MS + 5000, interacting: false }).ids).toEqual([
      'd',
      'a',
      'b',
      'c',
    ]);
  });

  it('holds the order while the user is interacting, however long, unless asked to re-sort', () => {
    const o = first(ward());
    const rows = swap(ward(), row('d', { medium: 1 }));
    const held = nextCensusOrder(o, { rows, now: T0 + 60 * HOLD_MS, interacting: true });
    expect(held.ids).toEqual(['a', 'b', 'c', 'd']);
    expect(held.resortPending).toBe(true);
    const resorted = nextCensusOrder(held, {
      rows,
      now: T0 + 61 * HOLD_MS,
      interacting: true,
      resortNow: true,
    });
    expect(resorted.ids).toEqual(['d', 'a', 'b', 'c']);
    expect(resorted.resortPending).toBe(false);
    // Once the user leaves the list, a held change shows at once (the 10 s have long passed).
    const moved = swap(rows, row('c', { news2: [9, 'medium'] }));
    const left = nextCensusOrder(resorted, { rows: moved, now: T0 + 62 * HOLD_MS, interacting: false });
    expect(left.ids).toEqual(['d', 'c', 'a', 'b']);
  });

  it('moves a patient with a new high alarm to the top at once, even while the user is interacting', () => {
    const o = first([row('h', { high: 1, news2: [1, 'low'] }), ...ward()]);
    expect(o.ids[0]).toBe('h');
    const rows = [row('h', { high: 1, news2: [1, 'low'] }), ...swap(ward(), row('d', { high: 1 }))];
    const next = nextCensusOrder(o, { rows, now: T0 + 1000, interacting: true });
    expect(next.ids).toEqual(['d', 'h', 'a', 'b', 'c']);
    // A second high alarm for a patient who already had one is news as well.
    const more = rows.map((r) => (r.patientId === 'h' ? row('h', { high: 2, news2: [1, 'low'] }) : r));
    expect(nextCensusOrder(next, { rows: more, now: T0 + 2000, interacting: true }).ids[0]).toBe('h');
  });

  it('moves a patient whose NEWS2 band becomes high to the top of those without a high alarm', () => {
    const o = first([row('h', { high: 1 }), ...ward()]);
    const rows = [row('h', { high: 1 }), ...swap(ward(), row('c', { news2: [7, 'high'] }))];
    const next = nextCensusOrder(o, { rows, now: T0 + 1000, interacting: true });
    expect(next.ids).toEqual(['h', 'c', 'a', 'b', 'd']);
    // The band staying high is not news again: the held order does not change on the next update.
    const later = nextCensusOrder(next, { rows, now: T0 + 2000, interacting: true });
    expect(later.ids).toBe(next.ids);
  });

  it('drops a patient whose high alarm resolved below the patients who still have one', () => {
    const rows = [row('h1', { high: 1 }), row('h2', { high: 1 }), ...ward()];
    const o = first(rows);
    expect(o.ids).toEqual(['h1', 'h2', 'a', 'b', 'c', 'd']);
    const next = nextCensusOrder(o, { rows: swap(rows, row('h1')), now: T0 + 1000, interacting: true });
    expect(next.ids).toEqual(['h2', 'h1', 'a', 'b', 'c', 'd']);
    expect(next.resortPending).toBe(true);
  });

  it('appends new patients, ranks them at the next re-rank, and drops removed ones at once', () => {
    const o = first(ward());
    const rows = [...ward().filter((r) => r.patientId !== 'b'), row('n', { news2: [9, 'medium'] })];
    const next = nextCensusOrder(o, { rows, now: T0 + 1000, interacting: false });
    expect(next.ids).toEqual(['a', 'c', 'd', 'n']);
    expect(next.resortPending).toBe(true);
    const due = nextCensusOrder(next, { rows, now: T0 + HOLD_MS, interacting: false });
    expect(due.ids).toEqual(['n', 'a', 'c', 'd']);
  });

  it('offers a re-sort only when the rows shown are out of order', () => {
    const o = first(ward());
    const rows = swap(ward(), row('d', { news2: [6, 'medium'] }));
    const hidden = (r: CensusRow) => r.patientId !== 'd';
    expect(
      nextCensusOrder(o, { rows, now: T0 + 1000, interacting: true, visible: hidden }).resortPending,
    ).toBe(false);
  });

  it('ranks with the live alarm counts when given', () => {
    const o = first(ward());
    const live = (r: CensusRow) => (r.patientId === 'c' ? counts(1) : counts(0));
    const next = nextCensusOrder(o, { rows: ward(), now: T0 + 1000, interacting: true, alarmsOf: live });
    expect(next.ids).toEqual(['c', 'a', 'b', 'd']);
  });
});

describe('census order, properties', () => {
  const bands: News2Band[] = ['low', 'low-medium', 'medium', 'high'];
  const arbRow = (patientId: string) =>
    fc
      .record({
        high: fc.integer({ min: 0, max: 2 }),
        medium: fc.integer({ min: 0, max: 2 }),
        news2: fc.option(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.constantFrom(...bands)), {
          nil: undefined,
        }),
      })
      .map((o) => row(patientId, o));
  const arbRows = fc
    .uniqueArray(fc.constantFrom('p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8'), { maxLength: 8 })
    .chain((ids) => fc.tuple(...ids.map(arbRow)));
  const arbUpdate = fc.record({
    rows: arbRows,
    dt: fc.integer({ min: 0, max: 2 * HOLD_MS }),
    interacting: fc.boolean(),
    resortNow: fc.boolean(),
  });

  it('shows every current patient once, and never a high alarm below a patient without one', () => {
    fc.assert(
      fc.property(arbRows, fc.array(arbUpdate, { maxLength: 12 }), (start, updates) => {
        let now = T0;
        let order: CensusOrder = first(start);
        for (const u of updates) {
          now += u.dt;
          order = nextCensusOrder(order, {
            rows: u.rows,
            now,
            interacting: u.interacting,
            resortNow: u.resortNow,
          });
          expect([...order.ids].sort()).toEqual(u.rows.map((r) => r.patientId).sort());
          const high = new Set(u.rows.filter((r) => r.alarms.high > 0).map((r) => r.patientId));
          const lastHigh = order.ids.findLastIndex((id) => high.has(id));
          const firstOther = order.ids.findIndex((id) => !high.has(id));
          if (lastHigh >= 0 && firstOther >= 0) expect(lastHigh).toBeLessThan(firstOther);
        }
      }),
    );
  });
});
