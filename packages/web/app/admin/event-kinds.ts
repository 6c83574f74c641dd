/**
 * The kinds the dead-letter and security-event filters offer. They restate the platform's lists (core
 * message/rejection.ts, platform store/types.ts) because the browser bundle does not import them; a test
 * in the platform (web/event-kinds.test.ts) keeps the two the same.
 */

/** Why a device message was refused. */
export const REJECTION_CODES = [
  'malformed-jws',
  'unsupported-algorithm',
  'unknown-key',
  'bad-signature',
  'unknown-device',
  'device-revoked',
  'device-quarantined',
  'device-mismatch',
  'topic-not-allowed',
  'replay',
  'stale-timestamp',
  'oversize',
  'schema-violation',
  'implausible-value',
  'unassigned-device',
] as const;

/** Security event kinds: the refusals that are attacks, and these. */
export const SECURITY_KINDS = [
  ...REJECTION_CODES,
  'auth-failed',
  'acl-denied',
  'device-revoked',
  'device-released',
  'intrusion-detected',
  'key-enrolled',
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
