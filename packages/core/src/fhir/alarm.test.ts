import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { type RaiseAlarm, raiseAlarm, reduceAlarm } from '../alarms/alarm.ts';
import type { Alarm, AlarmEffect, AlarmEvent, AlarmResult } from '../alarms/model.ts';
import type { AlarmNotice } from '../alarms/notice.ts';
import type { AlarmPolicy } from '../alarms/policy.ts';
import { ALARM_CATEGORIES, ALARM_PRIORITIES } from '../alarms/vocabulary.ts';
import {
  ALARM_CONDITION_SYSTEM,
  ALARM_ESCALATION_LEVEL_EXTENSION,
  ALARM_NOTIFICATION_KIND_SYSTEM,
  ALARM_STATE_EXTENSION,
  alarmToFlag,
  FLAG_DETAIL_EXTENSION,
  FLAG_PRIORITY_EXTENSION,
  notificationToCommunication,
  USER_IDENTIFIER_SYSTEM,
} from './alarm.ts';
import { type FhirValidator, loadFhirValidator } from './fhir-schema.ts';
import { FHIR_ID_PATTERN, fhirId } from './ids.ts';
import type { Communication, Extension, Flag } from './types.ts';

let fhir: FhirValidator;
beforeAll(() => {
  fhir = loadFhirValidator();
});

const T0 = Date.parse('2025-03-01T10:00:00Z');
const S = 1000;
const iso = (ms: number) => new Date(ms).toISOString();

const ok = (r: AlarmResult) => {
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r;
};

const hrHigh: RaiseAlarm = {
  id: '0f8c3a52-6a4e-4f4e-9d55-1c1a2b3c4d5e',
  patientId: 'pat-1',
  condition: 'threshold:heart-rate:high',
  category: 'physiological',
  priority: 'high',
  by: 'rules',
  reason: 'HR 135 > 120 for 10 s',
};

/** The notices the platform records for a result's notify/remind/escalate effects. */
function noticesOf(alarm: Alarm, effects: readonly AlarmEffect[], prefix: string): AlarmNotice[] {
  return effects.flatMap((e, i) =>
    e.type === 'notify' || e.type === 'remind' || e.type === 'escalate'
      ? [
          {
            id: `${prefix}-${i}`,
            alarmId: e.alarmId,
            patientId: alarm.patientId,
            at: e.dueAt,
            kind: e.type,
            priority: e.priority,
            level: e.level,
            ...(e.assignee === undefined ? {} : { assignee: e.assignee }),
            reason: e.reason,
          },
        ]
      : [],
  );
}

const ext = (exts: readonly Extension[] | undefined, url: string) => exts?.find((e) => e.url === url);
const statePart = (flag: Flag, part: string) =>
  ext(ext(flag.extension, ALARM_STATE_EXTENSION)?.extension, part);

function expectValid(resource: Flag | Communication) {
  expect(fhir.errors(resource)).toBeUndefined();
}

describe('the R4 validator used here', () => {
  it('rejects a broken Flag and Communication (it is live)', () => {
    const flag = alarmToFlag(raiseAlarm(hrHigh, T0).alarm);
    expect(fhir.errors({ ...flag, status: 'open' })).toMatch(/status/);
    expect(fhir.errors({ ...flag, period: { start: '2025-13-01T00:00:00Z' } })).toMatch(/start/);
    expect(fhir.errors({ resourceType: 'Communication', status: 'completed', sent: 'now' })).toMatch(/sent/);
    // The schema types Communication.status and .priority as bare codes (no enum): the tests below
    // check their values against the R4 value sets themselves.
    expect(fhir.errors({ resourceType: 'Communication', status: 'done', priority: 'high' })).toBeUndefined();
  });
});

