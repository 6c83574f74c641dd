import { describe, expect, it } from 'vitest';
import { ConnectionQueue } from './pglite-thread.ts';

describe('ConnectionQueue (the embedded database connection)', () => {
  it('serves urgent waiters before earlier normal ones, but never takes the connection from its holder', async () => {
    const q = new ConnectionQueue();
    const order: string[] = [];
    const releaseFirst = await q.lock();
    const take = (name: string, urgent: boolean) =>
      q.lock(urgent).then((release) => {
        order.push(name);
        release();
      });
    const waiting = [take('batch-1', false), take('batch-2', false), take('alarm', true)];
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]); // the holder keeps it
    releaseFirst();
    releaseFirst(); // a second release is ignored, not a second hand-over
    await Promise.all(waiting);
    expect(order).toEqual(['alarm', 'batch-1', 'batch-2']);
    const again = await q.lock();
    again();
  });
});
