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
