/**
 * What the security-event log and the dead-letter store record, named once for the platform and for the
 * admin console's filters (which import this file alone: it has no dependencies beyond the rejection codes).
 */
import { REJECTION_CODES, type RejectionCode } from '../message/rejection.ts';

/** Security events other than refused messages (whose kinds are the rejection codes). */
export const SECURITY_EVENT_KINDS = [
  'auth-failed',
  'acl-denied',
  'protocol-violation',
  'device-revoked',
  'device-released',
  'intrusion-detected',
  'key-enrolled',
  'enrolment-refused',
  'key-rotated',
  'admin-auth-failed',
  'login-failed',
  'account-locked',
  'passkey-added',
  'passkey-removed',
  'access-denied',
  'break-glass',
  'erasure-requested',
  'erasure-completed',
  'erasure-rejected',
] as const;

export type SecurityEventKind = RejectionCode | (typeof SECURITY_EVENT_KINDS)[number];

/** Every reason a device message can be refused. */
export const REJECTION_CODE_LIST = Object.keys(REJECTION_CODES) as RejectionCode[];

/** Every kind of security event: the refusals and the events above, each once. */
export const SECURITY_KINDS: readonly SecurityEventKind[] = [
  ...new Set<SecurityEventKind>([...REJECTION_CODE_LIST, ...SECURITY_EVENT_KINDS]),
];

/**
 * The parts of the platform that raise security events of their own, a security event's `subsystem` (its
 * `source` is only ever a network address): device key enrolment and rotation, on a device's request (the
 * event's source is then the device's address), and intrusion detection, on nobody's.
 */
export const SECURITY_SUBSYSTEMS = ['enrolment', 'rotation', 'intrusion-detection'] as const;

export type SecuritySubsystem = (typeof SECURITY_SUBSYSTEMS)[number];
