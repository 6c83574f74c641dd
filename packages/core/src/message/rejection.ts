/**
 * Why a device message was refused. Every refusal carries one of these codes plus a precise detail;
 * the code is what devices see (MQTT 5 reason string, HTTP problem type), the detail goes to the
 * dead-letter store and the security log.
 */
export const REJECTION_CODES = {
  'malformed-jws': { security: false, summary: 'not a compact JWS' },
  'unsupported-algorithm': { security: true, summary: 'JWS algorithm is not EdDSA' },
  'unknown-key': { security: true, summary: 'no such device key' },
  'bad-signature': { security: true, summary: 'signature does not verify' },
  'unknown-device': { security: true, summary: 'device is not registered' },
  'device-revoked': { security: true, summary: 'device is revoked' },
  // Not a security event of its own: the quarantine was one, and each refusal is dead-lettered.
  'device-quarantined': { security: false, summary: 'device is quarantined' },
  'device-mismatch': { security: true, summary: 'message names another device' },
  'topic-not-allowed': { security: true, summary: "topic is not this device's" },
  replay: { security: true, summary: 'sequence number already used' },
  'stale-timestamp': { security: true, summary: 'timestamp outside the accepted window' },
  oversize: { security: false, summary: 'message too large' },
  'schema-violation': { security: false, summary: 'payload does not match the schema' },
  'implausible-value': { security: false, summary: 'value outside the physically possible range' },
  'unassigned-device': { security: false, summary: 'device has no patient at the reading time' },
} as const;

export type RejectionCode = keyof typeof REJECTION_CODES;

export interface Rejection {
  readonly code: RejectionCode;
  /** Precise, for operators: names the field at fault (JSON pointer) where there is one. */
  readonly detail: string;
  /** JSON pointer of the field at fault, e.g. /vitals/2/value. */
  readonly field?: string;
}

export const reject = (code: RejectionCode, detail: string, field?: string): Rejection =>
  field === undefined ? { code, detail } : { code, detail, field };

export const isSecurityRejection = (code: RejectionCode): boolean => REJECTION_CODES[code].security;

export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly rejection: Rejection };
export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T>(rejection: Rejection): Result<T> => ({ ok: false, rejection });
