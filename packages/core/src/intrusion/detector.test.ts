import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_INTRUSION_THRESHOLDS,
  INTRUSION_SIGNALS,
  IntrusionDetector,
  type IntrusionRule,
  type IntrusionSignal,
  intrusionRules,
  intrusionSignalOf,
} from './detector.ts';

const T0 = 1_700_000_000_000;
const S = 1000;
const rules = intrusionRules();

describe('intrusionSignalOf', () => {
  it('maps the security events ingest records; leaves out what would blame a victim', () => {
    expect(intrusionSignalOf('bad-signature')).toBe('forgery');
    expect(intrusionSignalOf('topic-not-allowed')).toBe('acl-violation');
    expect(intrusionSignalOf('acl-denied')).toBe('acl-violation');
    expect(intrusionSignalOf('auth-failed')).toBe('auth-failure');
    expect(intrusionSignalOf('replay')).toBe('replay');
    expect(intrusionSignalOf('malformed-jws')).toBe('malformed');
    expect(intrusionSignalOf('device-mismatch')).toBeUndefined();
    expect(intrusionSignalOf('device-quarantined')).toBeUndefined();
    expect(intrusionSignalOf('constructor')).toBeUndefined();
  });
});

describe('intrusionRules', () => {
  it('has the documented defaults and drops a rule whose threshold is 0', () => {
    expect(rules.map((r) => [r.name, r.threshold, r.windowMs])).toEqual([
      ['forged-or-acl', 5, 60_000],
      ['failed-authentication', 20, 60_000],
    ]);
    expect(intrusionRules({ ...DEFAULT_INTRUSION_THRESHOLDS, replay: 3 }).map((r) => r.name)).toContain(
      'replay',
    );
    expect(intrusionRules({ ...DEFAULT_INTRUSION_THRESHOLDS, windowS: 0 })).toEqual([]);
    expect(
      () => new IntrusionDetector([{ name: 'x', signals: ['replay'], threshold: 0, windowMs: 1 }]),
    ).toThrow(RangeError);
  });
});

describe('IntrusionDetector', () => {
  it('flags at the fifth forged or ACL-violating message within 60 s, naming the rule and counts', () => {
    const d = new IntrusionDetector(rules);
    for (let i = 0; i < 3; i++) expect(d.observe('dev-1', 'forgery', T0 + i * S)).toBeUndefined();
    expect(d.observe('dev-1', 'acl-violation', T0 + 10 * S)).toBeUndefined();
    expect(d.observe('dev-2', 'forgery', T0 + 11 * S)).toBeUndefined(); // another device's counts are its own
    const v = d.observe('dev-1', 'forgery', T0 + 59 * S);
    expect(v).toMatchObject({ deviceId: 'dev-1', rule: 'forged-or-acl', count: 5, threshold: 5 });
    expect(v?.counts).toEqual({ forgery: 4, 'acl-violation': 1 });
    expect(v?.reason).toBe(
      'intrusion rule forged-or-acl: 5 refusals in 60 s (threshold 5; bad signature 4, ACL violation 1)',
    );
    // Counts start again after a verdict.
    expect(d.observe('dev-1', 'forgery', T0 + 60 * S)).toBeUndefined();
  });

  it('does not flag refusals spread wider than the window', () => {
    const d = new IntrusionDetector(rules);
    for (let i = 0; i < 50; i++) expect(d.observe('slow', 'forgery', T0 + i * 15 * S)).toBeUndefined();
  });

  it('flags failed authentications only at 20 in 60 s; ignores signals no rule watches', () => {
    const d = new IntrusionDetector(rules);
    for (let i = 0; i < 19; i++) expect(d.observe('guess', 'auth-failure', T0 + i * 100)).toBeUndefined();
    for (let i = 0; i < 100; i++) expect(d.observe('guess', 'replay', T0 + i)).toBeUndefined();
    expect(d.observe('guess', 'auth-failure', T0 + 2 * S)?.rule).toBe('failed-authentication');
  });

  it('keeps at most maxDevices devices, forgetting the one heard from longest ago', () => {
    const d = new IntrusionDetector(rules, 3);
    for (const id of ['a', 'b', 'c', 'a', 'd']) d.observe(id, 'forgery', T0);
    expect(d.watched()).toBe(3);
    for (let i = 0; i < 3; i++) d.observe('a', 'forgery', T0 + 1);
    // 'a' kept its two earlier refusals: five in all.
    expect(d.watched()).toBe(2);
  });
});

