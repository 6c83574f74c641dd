/**
 * Closes a client silent for 1.5 x its keepalive (MQTT 3.1.2.10). Time the gateway itself is not reading
 * from the client (backpressure) or still owes it acknowledgements is excused.
 */
export class KeepaliveWatch {
  private timer: NodeJS.Timeout | undefined;
  private lastActivity = Date.now();
  private limitMs = 0;

  constructor(
    private readonly excused: () => boolean,
    private readonly expired: () => void,
  ) {}

  start(keepaliveS: number): void {
    this.limitMs = keepaliveS * 1500;
    this.lastActivity = Date.now();
    this.arm(this.limitMs);
  }

  /** Something was received from the client (or the gateway resumed reading from it). */
  touch(): void {
    this.lastActivity = Date.now();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), delayMs);
    this.timer.unref();
  }

  private check(): void {
    if (this.excused()) {
      this.touch();
      this.arm(this.limitMs);
      return;
    }
    const silentMs = Date.now() - this.lastActivity;
    if (silentMs >= this.limitMs) {
      this.timer = undefined;
      this.expired();
      return;
    }
    this.arm(this.limitMs - silentMs);
  }
}
