/**
 * Test double of the platform's device-facing rules, used by the transport tests: it verifies device
 * tokens and signatures with core, stores each seq once, and applies the replay rule (an exact copy is a
 * harmless duplicate only when marked DUP on MQTT or inside a retried HTTP batch). Not exported.
 */
import {
  checkDeviceToken,
  decodeReading,
  type Ed25519PublicJwk,
  importEd25519,
  parseCompactJws,
  verifyJws,
} from '@openiomt/core';

export interface Arrival {
  readonly seq: number;
  readonly dup: boolean;
}

export type Verdict =
  | { readonly status: 'accepted' | 'duplicate' }
  | { readonly status: 'rejected'; readonly reason: string };

export class TestPlatform {
  readonly arrivals: Arrival[] = [];
  /** Seqs in the order they were first stored. */
  readonly order: number[] = [];
  readonly tokens: string[] = [];
  readonly rejectSeqs = new Set<number>();
  replays = 0;
  duplicates = 0;
  private readonly stored = new Map<number, string>();

  constructor(
    readonly deviceId: string,
    private readonly jwk: Ed25519PublicJwk,
  ) {}

  /** True when `token` is a valid device token for this device, signed by its key. */
  checkToken(token: string): boolean {
    const parsed = parseCompactJws(token);
    if (!parsed.ok || parsed.value.header.typ !== 'JWT') return false;
    if (!verifyJws(parsed.value, importEd25519(this.jwk))) return false;
    if (!checkDeviceToken(parsed.value, this.deviceId, Date.now()).ok) return false;
    this.tokens.push(token);
    return true;
  }

  /** Applies the platform's rules to one signed reading; `resent` is MQTT DUP or a retried HTTP batch. */
  receive(jws: string, resent: boolean): Verdict & { seq?: number } {
    const parsed = parseCompactJws(jws);
    if (!parsed.ok) return { status: 'rejected', reason: parsed.rejection.code };
    if (!verifyJws(parsed.value, importEd25519(this.jwk)))
      return { status: 'rejected', reason: 'bad-signature' };
    const msg = decodeReading(parsed.value.payload);
    if (!msg.ok) return { status: 'rejected', reason: msg.rejection.code };
    const seq = msg.value.seq;
    this.arrivals.push({ seq, dup: resent });
    const previous = this.stored.get(seq);
    if (previous !== undefined) {
      if (previous === jws && resent) {
        this.duplicates += 1;
        return { status: 'duplicate', seq };
      }
      this.replays += 1;
      return { status: 'rejected', reason: 'replay', seq };
    }
    if (this.rejectSeqs.has(seq)) return { status: 'rejected', reason: 'implausible-value: test', seq };
    this.stored.set(seq, jws);
    this.order.push(seq);
    return { status: 'accepted', seq };
  }

  arrivalsOf(seq: number): Arrival[] {
    return this.arrivals.filter((a) => a.seq === seq);
  }
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for condition');
    await delay(5);
  }
}
