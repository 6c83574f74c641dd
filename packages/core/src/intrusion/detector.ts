/**
 * Intrusion detection on device traffic: per device, how many refusals of each kind fell within a sliding
 * window, and whether a rule's threshold was reached. Pure (times are arguments, nothing is read or written):
 * the platform feeds it the security events ingest records and quarantines the device it names.
 */

/** What a refusal says about its sender. */
export const INTRUSION_SIGNALS = ['forgery', 'acl-violation', 'auth-failure', 'replay', 'malformed'] as const;
export type IntrusionSignal = (typeof INTRUSION_SIGNALS)[number];

export const INTRUSION_SIGNAL_TEXT: Readonly<Record<IntrusionSignal, string>> = {
  forgery: 'bad signature',
  'acl-violation': 'ACL violation',
  'auth-failure': 'failed authentication',
  replay: 'replay',
  malformed: 'malformed',
};

/**
 * Security event kinds (rejection codes and transport events) that count. A message signed with another
 * device's key (device-mismatch) is left out on purpose: it would be counted against the key's owner, the
 * victim, not the sender.
 */
const SIGNAL_OF_KIND: Readonly<Record<string, IntrusionSignal>> = {
  'bad-signature': 'forgery',
  // Signed with a key the platform does not know, by a session that logged in as a device: the sender's.
  'unknown-key': 'forgery',
  'unsupported-algorithm': 'forgery',
  'topic-not-allowed': 'acl-violation',
  'acl-denied': 'acl-violation',
  'auth-failed': 'auth-failure',
  replay: 'replay',
  'malformed-jws': 'malformed',
  'protocol-violation': 'malformed',
  'schema-violation': 'malformed',
};

export function intrusionSignalOf(kind: string): IntrusionSignal | undefined {
  return Object.hasOwn(SIGNAL_OF_KIND, kind) ? SIGNAL_OF_KIND[kind] : undefined;
}

export interface IntrusionRule {
  /** Named in the quarantine reason, e.g. forged-or-acl. */
  readonly name: string;
  readonly signals: readonly IntrusionSignal[];
  /** Refusals of these signals within the window at which the device is flagged (≥ 1). */
  readonly threshold: number;
  readonly windowMs: number;
}

/** Thresholds as configured; 0 turns a rule off. */
export interface IntrusionThresholds {
  readonly windowS: number;
  /** Forged (bad-signature) messages and ACL violations together. */
  readonly forgery: number;
  readonly authFailure: number;
  readonly replay: number;
  readonly malformed: number;
}

export const DEFAULT_INTRUSION_THRESHOLDS: IntrusionThresholds = {
  windowS: 60,
  forgery: 5,
  authFailure: 20,
  replay: 0,
  malformed: 0,
};

export function intrusionRules(t: IntrusionThresholds = DEFAULT_INTRUSION_THRESHOLDS): IntrusionRule[] {
  const windowMs = t.windowS * 1000;
  const rules: IntrusionRule[] = [
    { name: 'forged-or-acl', signals: ['forgery', 'acl-violation'], threshold: t.forgery, windowMs },
    { name: 'failed-authentication', signals: ['auth-failure'], threshold: t.authFailure, windowMs },
    { name: 'replay', signals: ['replay'], threshold: t.replay, windowMs },
    { name: 'malformed', signals: ['malformed'], threshold: t.malformed, windowMs },
  ];
  return windowMs > 0 ? rules.filter((r) => r.threshold > 0) : [];
}

export interface IntrusionVerdict {
  readonly deviceId: string;
  readonly rule: string;
  /** Refusals of the rule's signals in the window, the one that crossed the threshold included. */
  readonly count: number;
  readonly threshold: number;
  readonly windowMs: number;
  readonly counts: Readonly<Partial<Record<IntrusionSignal, number>>>;
  /** For people: names the rule and the counts. */
  readonly reason: string;
}

/** Beyond this many devices watched at once, the one heard from longest ago is forgotten. */
const DEFAULT_MAX_DEVICES = 10_000;

