import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VITAL_CODES } from '../codes/vitals.ts';
import type { ConditionEvent } from './condition.ts';
import { AF_CONDITION, NEWS2_CONDITION, PatientMonitor } from './monitor.ts';

const T0 = Date.parse('2026-11-28T08:00:00Z');
const S = 1000;

const conditions = (events: readonly ConditionEvent[]) => events.map((e) => `${e.type}:${e.condition}`);
/** The events of everything but NEWS2 (a high heart rate also scores NEWS2 points). */
const limits = (events: readonly ConditionEvent[]) =>
  conditions(events.filter((e) => e.condition !== NEWS2_CONDITION));

/** A full set of NEWS2 parameters scoring 0, measured at `at`. */
function normalVitals(m: PatientMonitor, at: number, now = at) {
  return [
    ...m.vital('respiratory-rate', 16, at, now),
    ...m.vital('spo2', 97, at, now),
    ...m.vital('supplemental-oxygen', false, at, now),
    ...m.vital('bp-systolic', 120, at, now),
    ...m.vital('heart-rate', 70, at, now),
    ...m.vital('consciousness', 'A', at, now),
    ...m.vital('body-temperature', 37, at, now),
  ];
}

describe('PatientMonitor', () => {
  it('raises a limit alarm only after the breach has lasted, and clears it past the hysteresis', () => {
    const m = new PatientMonitor();
    expect(limits(m.vital('heart-rate', 130, T0, T0))).toEqual([]);
    expect(limits(m.vital('heart-rate', 131, T0 + 5 * S, T0 + 5 * S))).toEqual([]);
    const onset = m.vital('heart-rate', 132, T0 + 10 * S, T0 + 10 * S);
    expect(limits(onset)).toEqual(['onset:threshold:heart-rate:high']);
    expect(onset.find((e) => e.condition !== NEWS2_CONDITION)?.priority).toBe('medium');
    // 118 is below the limit but not past the 5 bpm hysteresis: still on.
    expect(limits(m.vital('heart-rate', 118, T0 + 11 * S, T0 + 11 * S))).toEqual([]);
    expect(limits(m.vital('heart-rate', 110, T0 + 12 * S, T0 + 12 * S))).toEqual([
      'clear:threshold:heart-rate:high',
    ]);
  });

  it("uses the patient's own limits over the defaults", () => {
    const m = new PatientMonitor({
      thresholds: [{ vital: 'heart-rate', direction: 'high', limit: 100, hysteresis: 5, priority: 'high' }],
    });
    const e = m.vital('heart-rate', 105, T0, T0);
    expect(conditions(e)).toEqual(['onset:threshold:heart-rate:high']);
    expect(e[0]?.priority).toBe('high');
  });

  it('scores NEWS2 from the latest value of each parameter and raises by band', () => {
    const m = new PatientMonitor();
    expect(normalVitals(m, T0).filter((e) => e.condition === NEWS2_CONDITION)).toEqual([]);
    expect(m.news2?.total).toBe(0);
    expect(m.news2?.complete).toBe(true);
    // Respiration 25 scores 3: a single red score, low-medium band, low priority.
    const red = m.vital('respiratory-rate', 25, T0 + S, T0 + S);
    expect(red.map((e) => [e.type, e.condition, e.priority])).toEqual([['onset', NEWS2_CONDITION, 'low']]);
    // SpO2 91 (2) + HR 135 (3 but the limit rule is separate) push the total to 8: high.
    m.vital('spo2', 91, T0 + 2 * S, T0 + 2 * S);
    const high = m
      .vital('heart-rate', 135, T0 + 3 * S, T0 + 3 * S)
      .filter((e) => e.condition === NEWS2_CONDITION);
    expect(high.map((e) => [e.type, e.priority])).toEqual([['onset', 'high']]);
    expect(m.news2?.band).toBe('high');
    normalVitals(m, T0 + 4 * S);
    expect(m.news2?.band).toBe('low');
  });

  it('never scores a missing parameter as 0: an incomplete score still raises on what it has', () => {
    const m = new PatientMonitor();
    const e = m.vital('respiratory-rate', 26, T0, T0);
    expect(conditions(e)).toEqual([`onset:${NEWS2_CONDITION}`]);
    expect(e[0]?.reason).toMatch(/not scored: spo2/);
    expect(m.news2?.complete).toBe(false);
  });

  it('lets NEWS2 parameters go stale on the clock and clears when nothing scores any more', () => {
    const m = new PatientMonitor();
    expect(conditions(m.vital('respiratory-rate', 26, T0, T0))).toEqual([`onset:${NEWS2_CONDITION}`]);
    expect(m.tick(T0 + 9 * 60 * S)).toEqual([]);
    expect(conditions(m.tick(T0 + 11 * 60 * S))).toEqual([`clear:${NEWS2_CONDITION}`]);
  });

  it('does not raise limit alarms on a value measured on artefact or with the lead off', () => {
    const m = new PatientMonitor({
      thresholds: [{ vital: 'heart-rate', direction: 'high', limit: 100, hysteresis: 5, priority: 'high' }],
    });
    const noisy = m.derived(
      { deviceId: 'd1', code: 'heart-rate', value: 180, at: T0, signalQuality: 0.2 },
      T0,
    );
    expect(noisy.filter((e) => e.category === 'physiological')).toEqual([]);
    const off = m.derived(
      { deviceId: 'd1', code: 'heart-rate', value: 180, at: T0 + S, signalQuality: 0, leadOff: true },
      T0 + S,
    );
    expect(conditions(off)).toEqual(['onset:technical:lead-off:d1']);
    const clean = m.derived(
      { deviceId: 'd1', code: 'heart-rate', value: 180, at: T0 + 2 * S, signalQuality: 0.95 },
      T0 + 2 * S,
    );
    expect(limits(clean)).toEqual(['clear:technical:lead-off:d1', 'onset:threshold:heart-rate:high']);
  });

  it('raises poor signal only when quality stays low, and AF from the rhythm call', () => {
    const m = new PatientMonitor();
    const d = (at: number, q: number, rhythm?: 'af-suspected' | 'not-af') =>
      m.derived(
        { deviceId: 'd1', code: 'heart-rate', at, signalQuality: q, ...(rhythm ? { rhythm } : {}) },
        at,
      );
    expect(d(T0, 0.3)).toEqual([]);
    expect(conditions(d(T0 + 10 * S, 0.3))).toEqual(['onset:technical:poor-signal:d1']);
    expect(conditions(d(T0 + 20 * S, 0.9, 'af-suspected'))).toEqual([
      'clear:technical:poor-signal:d1',
      `onset:${AF_CONDITION}`,
    ]);
    expect(d(T0 + 30 * S, 0.9, 'af-suspected')).toEqual([]);
    expect(conditions(d(T0 + 40 * S, 0.9, 'not-af'))).toEqual([`clear:${AF_CONDITION}`]);
  });

  it('says what an AF alarm rests on: irregular RR without P waves, or variable RR without P waves', () => {
    const onset = (rhythmBasis?: 'irregular-rr' | 'variable-rr-without-p-waves') =>
      new PatientMonitor().derived(
        {
          deviceId: 'd1',
          code: 'heart-rate',
          at: T0,
          signalQuality: 0.9,
          rhythm: 'af-suspected',
          ...(rhythmBasis ? { rhythmBasis } : {}),
        },
        T0,
      )[0]?.reason;
    expect(onset('irregular-rr')).toContain('irregularly irregular RR intervals without distinct P waves');
    expect(onset('variable-rr-without-p-waves')).toContain('no P waves before a narrow QRS');
    expect(onset()).toBe('the rhythm suggests atrial fibrillation (screening)');
  });

  it('detects a silent device within twice its interval and clears when it speaks', () => {
    const m = new PatientMonitor();
    m.deviceSeen('d1', 10 * S, T0);
    expect(m.tick(T0 + 19 * S)).toEqual([]);
    expect(conditions(m.tick(T0 + 20 * S))).toEqual(['onset:technical:device-offline:d1']);
    expect(m.tick(T0 + 30 * S)).toEqual([]);
    expect(conditions(m.deviceSeen('d1', 10 * S, T0 + 31 * S))).toEqual([
      'clear:technical:device-offline:d1',
    ]);
    expect(m.unwatchDevice('d1', T0 + 32 * S, 'revoked')).toEqual([]);
    expect(m.tick(T0 + 100 * S)).toEqual([]);
  });

  it("after a restart, a watched device's silence counts from when the platform listens again", () => {
    const m = new PatientMonitor();
    m.watchDevice('d1', S, T0); // last data at T0; the platform was down until T0 + 11 s
    m.watchDevice('d2', S, T0);
    m.listening(T0 + 11 * S);
    expect(m.nextTickDue()).toBe(T0 + 13 * S);
    expect(m.tick(T0 + 12 * S)).toEqual([]);
    expect(m.deviceSeen('d1', S, T0 + 12.5 * S)).toEqual([]);
    expect(conditions(m.tick(T0 + 13 * S))).toEqual(['onset:technical:device-offline:d2']);
  });

  it('after a restart, restored open conditions clear on the first normal value', () => {
    const m = new PatientMonitor();
    m.watchDevice('d1', 10 * S, T0, true);
    m.restore([
      { condition: 'threshold:spo2:low', priority: 'medium' },
      { condition: NEWS2_CONDITION, priority: 'high' },
      { condition: 'technical:lead-off:d1', priority: 'medium' },
      { condition: 'technical:device-offline:d1', priority: 'medium' },
    ]);
    const events = [
      ...m.vital('spo2', 97, T0, T0),
      ...m.deviceStatus({ deviceId: 'd1', at: T0, leadOff: false }),
      ...m.deviceSeen('d1', 10 * S, T0),
    ];
    expect(conditions(events).sort()).toEqual(
      [
        'clear:threshold:spo2:low',
        'clear:technical:lead-off:d1',
        'clear:technical:device-offline:d1',
        // SpO2 97 alone scores 0: the restored high NEWS2 clears too.
        `clear:${NEWS2_CONDITION}`,
      ].sort(),
    );
  });

  it('late values inform NEWS2 but raise no limit alarm', () => {
    const m = new PatientMonitor({
      thresholds: [{ vital: 'heart-rate', direction: 'high', limit: 100, hysteresis: 5, priority: 'high' }],
    });
    expect(limits(m.vital('heart-rate', 150, T0, T0 + 60 * S, true))).toEqual([]);
    expect(m.news2?.scores.pulse).toBe(3);
  });

  it('never throws, and onsets and clears of each condition alternate (property)', () => {
    const input = fc.oneof(
      fc.record({
        kind: fc.constant('vital' as const),
        code: fc.constantFrom(...VITAL_CODES),
        value: fc.oneof(fc.double(), fc.boolean(), fc.constantFrom('A', 'V', 'X')),
        dt: fc.integer({ min: -5000, max: 120_000 }),
      }),
      fc.record({
        kind: fc.constant('derived' as const),
        value: fc.option(fc.double({ min: -50, max: 400 }), { nil: undefined }),
        q: fc.double({ min: -1, max: 2 }),
        leadOff: fc.boolean(),
        rhythm: fc.constantFrom(undefined, 'af-suspected' as const, 'not-af' as const),
        dt: fc.integer({ min: 0, max: 60_000 }),
      }),
      fc.record({ kind: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 3_600_000 }) }),
      fc.record({
        kind: fc.constant('status' as const),
        battery: fc.double({ min: -10, max: 110 }),
        dt: fc.integer({ min: 0, max: 60_000 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(input, { maxLength: 60 }), (inputs) => {
        const m = new PatientMonitor();
        m.deviceSeen('d1', 5000, T0);
        let t = T0;
        const open = new Map<string, boolean>();
        for (const i of inputs) {
          t += Math.max(0, i.dt);
          const at = t + Math.min(0, i.dt);
          const events =
            i.kind === 'vital'
              ? m.vital(i.code, i.value, at, t)
              : i.kind === 'derived'
                ? m.derived(
                    {
                      deviceId: 'd1',
                      code: 'heart-rate',
                      at: t,
                      signalQuality: i.q,
                      leadOff: i.leadOff,
                      ...(i.value === undefined ? {} : { value: i.value }),
                      ...(i.rhythm ? { rhythm: i.rhythm } : {}),
                    },
                    t,
                  )
                : i.kind === 'tick'
                  ? m.tick(t)
                  : m.deviceStatus({ deviceId: 'd1', at: t, battery: i.battery });
          for (const e of events) {
            const was = open.get(e.condition) ?? false;
            // NEWS2 may change priority while open (another onset); everything else alternates.
            if (e.type === 'onset' && e.condition !== NEWS2_CONDITION) expect(was).toBe(false);
            if (e.type === 'clear') expect(was).toBe(true);
            open.set(e.condition, e.type === 'onset');
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('PatientMonitor.vitals', () => {
  it('gives the same events as feeding the vitals one by one, but scores NEWS2 once', () => {
    const one = new PatientMonitor();
    const many = new PatientMonitor();
    const readings = [
      { code: 'respiratory-rate' as const, value: 26, at: T0 },
      { code: 'heart-rate' as const, value: 135, at: T0 },
      { code: 'spo2' as const, value: 91, at: T0 },
    ];
    const each = readings.flatMap((r) => one.vital(r.code, r.value, r.at, T0));
    const batch = many.vitals(readings, T0);
    expect(limits(batch)).toEqual(limits(each));
    expect(many.news2).toEqual(one.news2);
    // One by one, NEWS2 rose three times (low, then high); at once it is raised once, at its final band.
    expect(batch.filter((e) => e.condition === NEWS2_CONDITION).map((e) => e.priority)).toEqual(['high']);
  });
});

describe('PatientMonitor.nextTickDue', () => {
  it('says when a tick can next matter: a device going silent, a NEWS2 parameter going stale', () => {
    const m = new PatientMonitor();
    expect(m.nextTickDue()).toBe(Number.POSITIVE_INFINITY);
    m.deviceSeen('d1', 30 * S, T0);
    expect(m.nextTickDue()).toBe(T0 + 60 * S);
    m.vital('spo2', 97, T0, T0);
    expect(m.nextTickDue()).toBe(T0 + 60 * S);
    m.deviceSeen('d1', 30 * S, T0 + 20 * 60 * S);
    // SpO2 is fresh for 10 minutes.
    expect(m.nextTickDue()).toBe(T0 + 10 * 60 * S);
    // A value remembered after a restart is scored by the next tick, whenever it comes.
    m.remember('body-temperature', 37, T0);
    expect(m.nextTickDue()).toBe(Number.NEGATIVE_INFINITY);
    m.tick(T0 + S);
    expect(m.nextTickDue()).toBe(T0 + 10 * 60 * S);
  });

  it('ticking only when due gives what ticking every second gives (property)', () => {
    const NEWS2_VITALS = [
      'respiratory-rate',
      'spo2',
      'supplemental-oxygen',
      'bp-systolic',
      'heart-rate',
      'pulse-rate',
      'consciousness',
      'body-temperature',
    ] as const;
    const value = (code: (typeof NEWS2_VITALS)[number], n: number) =>
      code === 'supplemental-oxygen' ? n % 2 === 0 : code === 'consciousness' ? (n % 3 === 0 ? 'V' : 'A') : n;
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('vital' as const),
        code: fc.constantFrom(...NEWS2_VITALS),
        n: fc.integer({ min: 20, max: 200 }),
        // Measured up to 13 h ago, or stamped up to 9 s ahead (a device clock running fast).
        age: fc.oneof(
          fc.integer({ min: -9, max: 0 }),
          fc.integer({ min: 0, max: 700 }),
          fc.integer({ min: 0, max: 13 * 3600 }),
        ),
      }),
      fc.record({
        kind: fc.constant('seen' as const),
        device: fc.constantFrom('d1', 'd2'),
        intervalS: fc.integer({ min: 1, max: 120 }),
      }),
      fc.record({
        kind: fc.constant('remember' as const),
        code: fc.constantFrom(...NEWS2_VITALS),
        age: fc.nat(900),
      }),
      fc.record({ kind: fc.constant('scale2' as const), on: fc.boolean() }),
      fc.record({ kind: fc.constant('unwatch' as const), device: fc.constantFrom('d1', 'd2') }),
      // The clock moves on by whole seconds: mostly a few, sometimes past a freshness window.
      fc.record({
        kind: fc.constant('wait' as const),
        s: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 590, max: 700 })),
      }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 25 }), (steps) => {
        const every = new PatientMonitor();
        const due = new PatientMonitor();
        let now = T0;
        const both = (f: (m: PatientMonitor) => readonly ConditionEvent[]) => {
          const a = f(every);
          const b = f(due);
          expect(b.map((e) => [e.type, e.condition, e.priority, e.at])).toEqual(
            a.map((e) => [e.type, e.condition, e.priority, e.at]),
          );
        };
        const score = (m: PatientMonitor) => {
          const s = m.news2;
          return s && { total: s.total, band: s.band, complete: s.complete, scores: s.scores };
        };
        for (const st of steps) {
          if (st.kind === 'wait') {
            for (let i = 0; i < st.s; i++) {
              now += S;
              const a = every.tick(now);
              const b = now >= due.nextTickDue() ? due.tick(now) : [];
              expect(b.map((e) => [e.type, e.condition, e.priority])).toEqual(
                a.map((e) => [e.type, e.condition, e.priority]),
              );
            }
          } else if (st.kind === 'vital')
            both((m) => m.vital(st.code, value(st.code, st.n), now - st.age * S, now));
          else if (st.kind === 'seen') both((m) => m.deviceSeen(st.device, st.intervalS * S, now));
          else if (st.kind === 'remember')
            both((m) => {
              m.remember(st.code, value(st.code, 90), now - st.age * S);
              return [];
            });
          else if (st.kind === 'scale2')
            both((m) => {
              m.configure({ spo2Scale2Prescribed: st.on });
              return [];
            });
          else both((m) => m.unwatchDevice(st.device, now, 'unassigned'));
          expect(score(due)).toEqual(score(every));
        }
      }),
      { numRuns: 150 },
    );
  });
});
