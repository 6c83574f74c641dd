/**
 * Failed device logins over MQTT, counted per network address: an address that fails the configured number
 * of logins within the window is refused MQTT connections for a while (before its credentials are even
 * looked at). Blocking the address, not the device it claims to be, means nobody can get someone else's
 * device cut off by guessing at its name. Counts and blocks live in memory, per process.
 */
import { IntrusionDetector, type IntrusionThresholds, intrusionRules } from '@openiomt/core';
import type { Logger } from '../log.ts';

export interface SourceBlock {
  readonly source: string;
  readonly until: number;
  readonly reason: string;
}

/** Beyond this many blocked addresses at once, the block that ends first is dropped. */
const MAX_BLOCKS = 100_000;

export class FailedLoginGuard {
  private readonly blocks = new Map<string, SourceBlock>();
  private readonly detector: IntrusionDetector;

  constructor(
    private readonly deps: {
      readonly thresholds: Pick<IntrusionThresholds, 'windowS' | 'authFailure'>;
      readonly blockS: number;
      /** Writes the block down (a security event); a failure is logged, the block stands. */
      readonly record: (block: SourceBlock) => Promise<void>;
      readonly log?: Logger;
    },
  ) {
    const only = { windowS: deps.thresholds.windowS, authFailure: deps.thresholds.authFailure };
    this.detector = new IntrusionDetector(intrusionRules({ ...only, forgery: 0, replay: 0, malformed: 0 }));
  }

  /** The block in force for `source` at `now`, if any (an expired one is forgotten). */
  blocked(source: string, now: number): SourceBlock | undefined {
    const b = this.blocks.get(source);
    if (!b) return undefined;
    if (b.until > now) return b;
    this.blocks.delete(source);
    return undefined;
  }

  /** A login from `source` failed; the block it caused, if it crossed the threshold. */
  failed(source: string, now: number): SourceBlock | undefined {
    if (this.deps.blockS <= 0) return undefined;
    const verdict = this.detector.observe(source, 'auth-failure', now);
    if (!verdict) return undefined;
    const until = now + this.deps.blockS * 1000;
    const block = {
      source,
      until,
      reason: `${verdict.reason}; MQTT connections from ${source} refused until ${new Date(until).toISOString()}`,
    };
    this.blocks.set(source, block);
    if (this.blocks.size > MAX_BLOCKS) this.dropFirstEnding();
    void this.deps
      .record(block)
      .catch((err) => this.deps.log?.error({ err }, 'could not record a blocked address'));
    return block;
  }

  private dropFirstEnding(): void {
    let first: SourceBlock | undefined;
    for (const b of this.blocks.values()) if (!first || b.until < first.until) first = b;
    if (first) this.blocks.delete(first.source);
  }
}