describe('alarmToFlag', () => {
  it('maps an active alarm', () => {
    const flag = alarmToFlag(raiseAlarm(hrHigh, T0).alarm);
    expectValid(flag);
    expect(flag).toMatchObject({
      resourceType: 'Flag',
      id: hrHigh.id,
      meta: { lastUpdated: iso(T0) },
      identifier: [{ system: 'urn:openiomt:alarm', value: hrHigh.id }],
      status: 'active',
      category: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/flag-category',
              code: 'clinical',
              display: 'Clinical',
            },
          ],
        },
      ],
      code: {
        coding: [
          { system: ALARM_CONDITION_SYSTEM, code: 'threshold:heart-rate:high', display: 'Heart rate high' },
        ],
        text: 'Heart rate high',
      },
      subject: { reference: 'Patient/pat-1' },
      period: { start: iso(T0) },
    });
    expect(flag.period?.end).toBeUndefined();
    expect(flag.author).toBeUndefined();
    expect(ext(flag.extension, FLAG_PRIORITY_EXTENSION)).toEqual({
      url: FLAG_PRIORITY_EXTENSION,
      valueCodeableConcept: {
        coding: [{ system: 'http://hl7.org/fhir/flag-priority-code', code: 'PH', display: 'High priority' }],
      },
    });
    expect(ext(flag.extension, ALARM_STATE_EXTENSION)?.extension).toEqual([
      { url: 'state', valueCode: 'active' },
      { url: 'conditionPresent', valueBoolean: true },
      { url: 'escalationLevel', valueInteger: 0 },
    ]);
  });

  it('keeps an acknowledged alarm active and records who acknowledged, the assignee and the level', () => {
    let a = raiseAlarm(hrHigh, T0).alarm;
    a = ok(reduceAlarm(a, { type: 'tick' }, T0 + 120 * S)).alarm; // escalates to level 1
    a = ok(
      reduceAlarm(a, { type: 'assign', by: 'charge-1', assignee: 'nurse-7', reason: 'bay 3' }, T0 + 130 * S),
    ).alarm;
    a = ok(reduceAlarm(a, { type: 'acknowledge', by: 'nurse-7', reason: 'at bedside' }, T0 + 140 * S)).alarm;
    const flag = alarmToFlag(a);
    expectValid(flag);
    expect(flag.status).toBe('active');
    expect(flag.meta?.lastUpdated).toBe(iso(T0 + 140 * S));
    expect(flag.period).toEqual({ start: iso(T0) });
    expect(statePart(flag, 'state')?.valueCode).toBe('acknowledged');
    expect(statePart(flag, 'acknowledgedBy')?.valueString).toBe('nurse-7');
    expect(statePart(flag, 'acknowledgedAt')?.valueDateTime).toBe(iso(T0 + 140 * S));
    expect(statePart(flag, 'assignee')?.valueString).toBe('nurse-7');
    expect(statePart(flag, 'escalationLevel')?.valueInteger).toBe(1);
  });

  it('makes a resolved alarm inactive with the period closed at resolution', () => {
    let a = raiseAlarm(hrHigh, T0).alarm;
    a = ok(reduceAlarm(a, { type: 'condition-cleared', by: 'rules', reason: 'HR 90' }, T0 + 500 * S)).alarm;
    a = ok(reduceAlarm(a, { type: 'resolve', by: 'dr-2', reason: 'treated' }, T0 + 600 * S)).alarm;
    const flag = alarmToFlag(a);
    expectValid(flag);
    expect(flag.status).toBe('inactive');
    expect(flag.period).toEqual({ start: iso(T0), end: iso(T0 + 600 * S) });
    expect(statePart(flag, 'state')?.valueCode).toBe('resolved');
    expect(statePart(flag, 'resolvedBy')?.valueString).toBe('dr-2');
  });

  it('records a snooze and a cleared condition', () => {
    let a = raiseAlarm({ ...hrHigh, priority: 'medium' }, T0).alarm;
    a = ok(
      reduceAlarm(a, { type: 'snooze', by: 'nurse-1', durationMs: 60 * S, reason: 'repositioning' }, T0 + S),
    ).alarm;
    a = ok(reduceAlarm(a, { type: 'condition-cleared', by: 'rules', reason: 'HR 100' }, T0 + 2 * S)).alarm;
    const flag = alarmToFlag(a);
    expectValid(flag);
    expect(statePart(flag, 'snoozedUntil')?.valueDateTime).toBe(iso(T0 + 61 * S));
    expect(statePart(flag, 'conditionPresent')?.valueBoolean).toBe(false);
  });

  it('maps each priority to PL/PM/PH', () => {
    const codes = ALARM_PRIORITIES.map((priority) => {
      const flag = alarmToFlag(raiseAlarm({ ...hrHigh, priority }, T0).alarm);
      return ext(flag.extension, FLAG_PRIORITY_EXTENSION)?.valueCodeableConcept?.coding?.[0]?.code;
    });
    expect(codes).toEqual(['PL', 'PM', 'PH']);
  });

  it("files technical alarms under 'safety' and points at the device they concern", () => {
    const flag = alarmToFlag(
      raiseAlarm(
        {
          ...hrHigh,
          condition: 'technical:lead-off:ecg_1',
          category: 'technical',
          priority: 'medium',
          reason: 'device reports lead off',
        },
        T0,
      ).alarm,
      { deviceId: 'openiomt-platform' },
    );
    expectValid(flag);
    expect(flag.category?.[0]?.coding?.[0]?.code).toBe('safety');
    expect(flag.code.coding?.[0]).toMatchObject({ code: 'technical:lead-off:ecg_1', display: 'Lead off' });
    // 'ecg_1' is no FHIR id: the reference uses the same name-based id the Device resource gets.
    expect(ext(flag.extension, FLAG_DETAIL_EXTENSION)?.valueReference).toEqual({
      reference: `Device/${fhirId('Device', 'ecg_1')}`,
    });
    expect(flag.author).toEqual({ reference: 'Device/openiomt-platform' });
  });

  it('gives ids that are no FHIR ids a stable name-based one, and keeps the raw id as identifier', () => {
    const a = raiseAlarm({ ...hrHigh, id: 'alarm_1', patientId: 'p|1' }, T0).alarm;
    const flag = alarmToFlag(a);
    expectValid(flag);
    expect(flag.id).toMatch(FHIR_ID_PATTERN);
    expect(flag.id).toBe(alarmToFlag(a).id);
    expect(flag.identifier?.[0]?.value).toBe('alarm_1');
    expect(flag.subject.reference).toBe(`Patient/${fhirId('Patient', 'p|1')}`);
  });

  it('carries a condition that is no FHIR code as text only', () => {
    const flag = alarmToFlag(raiseAlarm({ ...hrHigh, condition: ' odd  rule ' }, T0).alarm);
    expectValid(flag);
    expect(flag.code).toEqual({ text: 'Alarm condition: odd rule' });
  });

  it('refuses times FHIR cannot carry instead of writing a broken resource', () => {
    const a = raiseAlarm(hrHigh, T0).alarm;
    expect(() => alarmToFlag({ ...a, raisedAt: Number.NaN })).toThrow(/raisedAt/);
    expect(() => alarmToFlag({ ...a, updatedAt: 253_402_300_800_000 })).toThrow(/updatedAt/);
  });
});

