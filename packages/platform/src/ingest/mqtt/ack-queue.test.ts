import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

  it('keeps nothing of a released reading, whether or not others are still in flight', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const queue = new AckQueue<object>({ release: () => {}, fail: () => {}, drained: () => {} });
    const stuck = deferred<object>();
    // Weak references made in a function of their own, so no strong one stays on this frame.
    const watch = () => {
      const released: WeakRef<object>[] = [];
      for (let i = 0; i < 3; i++) {
        const value = { reading: i };
        released.push(new WeakRef(value));
        queue.pushDone(value);
      }
      queue.push(stuck.promise); // in flight: the queue is not empty
      const value = { reading: 3 };
      released.push(new WeakRef(value));
      queue.pushDone(value); // waits behind the stuck one
      return released;
    };
    const refs = watch();
    await new Promise((r) => setImmediate(r));
    gc();
    expect(refs.slice(0, 3).map((r) => r.deref())).toEqual([undefined, undefined, undefined]);
    expect(refs[3]?.deref()).toEqual({ reading: 3 }); // not yet released: still held
    expect(queue.inFlight).toBe(2);
    stuck.resolve({ reading: 'late' });
    await queue.whenSettled();
    await new Promise((r) => setImmediate(r));
    gc();
    expect(refs[3]?.deref()).toBeUndefined();
  });
});
