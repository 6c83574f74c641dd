import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateStaleness, type StalenessState, stalenessDueAt } from './staleness.ts';

const T0 = 1_700_000_000_000;

describe('device offline (stale data)', () => {
  const start: StalenessState = { active: false, lastSeenAt: T0 };
  it('goes offline at twice the expected interval, not before, and clears on data', () => {
    expect(evaluateStaleness('d1', 5000, start, { type: 'tick', now: T0 + 9999 }).events).toEqual([]);
    const off = evaluateStaleness('d1', 5000, start, { type: 'tick', now: T0 + 10_000 });
    expect(off.events[0]).toMatchObject({
      type: 'onset',
      condition: 'technical:device-offline:d1',
      category: 'technical',
    });
    expect(evaluateStaleness('d1', 5000, off.state, { type: 'tick', now: T0 + 20_000 }).events).toEqual([]);
    const back = evaluateStaleness('d1', 5000, off.state, { type: 'data', at: T0 + 21_000 });
    expect(back.events.map((e) => e.type)).toEqual(['clear']);
    expect(stalenessDueAt(back.state, 5000)).toBe(T0 + 31_000);
  });
  it("does not count the platform's own downtime: silence counts from when it listens again", () => {
    // Data every second until T0; the platform is down 11 s and listens again at T0 + 11 s.
    const listening = evaluateStaleness('d1', 1000, start, { type: 'listening', at: T0 + 11_000 });
    expect(listening.events).toEqual([]);
    expect(stalenessDueAt(listening.state, 1000)).toBe(T0 + 13_000);
    expect(evaluateStaleness('d1', 1000, listening.state, { type: 'tick', now: T0 + 12_000 }).events).toEqual(
      [],
    );
    // A device back within twice its interval raises nothing.
    const back = evaluateStaleness('d1', 1000, listening.state, { type: 'data', at: T0 + 12_500 });
    expect(back.events).toEqual([]);
    // One that stays silent is found at twice its interval after the platform listens, saying so.
    const off = evaluateStaleness('d1', 1000, listening.state, { type: 'tick', now: T0 + 13_000 });
    expect(off.events[0]).toMatchObject({
      type: 'onset',
      reason: 'no data for 13 s (expected every 1 s), 2 s of it since the platform started listening',
    });
    // Listening before the last data changes nothing.
    const early = evaluateStaleness('d1', 1000, start, { type: 'listening', at: T0 - 5000 });
    expect(stalenessDueAt(early.state, 1000)).toBe(T0 + 2000);
  });
  it('after a start, gives devices the reconnect grace where it is longer than twice their interval', () => {
    const listening = (intervalMs: number) =>
      evaluateStaleness('d1', intervalMs, start, {
        type: 'listening',
        at: T0 + 11_000,
        reconnectGraceMs: 30_000,
      }).state;
    const fast = listening(1000);
    expect(stalenessDueAt(fast, 1000)).toBe(T0 + 41_000);
    expect(evaluateStaleness('d1', 1000, fast, { type: 'tick', now: T0 + 40_999 }).events).toEqual([]);
    expect(evaluateStaleness('d1', 1000, fast, { type: 'tick', now: T0 + 41_000 }).events[0]).toMatchObject({
      type: 'onset',
      reason: 'no data for 41 s (expected every 1 s), 30 s of it since the platform started listening',
    });
    // A device reporting every minute: twice its interval is the longer, and rules.
    expect(stalenessDueAt(listening(60_000), 60_000)).toBe(T0 + 131_000);
    // Once it has reported again the grace is spent: its next silence is judged at twice its interval.
    const back = evaluateStaleness('d1', 1000, fast, { type: 'data', at: T0 + 20_000 });
    expect(stalenessDueAt(back.state, 1000)).toBe(T0 + 22_000);
    // Listening before the last data: no grace (the device was heard since).
    const early = evaluateStaleness('d1', 1000, start, {
      type: 'listening',
      at: T0 - 5000,
      reconnectGraceMs: 30_000,
    });
    expect(stalenessDueAt(early.state, 1000)).toBe(T0 + 2000);
  });
  it('property: offline exactly at the first tick twice the interval (or the grace) after max(last data, listening)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: -120, max: 120 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 90 }),
        (intervalS, listenS, tickS, graceS) => {
          const i = intervalS * 1000;
          const listenAt = T0 + listenS * 1000;
          const listen = { type: 'listening' as const, at: listenAt, reconnectGraceMs: graceS * 1000 };
          let st = evaluateStaleness('d1', i, start, listen).state;
          const due = Math.max(T0, listenAt) + (listenAt > T0 ? Math.max(2 * i, graceS * 1000) : 2 * i);
          let onsetAt: number | undefined;
          for (const t of [...tickS].sort((a, b) => a - b).map((x) => T0 + x * 1000)) {
            const r = evaluateStaleness('d1', i, st, { type: 'tick', now: t });
            st = r.state;
            if (r.events.length > 0 && onsetAt === undefined) onsetAt = t;
          }
          const firstDueTick = [...tickS]
            .sort((a, b) => a - b)
            .map((x) => T0 + x * 1000)
            .find((t) => t >= due);
          expect(onsetAt).toBe(firstDueTick);
        },
      ),
    );
  });
  it('refuses a bad interval or time', () => {
    expect(evaluateStaleness('d1', 0, start, { type: 'tick', now: T0 }).refused).toMatch(
      /expectedIntervalMs/,
    );
    expect(evaluateStaleness('d1', 5000, start, { type: 'data', at: Number.NaN }).refused).toMatch(/finite/);
  });
});