/**
 * Sliding-window counters per device and signal. A refusal at time t counts for a window of w ms while
 * now - t < w. When a rule's count reaches its threshold the device is flagged once and its counts start
 * again from nothing (what follows is judged afresh, e.g. after a release).
 */
export class IntrusionDetector {
  private readonly devices = new Map<string, Map<IntrusionSignal, number[]>>();
  /** Per signal: the most timestamps any rule needs, and the longest window. */
  private readonly keep = new Map<IntrusionSignal, { count: number; windowMs: number }>();

  constructor(
    readonly rules: readonly IntrusionRule[],
    private readonly maxDevices = DEFAULT_MAX_DEVICES,
  ) {
    for (const r of rules) {
      if (!Number.isInteger(r.threshold) || r.threshold < 1)
        throw new RangeError(`intrusion rule ${r.name}: threshold must be a whole number ≥ 1`);
      if (!(r.windowMs > 0)) throw new RangeError(`intrusion rule ${r.name}: window must be positive`);
      for (const s of r.signals) {
        const k = this.keep.get(s) ?? { count: 0, windowMs: 0 };
        this.keep.set(s, {
          count: Math.max(k.count, r.threshold),
          windowMs: Math.max(k.windowMs, r.windowMs),
        });
      }
    }
  }

  /** Records one refusal; the verdict when it made the device cross a threshold. */
  observe(deviceId: string, signal: IntrusionSignal, atMs: number): IntrusionVerdict | undefined {
    const keep = this.keep.get(signal);
    if (!keep) return undefined; // no rule looks at this signal
    let signals = this.devices.get(deviceId);
    if (signals)
      this.devices.delete(deviceId); // re-inserted below: the map stays ordered by last heard
    else signals = new Map();
    this.devices.set(deviceId, signals);
    if (this.devices.size > this.maxDevices) {
      const oldest = this.devices.keys().next().value;
      if (oldest !== undefined) this.devices.delete(oldest);
    }
    const times = signals.get(signal) ?? [];
    // Events may be reported slightly out of order: time never runs backwards here.
    const at = Math.max(atMs, times[times.length - 1] ?? Number.NEGATIVE_INFINITY);
    times.push(at);
    // Only the newest `count` timestamps within the longest window can matter to any rule.
    while (times.length > keep.count || (times.length > 0 && at - (times[0] as number) >= keep.windowMs))
      times.shift();
    signals.set(signal, times);

    for (const rule of this.rules) {
      if (!rule.signals.includes(signal)) continue;
      const counts: Partial<Record<IntrusionSignal, number>> = {};
      let count = 0;
      for (const s of rule.signals) {
        const n = (signals.get(s) ?? []).filter((t) => at - t < rule.windowMs).length;
        if (n > 0) counts[s] = n;
        count += n;
      }
      if (count < rule.threshold) continue;
      this.devices.delete(deviceId);
      return {
        deviceId,
        rule: rule.name,
        count,
        threshold: rule.threshold,
        windowMs: rule.windowMs,
        counts,
        reason: verdictReason(rule, count, counts),
      };
    }
    return undefined;
  }

  /** Forgets a device's counts (e.g. once it is quarantined or released). */
  forget(deviceId: string): void {
    this.devices.delete(deviceId);
  }

  /** How many devices have refusals within a window (for tests and metrics). */
  watched(): number {
    return this.devices.size;
  }
}

function verdictReason(
  rule: IntrusionRule,
  count: number,
  counts: Partial<Record<IntrusionSignal, number>>,
): string {
  const parts = (Object.keys(counts) as IntrusionSignal[]).map(
    (s) => `${INTRUSION_SIGNAL_TEXT[s]} ${counts[s]}`,
  );
  const window = rule.windowMs % 1000 === 0 ? `${rule.windowMs / 1000} s` : `${rule.windowMs} ms`;
  return `intrusion rule ${rule.name}: ${count} refusals in ${window} (threshold ${rule.threshold}; ${parts.join(', ')})`;
}
