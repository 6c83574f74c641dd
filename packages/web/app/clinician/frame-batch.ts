/**
 * Timing helpers of the live screens, without the DOM: batching stream messages to one flush per
 * animation frame (many patients streaming at once must not re-render per message), and the reconnect
 * backoff. The scheduler is injected, so tests drive it by hand.
 */

export interface FrameScheduler {
  /** Runs `fn` at the next frame or after `fallbackMs`, whichever comes first; returns a cancel. */
  schedule(fn: () => void): () => void;
}

/**
 * The browser scheduler: the next animation frame, or a timer when frames do not come (a hidden tab gets
 * no frames; messages must not pile up without bound meanwhile).
 */
export function browserScheduler(fallbackMs = 250): FrameScheduler {
  return {
    schedule(fn) {
      let done = false;
      const once = () => {
        if (done) return;
        done = true;
        cancelAnimationFrame(frame);
        clearTimeout(timer);
        fn();
      };
      const frame = requestAnimationFrame(once);
      const timer = setTimeout(once, fallbackMs);
      return () => {
        done = true;
        cancelAnimationFrame(frame);
        clearTimeout(timer);
      };
    },
  };
}

export interface FrameBatcher<T> {
  push(item: T): void;
  /** Drops what is pending and stops. */
  cancel(): void;
  readonly pending: number;
}

/** Collects items and hands them over once per frame, in arrival order. */
export function frameBatcher<T>(flush: (items: T[]) => void, scheduler: FrameScheduler): FrameBatcher<T> {
  let items: T[] = [];
  let cancelScheduled: (() => void) | undefined;
  const run = () => {
    cancelScheduled = undefined;
    const batch = items;
    items = [];
    if (batch.length > 0) flush(batch);
  };
  return {
    push(item) {
      items.push(item);
      cancelScheduled ??= scheduler.schedule(run);
    },
    cancel() {
      cancelScheduled?.();
      cancelScheduled = undefined;
      items = [];
    },
    get pending() {
      return items.length;
    },
  };
}

/**
 * Delay before reconnect attempt `attempt` (0 for the first): exponential from 500 ms, at most 30 s,
 * with ±20 % jitter so a ward of screens does not reconnect in lockstep after a restart.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 500 * 2 ** Math.max(0, Math.min(attempt, 16)));
  return Math.round(base * (0.8 + 0.4 * random()));
}