describe('notificationToCommunication', () => {
  const raised = raiseAlarm(hrHigh, T0);
  const [first] = noticesOf(raised.alarm, raised.effects, 'n1');

  it('maps the raise notification', () => {
    if (!first) throw new Error('raise must notify');
    const c = notificationToCommunication(first, raised.alarm);
    expectValid(c);
    expect(c).toEqual({
      resourceType: 'Communication',
      id: first.id,
      identifier: [{ system: 'urn:openiomt:alarm-notification', value: first.id }],
      extension: [{ url: ALARM_ESCALATION_LEVEL_EXTENSION, valueInteger: 0 }],
      status: 'completed',
      category: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/communication-category',
              code: 'alert',
              display: 'Alert',
            },
          ],
        },
      ],
      priority: 'stat',
      subject: { reference: 'Patient/pat-1' },
      about: [{ reference: `Flag/${hrHigh.id}` }],
      sent: iso(T0),
      reasonCode: [
        { coding: [{ system: ALARM_NOTIFICATION_KIND_SYSTEM, code: 'notify', display: 'Notification' }] },
      ],
      payload: [
        {
          contentString:
            'Notification: high priority alarm, Heart rate high, escalation level 0. Reason: HR 135 > 120 for 10 s.',
        },
      ],
    });
  });

  it('maps priorities to stat/urgent/routine', () => {
    const priorities = ALARM_PRIORITIES.map((priority) => {
      const r = raiseAlarm({ ...hrHigh, priority }, T0);
      const [n] = noticesOf(r.alarm, r.effects, 'n');
      if (!n) throw new Error('raise must notify');
      return notificationToCommunication(n, r.alarm).priority;
    });
    expect(priorities).toEqual(['routine', 'urgent', 'stat']);
  });

  it('addresses an escalation to the assignee and says so in the payload', () => {
    let a = raised.alarm;
    a = ok(
      reduceAlarm(a, { type: 'assign', by: 'charge-1', assignee: 'nurse-7', reason: 'bay 3' }, T0 + S),
    ).alarm;
    const r = ok(reduceAlarm(a, { type: 'tick' }, T0 + 121 * S));
    const escalation = noticesOf(r.alarm, r.effects, 'e').find((n) => n.kind === 'escalate');
    if (!escalation) throw new Error('the tick must escalate');
    const c = notificationToCommunication(escalation, r.alarm);
    expectValid(c);
    expect(c.recipient).toEqual([
      { type: 'Practitioner', identifier: { system: USER_IDENTIFIER_SYSTEM, value: 'nurse-7' } },
    ]);
    expect(c.reasonCode?.[0]?.coding?.[0]?.code).toBe('escalate');
    expect(c.extension).toEqual([{ url: ALARM_ESCALATION_LEVEL_EXTENSION, valueInteger: 1 }]);
    expect(c.payload?.[0]?.contentString).toBe(
      'Escalation: high priority alarm, Heart rate high, escalation level 1. Reason: not acknowledged within 120 s.',
    );
  });

  it('refuses a notification of another alarm or patient', () => {
    if (!first) throw new Error('raise must notify');
    expect(() => notificationToCommunication({ ...first, alarmId: 'other' }, raised.alarm)).toThrow(/alarm/);
    expect(() => notificationToCommunication({ ...first, patientId: 'pat-2' }, raised.alarm)).toThrow(
      /patient/,
    );
  });
});

