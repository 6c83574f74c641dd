/**
 * Per-connection pipeline of readings in flight. Hooks complete in any order; acknowledgements are released
 * strictly in the order the PUBLISH packets arrived (MQTT 4.6 message ordering), and a failed reading stops the
 * pipeline at its place so nothing after it is acknowledged ahead of it.
 */
export type AckEntryState = 'pending' | 'done' | 'failed';

export interface AckEntry<T> {
  state: AckEntryState;
  value?: T;
  error?: unknown;
}

export interface AckQueueEvents<T> {
  /** Called for each completed entry, in arrival order. */
  release(value: T): void;
  /** Called once when the entry at the head failed; the queue then stops releasing. */
  fail(error: unknown): void;
  /** Called whenever the number of entries in flight drops. */
  drained(inFlight: number): void;
}

export class AckQueue<T> {
  /** Released entries are cleared at once: a connection lives for days, its readings must not. */
  private readonly entries: (AckEntry<T> | undefined)[] = [];
  private head = 0;
  private failed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly events: AckQueueEvents<T>) {}

  get inFlight(): number {
    return this.entries.length - this.head;
  }

  get hasFailed(): boolean {
    return this.failed;
  }

  /** Adds an entry already complete (e.g. a refused publish whose negative PUBACK must keep its place). */
  pushDone(value: T): void {
    this.entries.push({ state: 'done', value });
    this.flush();
  }

  /** Adds an entry that completes with the promise. */
  push(work: Promise<T>): void {
    const entry: AckEntry<T> = { state: 'pending' };
    this.entries.push(entry);
    work.then(
      (value) => {
        entry.state = 'done';
        entry.value = value;
        this.flush();
      },
      (error: unknown) => {
        entry.state = 'failed';
        entry.error = error;
        this.flush();
      },
    );
  }

  /** Resolves when every entry has completed (released or failed). */
  whenSettled(): Promise<void> {
    if (this.settled()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private settled(): boolean {
    if (this.failed) return this.entries.slice(this.head).every((e) => e?.state !== 'pending');
    return this.inFlight === 0;
  }

  private flush(): void {
    const before = this.inFlight;
    while (!this.failed && this.head < this.entries.length) {
      const entry = this.entries[this.head]!;
      if (entry.state === 'pending') break;
      if (entry.state === 'failed') {
        this.failed = true;
        this.events.fail(entry.error);
        break;
      }
      this.entries[this.head++] = undefined;
      this.events.release(entry.value as T);
    }
    this.compact();
    if (this.inFlight < before) this.events.drained(this.inFlight);
    if (this.idleWaiters.length > 0 && this.settled()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /**
   * Keeps the array from growing without bound on a long-lived connection: emptied whenever nothing is in
   * flight (the usual case between readings), else cut once mostly released.
   */
  private compact(): void {
    if (this.head === this.entries.length) {
      this.entries.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }
}
