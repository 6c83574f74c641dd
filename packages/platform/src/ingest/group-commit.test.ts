import { describe, expect, it } from 'vitest';
import { GroupCommitter } from './group-commit.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('GroupCommitter', () => {
  it('overlaps at most maxInFlight flushes, each item in exactly one, and settles after all', async () => {
    let running = 0;
    let most = 0;
    const flushed: number[] = [];
    const committer = new GroupCommitter<number, number>(
      async (items) => {
        running++;
        most = Math.max(most, running);
        await tick();
        flushed.push(...items);
        running--;
        return items.map((i) => i * 2);
      },
      3,
      2,
    );
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => committer.submit(i)));
    await committer.settled();
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(flushed.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(most).toBe(2);
  });

  it('answers in submission order when a later flush finishes first', async () => {
    let flushes = 0;
    const committer = new GroupCommitter<number, number>(
      async (items) => {
        // The first flush is the slowest.
        await new Promise((r) => setTimeout(r, flushes++ === 0 ? 40 : 1));
        return items;
      },
      1,
      2,
    );
    const answered: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => committer.submit(i).then((r) => answered.push(r))));
    expect(answered).toEqual([0, 1, 2, 3]);
  });

  it('flushes one at a time by default and rejects only the failed batch', async () => {
    let running = 0;
    let most = 0;
    const committer = new GroupCommitter<number, true>(async (items) => {
      running++;
      most = Math.max(most, running);
      await tick();
      running--;
      if (items.includes(0)) throw new Error('disk full');
      return items.map(() => true);
    });
    const first = committer.submit(0);
    const later = [committer.submit(1), committer.submit(2)];
    await expect(first).rejects.toThrow('disk full');
    await expect(Promise.all(later)).resolves.toEqual([true, true]);
    expect(most).toBe(1);
  });
});
