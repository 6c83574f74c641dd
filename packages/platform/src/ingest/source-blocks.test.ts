import { describe, expect, it } from 'vitest';
import { FailedLoginGuard, type SourceBlock } from './source-blocks.ts';

const guard = (authFailure: number, blockS = 60) => {
  const recorded: SourceBlock[] = [];
  const g = new FailedLoginGuard({
    thresholds: { windowS: 10, authFailure },
    blockS,
    record: async (b) => {
      recorded.push(b);
    },
  });
  return { g, recorded };
};

describe('failed logins per address', () => {
  it('blocks an address at the threshold within the window, records it once, and lets it go after', () => {
    const { g, recorded } = guard(3);
    expect(g.failed('10.0.0.1', 0)).toBeUndefined();
    expect(g.failed('10.0.0.1', 1000)).toBeUndefined();
    expect(g.failed('10.0.0.2', 1500)).toBeUndefined(); // another address counts apart
    const block = g.failed('10.0.0.1', 2000);
    expect(block).toMatchObject({ source: '10.0.0.1', until: 62_000 });
    expect(block?.reason).toMatch(
      /failed-authentication: 3 refusals in 10 s.*refused until 1970-01-01T00:01:02/,
    );
    expect(recorded).toEqual([block]);
    expect(g.blocked('10.0.0.1', 61_999)).toEqual(block);
    expect(g.blocked('10.0.0.2', 3000)).toBeUndefined();
    expect(g.blocked('10.0.0.1', 62_000)).toBeUndefined();
  });

  it('forgets failures older than the window', () => {
    const { g } = guard(2);
    expect(g.failed('10.0.0.1', 0)).toBeUndefined();
    expect(g.failed('10.0.0.1', 10_000)).toBeUndefined();
    expect(g.failed('10.0.0.1', 15_000)).toBeDefined();
  });

  it('blocks nothing when the threshold or the block time is 0', () => {
    for (const { g } of [guard(0), guard(1, 0)]) {
      for (let i = 0; i < 50; i++) expect(g.failed('10.0.0.1', i)).toBeUndefined();
      expect(g.blocked('10.0.0.1', 50)).toBeUndefined();
    }
  });
});