describe('every alarm the reducer makes maps to valid R4', () => {
  const actor = fc.constantFrom('nurse-1', 'dr-2', 'rules', 'nurse 3', 'x\u000by');
  const reason = fc.constantFrom('seen', 'HR 140 again.', 'a\nb', 'r');
  const event: fc.Arbitrary<AlarmEvent> = fc.oneof(
    fc.constant<AlarmEvent>({ type: 'tick' }),
    fc.record({ type: fc.constant('acknowledge' as const), by: actor, reason }),
    fc.record({ type: fc.constant('assign' as const), by: actor, assignee: actor, reason }),
    fc.record({
      type: fc.constant('snooze' as const),
      by: actor,
      durationMs: fc.integer({ min: -10, max: 2000 }).map((s) => s * S),
      reason,
    }),
    fc.record({ type: fc.constant('escalate' as const), by: actor, reason }),
    fc.record({ type: fc.constant('resolve' as const), by: actor, reason }),
    fc.record({ type: fc.constant('condition-cleared' as const), by: actor, reason }),
    fc.record(
      {
        type: fc.constant('condition-onset' as const),
        by: actor,
        reason,
        priority: fc.constantFrom(...ALARM_PRIORITIES),
      },
      { requiredKeys: ['type', 'by', 'reason'] },
    ),
  );
  const policy: fc.Arbitrary<AlarmPolicy | undefined> = fc.option(
    fc.record({
      escalateAfterMs: fc.integer({ min: 1, max: 600 }).map((s) => s * S),
      maxEscalationLevel: fc.integer({ min: 0, max: 4 }),
      reminderIntervalMs: fc.integer({ min: 1, max: 600 }).map((s) => s * S),
      autoResolve: fc.boolean(),
      clearHoldMs: fc.integer({ min: 0, max: 120 }).map((s) => s * S),
      reactivateOnOnset: fc.boolean(),
      maxSnoozeMs: fc.integer({ min: 1, max: 1800 }).map((s) => s * S),
    }),
    { nil: undefined },
  );
  const raise: fc.Arbitrary<RaiseAlarm> = fc.record({
    id: fc.oneof(fc.uuid(), fc.constantFrom('alarm_1', 'a.1')),
    patientId: fc.oneof(fc.uuid(), fc.constantFrom('pat-1', 'p|1', 'p_2')),
    condition: fc.oneof(
      fc.constantFrom(
        'threshold:heart-rate:high',
        'threshold:spo2:low',
        'news2',
        'trend:heart-rate:rise',
        'technical:device-offline:ox_1',
        'technical:lead-off:ecg-1',
        'technical:low-battery:b1',
        'technical:poor-signal:p1',
        'rhythm:af',
      ),
      fc.string(),
    ),
    category: fc.constantFrom(...ALARM_CATEGORIES),
    priority: fc.constantFrom(...ALARM_PRIORITIES),
    by: fc.constant('rules'),
    reason: reason,
    policy,
  });

  it('checks status, period, priority and notices at every step', () => {
    fc.assert(
      fc.property(
        raise,
        fc.integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2090-01-01T00:00:00Z') }),
        fc.array(fc.tuple(event, fc.integer({ min: 0, max: 400 })), { maxLength: 30 }),
        fc.option(fc.constantFrom('openiomt-platform', 'dev_1'), { nil: undefined }),
        (input, t0, steps, deviceId) => {
          const first = raiseAlarm(input, t0);
          let alarm = first.alarm;
          let notices = noticesOf(alarm, first.effects, 'n0');
          let now = t0;
          const check = () => {
            const flag = alarmToFlag(alarm, deviceId === undefined ? {} : { deviceId });
            expectValid(flag);
            expect(flag.status).toBe(alarm.state === 'resolved' ? 'inactive' : 'active');
            expect(flag.period?.start).toBe(iso(alarm.raisedAt));
            expect(flag.period?.end).toBe(alarm.resolvedAt === undefined ? undefined : iso(alarm.resolvedAt));
            expect(statePart(flag, 'state')?.valueCode).toBe(alarm.state);
            expect(statePart(flag, 'escalationLevel')?.valueInteger).toBe(alarm.escalationLevel);
            const code = ext(flag.extension, FLAG_PRIORITY_EXTENSION)?.valueCodeableConcept?.coding?.[0]
              ?.code;
            expect(code).toBe({ low: 'PL', medium: 'PM', high: 'PH' }[alarm.priority]);
            for (const n of notices) {
              const c = notificationToCommunication(n, alarm);
              expectValid(c);
              expect(c.about).toEqual([{ reference: `Flag/${flag.id}` }]);
              expect(c.subject).toEqual(flag.subject);
              expect(c.status).toBe('completed');
              expect(c.priority).toBe({ low: 'routine', medium: 'urgent', high: 'stat' }[n.priority]);
              expect(c.recipient === undefined).toBe(n.assignee === undefined);
            }
          };
          check();
          for (const [i, [e, dt]] of steps.entries()) {
            now += dt * S;
            const r = reduceAlarm(alarm, e, now);
            if (!r.ok) continue;
            alarm = r.alarm;
            notices = noticesOf(alarm, r.effects, `n${i + 1}`);
            check();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
