/**
 * Alarms as FHIR R4: an alarm is a Flag (a prospective warning about the patient, with the standard
 * flag-priority extension carrying the IEC 60601-1-8 priority), and every notification it caused is a
 * Communication about that Flag. Our lifecycle details (acknowledged, assignee, escalation level) have no
 * R4 element, so they travel in extensions of ours.
 */
import type { Alarm } from '../alarms/model.ts';
import type { AlarmNotice } from '../alarms/notice.ts';
import type { AlarmCategory, AlarmPriority } from '../alarms/vocabulary.ts';
import { alarmConditionDeviceId, alarmConditionDisplay } from './alarm-condition.ts';
import { deviceReference, fhirId, patientReference } from './ids.ts';
import type { CodeableConcept, Coding, Communication, Extension, Flag } from './types.ts';

const OPENIOMT_SD = 'https://openiomt.org/fhir/StructureDefinition';
const OPENIOMT_CS = 'https://openiomt.org/fhir/CodeSystem';

/** Code system of alarm conditions: the rule's condition string is the code. */
export const ALARM_CONDITION_SYSTEM = `${OPENIOMT_CS}/alarm-condition`;
/** Complex extension on Flag: the alarm's lifecycle state (parts named by ALARM_STATE_PARTS). */
export const ALARM_STATE_EXTENSION = `${OPENIOMT_SD}/alarm-state`;
/** Code system of notification kinds (Communication.reasonCode): notify, remind, escalate. */
export const ALARM_NOTIFICATION_KIND_SYSTEM = `${OPENIOMT_CS}/alarm-notification-kind`;
/** valueInteger on Communication: the escalation level the notification went to (0 = first line). */
export const ALARM_ESCALATION_LEVEL_EXTENSION = `${OPENIOMT_SD}/alarm-escalation-level`;
export const ALARM_IDENTIFIER_SYSTEM = 'urn:openiomt:alarm';
export const ALARM_NOTIFICATION_IDENTIFIER_SYSTEM = 'urn:openiomt:alarm-notification';
/** Platform user ids (acknowledgedBy, assignee): there are no Practitioner resources for them yet. */
export const USER_IDENTIFIER_SYSTEM = 'urn:openiomt:user';

export const FLAG_PRIORITY_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/flag-priority';
export const FLAG_DETAIL_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/flag-detail';
const FLAG_PRIORITY_CODE = 'http://hl7.org/fhir/flag-priority-code';
const FLAG_CATEGORY = 'http://terminology.hl7.org/CodeSystem/flag-category';
const COMMUNICATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/communication-category';

/** The parts of ALARM_STATE_EXTENSION (relative urls, as complex extensions name their parts). */
export const ALARM_STATE_PARTS = {
  state: 'state',
  conditionPresent: 'conditionPresent',
  acknowledgedAt: 'acknowledgedAt',
  acknowledgedBy: 'acknowledgedBy',
  assignee: 'assignee',
  escalationLevel: 'escalationLevel',
  snoozedUntil: 'snoozedUntil',
  resolvedBy: 'resolvedBy',
} as const;

const FLAG_PRIORITY: Readonly<Record<AlarmPriority, Coding>> = {
  low: { system: FLAG_PRIORITY_CODE, code: 'PL', display: 'Low priority' },
  medium: { system: FLAG_PRIORITY_CODE, code: 'PM', display: 'Medium priority' },
  high: { system: FLAG_PRIORITY_CODE, code: 'PH', display: 'High priority' },
};

/**
 * Physiological alarms are about the patient's clinical data ('clinical'). Technical alarms say the
 * monitoring itself is failing (lead off, device offline, low battery): the patient may deteriorate
 * unseen, a safety precaution rather than an administrative matter, hence 'safety'.
 */
const FLAG_CATEGORY_OF: Readonly<Record<AlarmCategory, Coding>> = {
  physiological: { system: FLAG_CATEGORY, code: 'clinical', display: 'Clinical' },
  technical: { system: FLAG_CATEGORY, code: 'safety', display: 'Safety' },
};

/**
 * R4 request-priority by IEC 60601-1-8 meaning: high asks for immediate response ('stat': "actioned
 * immediately"), medium for prompt response ('urgent': "actioned promptly"), low for awareness
 * ('routine'). 'asap' sits between urgent and stat, a grade the alarm vocabulary does not have.
 */
export const COMMUNICATION_PRIORITY: Readonly<Record<AlarmPriority, NonNullable<Communication['priority']>>> =
  {
    high: 'stat',
    medium: 'urgent',
    low: 'routine',
  };

const KIND_DISPLAY: Readonly<Record<AlarmNotice['kind'], string>> = {
  notify: 'Notification',
  remind: 'Reminder',
  escalate: 'Escalation',
};

export interface AlarmToFlagOptions {
  /**
   * The Device that raised the alarm, for Flag.author: the platform's own Device (its rules raise every
   * alarm). Without it the Flag has no author.
   */
  readonly deviceId?: string;
}

/**
 * The Flag of an alarm: 'active' while active or acknowledged, 'inactive' once resolved; period runs from
 * raisedAt to resolvedAt. A technical alarm points at the device it concerns with flag-detail.
 */