/** A device's refusals: a signal and the time since the previous one. */
const trafficArb = fc.array(
  fc.record({
    signal: fc.constantFrom<IntrusionSignal>(...INTRUSION_SIGNALS),
    gapMs: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 90_000 })),
  }),
  { maxLength: 120 },
);

const ruleArb: fc.Arbitrary<IntrusionRule[]> = fc.array(
  fc.record({
    name: fc.constantFrom('r1', 'r2', 'r3'),
    signals: fc.subarray([...INTRUSION_SIGNALS], { minLength: 1 }),
    threshold: fc.integer({ min: 1, max: 12 }),
    windowMs: fc.integer({ min: 1, max: 120_000 }),
  }),
  { minLength: 1, maxLength: 3 },
);

/** The definition, by brute force: every refusal since the last verdict, counted per rule. */
function oracle(rules: readonly IntrusionRule[], traffic: { signal: IntrusionSignal; at: number }[]) {
  const verdicts: (string | undefined)[] = [];
  let since = 0;
  traffic.forEach((e, i) => {
    let verdict: string | undefined;
    for (const r of rules) {
      if (!r.signals.includes(e.signal)) continue;
      const n = traffic
        .slice(since, i + 1)
        .filter((x) => r.signals.includes(x.signal) && e.at - x.at < r.windowMs).length;
      if (n >= r.threshold) {
        verdict = r.name;
        break;
      }
    }
    verdicts.push(verdict);
    if (verdict) since = i + 1;
  });
  return verdicts;
}

const timed = (traffic: { signal: IntrusionSignal; gapMs: number }[]) => {
  let at = T0;
  return traffic.map((e) => {
    at += e.gapMs;
    return { signal: e.signal, at };
  });
};

describe('IntrusionDetector properties', () => {
  it('says exactly what the brute-force definition says, for any rules and traffic', () => {
    fc.assert(
      fc.property(ruleArb, trafficArb, (rs, traffic) => {
        const d = new IntrusionDetector(rs);
        const events = timed(traffic);
        expect(events.map((e) => d.observe('dev', e.signal, e.at)?.rule)).toEqual(oracle(rs, events));
      }),
    );
  });

  it('never quarantines below the threshold: fewer than N refusals in any window is no verdict', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 120 }),
        fc.array(fc.constantFrom<IntrusionSignal>(...INTRUSION_SIGNALS), { maxLength: 200 }),
        (threshold, windowS, signals) => {
          const rule = { name: 'r', signals: [...INTRUSION_SIGNALS], threshold, windowMs: windowS * S };
          const d = new IntrusionDetector([rule]);
          // At most threshold - 1 refusals in any window: each group of threshold - 1 a full window apart.
          const perWindow = threshold - 1;
          signals.forEach((s, i) => {
            const at = T0 + (perWindow === 0 ? i : Math.floor(i / perWindow)) * windowS * S;
            if (perWindow === 0) return;
            expect(d.observe('dev', s, at)).toBeUndefined();
          });
        },
      ),
    );
  });

  it('always quarantines at the threshold when the N refusals fall within the window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 120 }),
        fc.array(fc.constantFrom<IntrusionSignal>('forgery', 'acl-violation'), {
          minLength: 30,
          maxLength: 30,
        }),
        fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
        (threshold, windowS, signals, offsets) => {
          const windowMs = windowS * S;
          const rule = {
            name: 'forged-or-acl',
            signals: ['forgery', 'acl-violation'] as const,
            threshold,
            windowMs,
          };
          const d = new IntrusionDetector([rule]);
          // threshold refusals at sorted times spanning less than the window.
          const times = offsets
            .slice(0, threshold)
            .map((o) => T0 + (o % windowMs))
            .sort((a, b) => a - b);
          const verdicts = times.map((at, i) => d.observe('dev', signals[i] as IntrusionSignal, at));
          expect(verdicts.slice(0, -1).every((v) => v === undefined)).toBe(true);
          expect(verdicts.at(-1)).toMatchObject({ rule: 'forged-or-acl', count: threshold });
        },
      ),
    );
  });
});
