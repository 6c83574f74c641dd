import { randomUUID } from 'node:crypto';
import { type ConditionEvent, DEFAULT_ALARM_POLICY, raiseAlarm, reduceAlarm } from '@openiomt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlarmChangedEvent, InProcessBus } from '../bus/bus.ts';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import { StoreError } from '../store/types.ts';
import { AlarmService } from './service.ts';

const T0 = Date.parse('2026-11-28T08:00:00Z');
const MIN = 60_000;

const onset = (condition: string, priority: ConditionEvent['priority'] = 'medium'): ConditionEvent => ({
  type: 'onset',
  condition,
  category: 'physiological',
  priority,
  at: T0,
  reason: `${condition} began`,
});
const clear = (condition: string): ConditionEvent => ({
  ...onset(condition),
  type: 'clear',
  reason: 'back in range',
});

describe.each(storeBackends())('alarms on $name', ({ open }) => {
  let store: DisposableStore;
  let patient = '';
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  /** A service on the shared store with a hand-moved clock; each test gets its own patient. */
  async function service(clock: { t: number }) {
    const bus = new InProcessBus();
    const changes: AlarmChangedEvent[] = [];
    bus.subscribe('alarm.changed', (e) => changes.push(e));
    const s = new AlarmService(store, bus, { now: () => clock.t, tickMs: 3_600_000 });
    await s.start();
    return { s, changes };
  }
  const newPatient = async () => (await store.patients.create({})).id;

  it('the database refuses a second open alarm for the same patient and condition', async () => {
    patient = await newPatient();
    const raise = (id: string, at = T0) =>
      raiseAlarm(
        {
          id,
          patientId: patient,
          condition: 'news2',
          category: 'physiological',
          priority: 'high',
          by: 'system',
          reason: 'r',
        },
        at,
      );
    const first = raise(randomUUID());
    await store.alarms.record({
      alarm: first.alarm,
      expectedVersion: null,
      transitions: first.transitions,
      notifications: [],
    });
    const second = raise(randomUUID(), T0 + 2);
    await expect(
      store.alarms.record({
        alarm: second.alarm,
        expectedVersion: null,
        transitions: second.transitions,
        notifications: [],
      }),
    ).rejects.toSatisfy((e) => e instanceof StoreError && e.code === 'conflict');
    // Once the first is resolved, a new onset may open a new alarm.
    const clearFirst = reduceAlarm(
      first.alarm,
      { type: 'condition-cleared', by: 'system', reason: 'ok' },
      T0,
    );
    if (!clearFirst.ok) throw new Error(clearFirst.reason);
    const resolved = reduceAlarm(clearFirst.alarm, { type: 'resolve', by: 'nurse', reason: 'seen' }, T0 + 1);
    if (!resolved.ok) throw new Error(resolved.reason);
    await store.alarms.record({
      alarm: resolved.alarm,
      expectedVersion: 1,
      transitions: resolved.transitions,
      notifications: [],
    });
    await store.alarms.record({
      alarm: second.alarm,
      expectedVersion: null,
      transitions: second.transitions,
      notifications: [],
    });
    expect((await store.alarms.list({ patientId: patient })).items.map((a) => a.state)).toEqual([
      'active',
      'resolved',
    ]);
    // A change computed from a stale version is refused, not applied over the newer one.
    await expect(
      store.alarms.record({ alarm: resolved.alarm, expectedVersion: 1, transitions: [], notifications: [] }),
    ).rejects.toSatisfy((e) => e instanceof StoreError && e.code === 'conflict');
  });

  it('an onset raises one alarm however often it repeats; the clear auto-resolves it after the hold', async () => {
    patient = await newPatient();
    const clock = { t: T0 };
    const { s, changes } = await service(clock);
    await Promise.all([1, 2, 3].map(() => s.onCondition(patient, onset('threshold:spo2:low'))));
    expect(s.openAlarms(patient)).toHaveLength(1);
    clock.t += 1000;
    await s.onCondition(patient, clear('threshold:spo2:low'));
    clock.t += 30_000;
    s.runDueTimers();
    await s.close();
    expect(s.openAlarms(patient)).toHaveLength(1);
    const s2 = await service(clock);
    clock.t += 31_000;
    s2.s.runDueTimers();
    await s2.s.close();
    expect(s2.s.openAlarms(patient)).toHaveLength(0);
    const [alarm] = (await store.alarms.list({ patientId: patient })).items;
    expect(alarm?.state).toBe('resolved');
    const trail = await store.alarms.transitions(alarm!.id);
    expect(trail.map((t) => t.event)).toEqual(['raise', 'condition-cleared', 'auto-resolve']);
    expect(changes.map((c) => c.alarm.state)).toEqual(['active', 'active']);
    expect(changes[0]?.notifications.map((n) => n.kind)).toEqual(['notify']);
  });

  it('people act on alarms with attribution; refusals say why', async () => {
    patient = await newPatient();
    const clock = { t: T0 };
    const { s } = await service(clock);
    await s.onCondition(patient, onset('news2', 'high'));
    const [alarm] = s.openAlarms(patient);
    const ack = await s.act(alarm!.id, { type: 'acknowledge', by: 'nurse.kim', reason: 'at bedside' });
    expect(ack.ok && ack.alarm.acknowledgedBy).toBe('nurse.kim');
    const again = await s.act(alarm!.id, { type: 'acknowledge', by: 'nurse.kim', reason: 'again' });
    expect(again).toEqual({ ok: false, status: 409, reason: 'cannot acknowledge an acknowledged alarm' });
    expect(await s.act(randomUUID(), { type: 'resolve', by: 'x', reason: 'y' })).toMatchObject({
      status: 404,
    });
    // Not while the condition lasts: nothing would alarm about it until it cleared and came back.
    const early = await s.act(alarm!.id, { type: 'resolve', by: 'dr.ng', reason: 'treated' });
    expect(early).toMatchObject({
      ok: false,
      status: 409,
      reason: expect.stringMatching(/acknowledge or snooze/),
    });
    await s.onCondition(patient, clear('news2'));
    const done = await s.act(alarm!.id, { type: 'resolve', by: 'dr.ng', reason: 'treated' });
    expect(done.ok && done.alarm.state).toBe('resolved');
    expect(await s.act(alarm!.id, { type: 'resolve', by: 'dr.ng', reason: 'again' })).toMatchObject({
      status: 409,
    });
    await s.close();
    const trail = await store.alarms.transitions(alarm!.id);
    expect(trail.map((t) => [t.event, t.by, t.from, t.to])).toEqual([
      ['raise', 'system', null, 'active'],
      ['acknowledge', 'nurse.kim', 'active', 'acknowledged'],
      ['condition-cleared', 'system', 'acknowledged', 'acknowledged'],
      ['resolve', 'dr.ng', 'acknowledged', 'resolved'],
    ]);
  });

  it('a NEWS2 alarm risen from medium to high is stored with the high policy and not resolved by itself', async () => {
    patient = await newPatient();
    const clock = { t: T0 };
    const { s } = await service(clock);
    await s.onCondition(patient, onset('news2', 'medium'));
    clock.t += MIN;
    await s.onCondition(patient, onset('news2', 'high'));
    clock.t += MIN;
    await s.onCondition(patient, clear('news2'));
    clock.t += 10 * MIN;
    s.runDueTimers();
    await s.close();
    const [stored] = (await store.alarms.list({ patientId: patient })).items;
    expect(stored).toMatchObject({ priority: 'high', state: 'active', conditionPresent: false });
    expect(stored?.policy).toEqual(DEFAULT_ALARM_POLICY.high);
    const trail = await store.alarms.transitions(stored!.id);
    expect(trail.map((t) => t.event)).not.toContain('auto-resolve');
  });

  it('escalation and reminders continue across a restart, each recorded once', async () => {
    patient = await newPatient();
    const clock = { t: T0 };
    const first = await service(clock);
    await first.s.onCondition(patient, onset('threshold:heart-rate:high', 'high'));
    await first.s.close();
    // Down for 1.5 minutes: the high-priority alarm's reminder (1 min) fell due. Down again, for a
    // minute: its escalation (2 min) fell due, with the next reminder folded into it.
    clock.t += 1.5 * MIN;
    const second = await service(clock);
    second.s.runDueTimers();
    second.s.runDueTimers();
    await second.s.close();
    clock.t += 1 * MIN;
    const third = await service(clock);
    third.s.runDueTimers();
    third.s.runDueTimers();
    await third.s.close();
    const [alarm] = third.s.openAlarms(patient);
    expect(alarm?.escalationLevel).toBe(1);
    const kinds = (await store.alarms.notifications({ alarmId: alarm!.id })).items.map((n) => n.kind).sort();
    expect(kinds).toEqual(['escalate', 'notify', 'remind']);
  });

  it('two services on one database keep one alarm per condition (the index decides)', async () => {
    patient = await newPatient();
    const clock = { t: T0 };
    const a = await service(clock);
    const b = await service(clock);
    await Promise.all([
      a.s.onCondition(patient, onset('technical:lead-off:d9')),
      b.s.onCondition(patient, onset('technical:lead-off:d9')),
    ]);
    await Promise.all([a.s.close(), b.s.close()]);
    const open = await store.alarms.list({ patientId: patient, state: 'open' });
    expect(open.items).toHaveLength(1);
  });
});
