import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AckQueue } from './ack-queue.ts';
import { deferred } from './test-support.ts';

function recorder() {
  const released: number[] = [];
  const failures: unknown[] = [];
  const queue = new AckQueue<number>({
    release: (value) => released.push(value),
    fail: (error) => failures.push(error),
    drained: () => {},
  });
  return { queue, released, failures };
}

describe('AckQueue', () => {
  it('releases in arrival order whatever the completion order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 30 })
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: n })),
          ),
        async ([n, completionOrder]) => {
          const { queue, released } = recorder();
          const pending = Array.from({ length: n }, () => deferred<number>());
          for (const d of pending) queue.push(d.promise);
          for (const i of completionOrder) {
            pending[i]!.resolve(i);
            await Promise.resolve();
          }
          await queue.whenSettled();
          expect(released).toEqual([...Array(n).keys()]);
          expect(queue.inFlight).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('stops at a failed entry: earlier ones are released, later ones never', async () => {
    const { queue, released, failures } = recorder();
    const [a, b, c] = [deferred<number>(), deferred<number>(), deferred<number>()];
    queue.push(a.promise);
    queue.push(b.promise);
    queue.push(c.promise);
    queue.pushDone(99);
    c.resolve(3);
    b.reject(new Error('db down'));
    await Promise.resolve();
    expect(released).toEqual([]);
    a.resolve(1);
    await queue.whenSettled();
    expect(released).toEqual([1]);
    expect(failures).toHaveLength(1);
    expect(queue.hasFailed).toBe(true);
  });
});
