import { describe, expect, it } from 'vitest';
import { type FrameScheduler, frameBatcher, reconnectDelay } from './frame-batch.ts';

/** A scheduler the test steps by hand. */
function manual(): FrameScheduler & { frame(): void; scheduled: number } {
  let queue: (() => void)[] = [];
  const s = {
    scheduled: 0,
    schedule(fn: () => void) {
      s.scheduled++;
      queue.push(fn);
      return () => {
        queue = queue.filter((f) => f !== fn);
      };
    },
    frame() {
      const q = queue;
      queue = [];
      for (const f of q) f();
    },
  };
  return s;
}

describe('frame batcher', () => {
  it('hands over everything that arrived before a frame at once, in order, scheduling one frame', () => {
    const s = manual();
    const flushed: number[][] = [];
    const b = frameBatcher<number>((items) => flushed.push(items), s);
    for (let i = 0; i < 1000; i++) b.push(i);
    expect(s.scheduled).toBe(1);
    expect(b.pending).toBe(1000);
    s.frame();
    expect(flushed).toHaveLength(1);
    expect(flushed[0]).toHaveLength(1000);
    expect(flushed[0]?.[999]).toBe(999);
    s.frame();
    expect(flushed).toHaveLength(1);
    b.push(1);
    s.frame();
    expect(flushed).toEqual([flushed[0], [1]]);
  });

  it('drops what is pending on cancel', () => {
    const s = manual();
    const flushed: number[][] = [];
    const b = frameBatcher<number>((items) => flushed.push(items), s);
    b.push(1);
    b.cancel();
    s.frame();
    expect(flushed).toEqual([]);
    expect(b.pending).toBe(0);
  });
});

describe('reconnect delay', () => {
  it('doubles from 500 ms up to 30 s, with ±20 % jitter', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 10, 100].map((a) => reconnectDelay(a, mid))).toEqual([
      500, 1000, 2000, 4000, 30_000, 30_000,
    ]);
    expect(reconnectDelay(0, () => 0)).toBe(400);
    expect(reconnectDelay(0, () => 1)).toBe(600);
  });
});
