/**
 * People's accounts as the admin console shows them: the state of an account in words, the create body
 * from the form (a patient account must name its patient record, and only a patient account may), and
 * the one-time set-up link to hand over.
 */

export const ROLES = ['clinician', 'nurse', 'patient', 'caregiver', 'administrator', 'researcher'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_TEXT: Readonly<Record<Role, string>> = {
  clinician: 'Clinician',
  nurse: 'Nurse',
  patient: 'Patient',
  caregiver: 'Caregiver',
  administrator: 'Administrator',
  researcher: 'Researcher',
};

export const ROLE_HINT: Readonly<Record<Role, string>> = {
  clinician: 'Sees and acts for the patients of their care teams.',
  nurse: 'As a clinician, without exports or changing alarm limits.',
  patient: 'Their own data only; needs the patient record id.',
  caregiver: 'What patients share with them.',
  administrator: 'Devices, accounts, care teams and the audit log; no clinical data.',
  researcher: 'De-identified data of patients who agreed to research.',
};

/** An account as `GET /api/v1/admin/users` lists it. */
export interface User {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly string[];
  readonly patientId?: string;
  readonly displayName?: string;
  readonly createdAt: string;
  readonly passwordSet: boolean;
  readonly totpEnrolledAt?: string;
  readonly failedLogins: number;
  readonly lockedUntil?: string;
  readonly setupExpiresAt?: string;
  readonly disabledAt?: string;
}

/** `POST /api/v1/admin/users` and `…/setup-link`. */
export interface SetupLink {
  readonly setupToken: string;
  readonly setupPath: string;
  readonly setupExpiresAt: string;
}

export type AccountState = 'disabled' | 'locked' | 'set-up pending' | 'set-up expired' | 'active';

export function accountState(u: User, now: number): AccountState {
  if (u.disabledAt !== undefined) return 'disabled';
  if (u.lockedUntil !== undefined && Date.parse(u.lockedUntil) > now) return 'locked';
  if (!u.passwordSet)
    return u.setupExpiresAt !== undefined && Date.parse(u.setupExpiresAt) > now
      ? 'set-up pending'
      : 'set-up expired';
  return 'active';
}

/** Staff need an authenticator; whether this one has it, in words. */
export function secondFactorText(u: User): string {
  const staff = u.roles.some((r) => r !== 'patient' && r !== 'caregiver');
  if (u.totpEnrolledAt !== undefined) return 'authenticator set up';
  return staff ? 'no authenticator yet (set up at first sign-in)' : 'password only';
}

export interface NewAccountForm {
  readonly username: string;
  readonly displayName: string;
  readonly roles: readonly string[];
  readonly patientId: string;
}

type Checked<T> = { ok: true; body: T } | { ok: false; field: string; problem: string };

const USERNAME = /^[a-z0-9][a-z0-9._@+-]{2,63}$/;

export function newAccountBody(
  f: NewAccountForm,
): Checked<{ username: string; roles: Role[]; displayName?: string; patientId?: string }> {
  const username = f.username.normalize('NFKC').trim().toLowerCase();
  if (!USERNAME.test(username))
    return {
      ok: false,
      field: 'username',
      problem: '3 to 64 characters: letters, digits and . _ @ + - (starting with a letter or digit).',
    };
  const roles = ROLES.filter((r) => f.roles.includes(r));
  if (roles.length === 0) return { ok: false, field: 'roles', problem: 'Choose at least one role.' };
  const patientId = f.patientId.trim();
  if (roles.includes('patient') && !patientId)
    return {
      ok: false,
      field: 'patientId',
      problem: 'A patient account needs the id of its own patient record.',
    };
  if (!roles.includes('patient') && patientId)
    return { ok: false, field: 'patientId', problem: 'Only a patient account points at a patient record.' };
  const displayName = f.displayName.trim();
  return {
    ok: true,
    body: { username, roles, ...(displayName ? { displayName } : {}), ...(patientId ? { patientId } : {}) },
  };
}

/** The link the person opens to choose their password (the token stays in the fragment). */
export const setupLink = (origin: string, setupPath: string): string => `${origin}${setupPath}`;
