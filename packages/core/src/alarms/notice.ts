import type { AlarmPriority } from './vocabulary.ts';

/**
 * One notification an alarm caused (a `notify`, `remind` or `escalate` effect the platform carried out),
 * as recorded and delivered by webhook. The platform's bus `AlarmNotification` has this shape; it lives
 * here so the pure FHIR mapping (Communication) can name it without importing the platform.
 */
export interface AlarmNotice {
  readonly id: string;
  readonly alarmId: string;
  readonly patientId: string;
  /** Epoch ms. */
  readonly at: number;
  readonly kind: 'notify' | 'remind' | 'escalate';
  readonly priority: AlarmPriority;
  readonly level: number;
  readonly assignee?: string;
  readonly reason: string;
}
