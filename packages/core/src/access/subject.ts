/**
 * Who is asking: the authenticated subject every access decision is made for. Users have one or more roles;
 * a patient (or a caregiver acting for one) is tied to a patient compartment. Pure types, no I/O.
 */

export const ROLES = ['clinician', 'nurse', 'patient', 'caregiver', 'administrator', 'researcher'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that are staff: multi-factor authentication is required for them by default. */
export const STAFF_ROLES: readonly Role[] = ['clinician', 'nurse', 'administrator', 'researcher'];

export interface Subject {
  /** A person signed in, or a system acting with scopes (the administrator token, backend services). */
  readonly kind: 'user' | 'service';
  /** The user id, or the service credential's name. */
  readonly userId: string;
  readonly roles: readonly Role[];
  /** The patient's own compartment, for a user with the patient role. */
  readonly patientId?: string;
  /** Whether this session passed a second factor (TOTP or passkey). */
  readonly mfa: boolean;
  readonly sessionId?: string;
  /**
   * A service's SMART-style scopes, e.g. `system/Observation.read`, `system/*.*`; a service has no roles and
   * is allowed only what its scopes name.
   */
  readonly scopes?: readonly string[];
}

export const isStaff = (roles: readonly Role[]): boolean => roles.some((r) => STAFF_ROLES.includes(r));

/** The Subject userId prefix of an OAuth client acting for itself (client credentials). */
export const OAUTH_CLIENT_PREFIX = 'client:';

/**
 * May administer the platform itself (accounts, webhooks, security settings): an administrator signed in
 * to the platform (a browser session, with a second factor), or a service holding every scope (the
 * first-start administrator token). An OAuth token never administers: apps act on data by their scopes.
 */
export const isAdministrator = (s: Subject): boolean =>
  s.kind === 'service'
    ? !s.userId.startsWith(OAUTH_CLIENT_PREFIX) && (s.scopes ?? []).includes('system/*.*')
    : s.roles.includes('administrator') && s.mfa && s.scopes === undefined;