export function alarmToFlag(alarm: Alarm, options: AlarmToFlagOptions = {}): Flag {
  const concerned = alarmConditionDeviceId(alarm.condition);
  const extension: Extension[] = [
    {
      url: FLAG_PRIORITY_EXTENSION,
      valueCodeableConcept: { coding: [{ ...FLAG_PRIORITY[alarm.priority] }] },
    },
    ...(concerned === undefined
      ? []
      : [{ url: FLAG_DETAIL_EXTENSION, valueReference: { reference: deviceReference(concerned) } }]),
    { url: ALARM_STATE_EXTENSION, extension: stateParts(alarm) },
  ];
  return {
    resourceType: 'Flag',
    id: fhirId('Flag', alarm.id),
    meta: { lastUpdated: instant(alarm.updatedAt, 'updatedAt') },
    extension,
    identifier: [{ system: ALARM_IDENTIFIER_SYSTEM, value: alarm.id }],
    status: alarm.state === 'resolved' ? 'inactive' : 'active',
    category: [{ coding: [{ ...FLAG_CATEGORY_OF[alarm.category] }] }],
    code: alarmConditionConcept(alarm.condition),
    subject: { reference: patientReference(alarm.patientId) },
    period: {
      start: instant(alarm.raisedAt, 'raisedAt'),
      ...(alarm.resolvedAt === undefined ? {} : { end: instant(alarm.resolvedAt, 'resolvedAt') }),
    },
    ...(options.deviceId === undefined ? {} : { author: { reference: deviceReference(options.deviceId) } }),
  };
}

/** Flag.code: the condition as a code of ours with its display; text alone if it is no valid FHIR code. */
export function alarmConditionConcept(condition: string): CodeableConcept {
  const display = alarmConditionDisplay(condition);
  return FHIR_CODE.test(condition)
    ? { coding: [{ system: ALARM_CONDITION_SYSTEM, code: condition, display }], text: display }
    : { text: display };
}

/**
 * The Communication of one notification: an alert about the alarm's Flag, to the assignee when there is
 * one (a logical Practitioner reference by user id). The payload is one plain sentence: kind, priority,
 * condition, level and reason, and nothing about the patient beyond the subject reference.
 */
export function notificationToCommunication(n: AlarmNotice, alarm: Alarm): Communication {
  if (n.alarmId !== alarm.id) throw new Error('notification belongs to another alarm');
  if (n.patientId !== alarm.patientId) throw new Error('notification names another patient than its alarm');
  const assignee = fhirString(n.assignee);
  return {
    resourceType: 'Communication',
    id: fhirId('Communication', n.id),
    identifier: [{ system: ALARM_NOTIFICATION_IDENTIFIER_SYSTEM, value: n.id }],
    extension: [{ url: ALARM_ESCALATION_LEVEL_EXTENSION, valueInteger: n.level }],
    status: 'completed',
    category: [{ coding: [{ system: COMMUNICATION_CATEGORY, code: 'alert', display: 'Alert' }] }],
    priority: COMMUNICATION_PRIORITY[n.priority],
    subject: { reference: patientReference(n.patientId) },
    about: [{ reference: `Flag/${fhirId('Flag', alarm.id)}` }],
    sent: instant(n.at, 'notification at'),
    ...(assignee === undefined ? {} : { recipient: [userReference(assignee)] }),
    reasonCode: [
      {
        coding: [{ system: ALARM_NOTIFICATION_KIND_SYSTEM, code: n.kind, display: KIND_DISPLAY[n.kind] }],
      },
    ],
    payload: [{ contentString: noticeSentence(n, alarm.condition) }],
  };
}

/** e.g. "Escalation: high priority alarm, Heart rate high, escalation level 2. Reason: not acknowledged within 120 s." */
export function noticeSentence(n: AlarmNotice, condition: string): string {
  const head = `${KIND_DISPLAY[n.kind]}: ${n.priority} priority alarm, ${alarmConditionDisplay(condition)}, escalation level ${n.level}.`;
  let reason = fhirString(n.reason) ?? '';
  while (reason.endsWith('.')) reason = reason.slice(0, -1); // the sentence adds its own full stop
  return reason ? `${head} Reason: ${reason}.` : head;
}

function stateParts(alarm: Alarm): Extension[] {
  const P = ALARM_STATE_PARTS;
  const parts: Extension[] = [
    { url: P.state, valueCode: alarm.state },
    { url: P.conditionPresent, valueBoolean: alarm.conditionPresent },
    { url: P.escalationLevel, valueInteger: alarm.escalationLevel },
  ];
  const time = (url: string, ms: number | undefined, what: string) => {
    if (ms !== undefined) parts.push({ url, valueDateTime: instant(ms, what) });
  };
  const text = (url: string, value: string | undefined) => {
    const s = fhirString(value);
    if (s !== undefined) parts.push({ url, valueString: s });
  };
  time(P.acknowledgedAt, alarm.acknowledgedAt, 'acknowledgedAt');
  text(P.acknowledgedBy, alarm.acknowledgedBy);
  text(P.assignee, alarm.assignee);
  time(P.snoozedUntil, alarm.snoozedUntil, 'snoozedUntil');
  text(P.resolvedBy, alarm.resolvedBy);
  return parts;
}

const userReference = (userId: string) => ({
  type: 'Practitioner',
  identifier: { system: USER_IDENTIFIER_SYSTEM, value: userId },
});

/** R4 `code`: no leading, trailing or repeated whitespace. */
const FHIR_CODE = /^[^\s]+(\s[^\s]+)*$/;

/** A valid R4 string (no whitespace but space, tab, CR, LF; not empty), or undefined when nothing is left. */
function fhirString(s: string | undefined): string | undefined {
  const text = s
    ?.replace(/\p{Cc}/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text ? text : undefined;
}

/** FHIR's dateTime/instant years run 0001..9999; epoch ms outside that (or NaN) is a broken alarm. */
const FIRST_INSTANT = -62_135_596_800_000; // 0001-01-01T00:00:00.000Z
const LAST_INSTANT = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

function instant(ms: number, what: string): string {
  if (!(Number.isFinite(ms) && ms >= FIRST_INSTANT && ms <= LAST_INSTANT)) {
    throw new RangeError(`alarm ${what} is not a time FHIR can carry: ${ms}`);
  }
  return new Date(ms).toISOString();
}
