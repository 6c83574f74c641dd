/**
 * Alarm vocabulary of IEC 60601-1-8 (general requirements for alarm systems in medical electrical
 * equipment): an alarm condition is physiological (about the patient) or technical (about the
 * equipment), and its priority says how fast someone must respond.
 */

/** high: immediate response; medium: prompt response; low: awareness (IEC 60601-1-8, 6.1.2). */
export const ALARM_PRIORITIES = ['low', 'medium', 'high'] as const;
export type AlarmPriority = (typeof ALARM_PRIORITIES)[number];

export const ALARM_CATEGORIES = ['physiological', 'technical'] as const;
export type AlarmCategory = (typeof ALARM_CATEGORIES)[number];

/** Orders priorities: positive when a is more urgent than b. */
export const comparePriority = (a: AlarmPriority, b: AlarmPriority): number =>
  ALARM_PRIORITIES.indexOf(a) - ALARM_PRIORITIES.indexOf(b);

/**
 * The key of "at most one open alarm per patient and condition"; the store puts a unique index on it.
 * The patient id is percent-encoded so the first `|` always separates the two parts unambiguously.
 */
export const alarmKey = (patientId: string, condition: string): string =>
  `${encodeURIComponent(patientId)}|${condition}`;
