/**
 * The people directory: whom a subject may find among the accounts (to name a clinician in a consent, add
 * a nurse to a care team, share with a caregiver). Pure, like authorize(): the platform looks the accounts
 * up and narrows them to the scope decided here. It holds no patient data, so it is not a cell of the
 * authorization matrix; the rules are written out in docs/access-policy.md ("The people directory").
 *
 * Least privilege: a signed-in person finds the clinicians and nurses (the care workforce, whom patients
 * name in their consent); an administrator also finds caregivers, administrators and researchers (to
 * manage care teams); a patient finds the caregivers they share with, and any other caregiver only by the
 * exact username the caregiver told them. Patient accounts are never found: patients are not a directory.
 *
 * The rule has two halves, both here so that the search and the lookup by id cannot drift apart:
 * directoryScope() says which roles the asker reaches and how, directoryFinds() whether one account is
 * found in that scope, and by which way of asking. The platform's queries only narrow before it.
 */
import { isAdministrator, isStaff, type Role, type Subject } from './subject.ts';

/**
 * How a role's accounts may be found: `by-name` by part of the display name or username;
 * `own-caregivers` by part of the name among the caregivers with a current grant from the asking patient,
 * and any other account of the role only by its exact username.
 */
export type DirectoryReach = 'by-name' | 'own-caregivers';

/** Per role of the accounts found, how far the subject reaches. A role not named is not found at all. */
export type DirectoryScope = Readonly<Partial<Record<Role, DirectoryReach>>>;

export type DirectoryDecision =
  | { readonly allow: true; readonly scope: DirectoryScope }
  | { readonly allow: false; readonly reason: string };

/** The roles an account can be found by, in a stable order; `patient` is never one of them. */
export const DIRECTORY_ROLES: readonly Role[] = [
  'clinician',
  'nurse',
  'caregiver',
  'administrator',
  'researcher',
];

const WORKFORCE: DirectoryScope = { clinician: 'by-name', nurse: 'by-name' };
const ADMINISTRATION: DirectoryScope = {
  clinician: 'by-name',
  nurse: 'by-name',
  caregiver: 'by-name',
  administrator: 'by-name',
  researcher: 'by-name',
};

/** What each role of the asking person adds to their scope (several roles: the widest reach of any). */
const BY_ROLE: Readonly<Record<Role, DirectoryScope>> = {
  clinician: WORKFORCE,
  nurse: WORKFORCE,
  researcher: WORKFORCE,
  caregiver: WORKFORCE,
  patient: { ...WORKFORCE, caregiver: 'own-caregivers' },
  // Only with a second factor (isAdministrator); checked below like the policy does.
  administrator: ADMINISTRATION,
};

/**
 * The subject's scope in the directory, narrowed to `role` when the search names one. Deny by default:
 * services other than the administrator token, apps acting with a user's token, staff without a second
 * factor and a role filter outside the scope are refused, with the reason.
 */
export function directoryScope(subject: Subject, role?: Role): DirectoryDecision {
  let scope: DirectoryScope;
  if (subject.kind === 'service') {
    if (!isAdministrator(subject)) return deny('services do not search the people directory');
    scope = ADMINISTRATION;
  } else {
    // An app acting for a person (OAuth token) gets data by its scopes; no scope names the directory.
    if (subject.scopes !== undefined) return deny("an app's token does not search the people directory");
    if (subject.roles.length === 0) return deny('the user has no role');
    if (isStaff(subject.roles) && !subject.mfa)
      return deny('multi-factor authentication is required for staff');
    scope = widest(subject.roles.map((r) => BY_ROLE[r]));
  }
  if (role === undefined) return { allow: true, scope };
  if (role === 'patient') return deny('the people directory lists no patients');
  const reach = scope[role];
  return reach === undefined
    ? deny(`you may not look for ${role} accounts`)
    : { allow: true, scope: { [role]: reach } };
}

/**
 * How the asker comes upon an account: by part of its display name or username (a search), by its exact
 * username typed in full (a search), or by its id (the lookup of people already named on a screen, such
 * as those hidden from in a consent). A lookup by id reaches exactly what a search by part of the name
 * does: an id is not a secret the person told, so it does not open the exact-username door.
 */
export type DirectoryWay = 'part-of-name' | 'exact-username' | 'id';

/** An account as the rule sees it: its roles, and whether it is a current caregiver of the asking patient. */
export interface DirectoryAccount {
  readonly roles: readonly Role[];
  readonly ownCaregiver: boolean;
}

/** Whether the account is found in the scope, asked for this way. Patients are never found (no scope has them). */
export function directoryFinds(scope: DirectoryScope, account: DirectoryAccount, way: DirectoryWay): boolean {
  return account.roles.some((r) => {
    const reach = scope[r];
    if (reach === 'by-name') return true;
    return reach === 'own-caregivers' && (account.ownCaregiver || way === 'exact-username');
  });
}

/**
 * The roles of a found account that the asker is shown: only those they may look for, so a patient does
 * not learn that their caregiver, or a clinician, is also a patient.
 */
export const directoryRolesShown = (scope: DirectoryScope, roles: readonly Role[]): Role[] =>
  roles.filter((r) => r !== 'patient' && scope[r] !== undefined);

/** The scope's roles by reach, in DIRECTORY_ROLES order: what a store's query narrows to. */
export function directoryReaches(scope: DirectoryScope): {
  readonly byName: readonly Role[];
  readonly ownCaregivers: readonly Role[];
} {
  return {
    byName: DIRECTORY_ROLES.filter((r) => scope[r] === 'by-name'),
    ownCaregivers: DIRECTORY_ROLES.filter((r) => scope[r] === 'own-caregivers'),
  };
}

function widest(scopes: readonly DirectoryScope[]): DirectoryScope {
  const out: Partial<Record<Role, DirectoryReach>> = {};
  for (const s of scopes)
    for (const r of DIRECTORY_ROLES) {
      const reach = s[r];
      if (reach !== undefined && out[r] !== 'by-name') out[r] = reach;
    }
  return out;
}

const deny = (reason: string): DirectoryDecision => ({ allow: false, reason });
