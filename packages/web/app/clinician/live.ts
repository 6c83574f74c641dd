/**
 * A WebSocket to the platform that comes back: after any close (the server's 1013 "too slow", a restart,
 * a network change) it reconnects with backoff and tells its owner, who reloads what the stream does not
 * resend. Messages are JSON; one that does not parse is skipped.
 */
import { socket } from '../api.ts';
import { reconnectDelay } from './frame-batch.ts';

export type StreamStatus = 'connecting' | 'open' | 'reconnecting' | 'stopped';

export interface StreamHandlers<M> {
  message(m: M, receivedAt: number): void;
  /** Every (re)connection; `again` after the first, when missed changes must be reloaded. */
  opened?(again: boolean): void;
  status?(s: StreamStatus): void;
}

/** A connection that stayed up this long resets the backoff. */
const STABLE_MS = 10_000;
/** Connections refused before opening, in a row, after which the socket gives up. */
const MAX_REFUSALS = 5;

export class LiveSocket<M> {
  private ws: WebSocket | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private openedAt = 0;
  private everOpened = false;
  private stopped = false;
  private refusedInARow = 0;

  constructor(
    private readonly path: () => string,
    private readonly handlers: StreamHandlers<M>,
  ) {}

  start(): this {
    this.connect();
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close(1000, 'screen closed');
    }
    this.handlers.status?.('stopped');
  }

  /** Closes and opens again now (the patient set changed). */
  restart(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close(1000, 'changing subscription');
    }
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    this.handlers.status?.(this.everOpened ? 'reconnecting' : 'connecting');
    let ws: WebSocket;
    try {
      ws = socket(this.path());
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.refusedInARow = 0;
      this.openedAt = Date.now();
      const again = this.everOpened;
      this.everOpened = true;
      this.handlers.status?.('open');
      this.handlers.opened?.(again);
    };
    ws.onmessage = (e: MessageEvent) => {
      if (typeof e.data !== 'string') return;
      let m: M;
      try {
        m = JSON.parse(e.data) as M;
      } catch {
        return;
      }
      this.handlers.message(m, Date.now());
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      // Refused before opening (the platform answers 401/403 before the upgrade) again and again: access
      // is not coming back by retrying, and each attempt is an audited refusal. Stop and say so.
      if (this.openedAt === 0 && ++this.refusedInARow >= MAX_REFUSALS) {
        this.stopped = true;
        this.handlers.status?.('stopped');
        return;
      }
      if (this.openedAt > 0 && Date.now() - this.openedAt >= STABLE_MS) this.attempt = 0;
      this.openedAt = 0;
      this.retry();
    };
  }

  private retry(): void {
    if (this.stopped) return;
    this.handlers.status?.('reconnecting');
    this.timer = setTimeout(() => this.connect(), reconnectDelay(this.attempt++));
  }
}

/** A stream status in words, for a `role="status"` line. */
export function statusText(s: StreamStatus): string {
  return s === 'open'
    ? 'Live'
    : s === 'connecting'
      ? 'Connecting…'
      : s === 'reconnecting'
        ? 'Connection lost, reconnecting…'
        : 'Not live';
}
