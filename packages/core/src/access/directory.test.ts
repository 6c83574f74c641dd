/**
 * The people directory's rule for every combination of the asker's roles (all 64 sets), second factor,
 * app token and role filter, against the table in docs/access-policy.md ("The people directory"), written
 * out again here independently of the implementation.
 */
import { describe, expect, it } from 'vitest';
import {
  DIRECTORY_ROLES,
  type DirectoryReach,
  type DirectoryWay,
  directoryFinds,
  directoryReaches,
  directoryRolesShown,
  directoryScope,
} from './directory.ts';
import { ROLES, type Role, type Subject } from './subject.ts';

/** The doc's table: what each asking role finds. */
const TABLE: Record<Role, Partial<Record<Role, DirectoryReach>>> = {
  clinician: { clinician: 'by-name', nurse: 'by-name' },
  nurse: { clinician: 'by-name', nurse: 'by-name' },
  researcher: { clinician: 'by-name', nurse: 'by-name' },
  caregiver: { clinician: 'by-name', nurse: 'by-name' },
  patient: { clinician: 'by-name', nurse: 'by-name', caregiver: 'own-caregivers' },
  administrator: {
    clinician: 'by-name',
    nurse: 'by-name',
    caregiver: 'by-name',
    administrator: 'by-name',
    researcher: 'by-name',
  },
};
const STAFF: readonly Role[] = ['clinician', 'nurse', 'administrator', 'researcher'];

/** Every subset of the roles, by bit mask. */
const subsets = (xs: readonly Role[]): Role[][] =>
  Array.from({ length: 1 << xs.length }, (_, mask) => xs.filter((_, i) => (mask >> i) & 1));

function expected(roles: readonly Role[], mfa: boolean, app: boolean, filter: Role | undefined) {
  if (app || roles.length === 0 || (roles.some((r) => STAFF.includes(r)) && !mfa)) return undefined;
  const scope: Partial<Record<Role, DirectoryReach>> = {};
  for (const r of roles)
    for (const [found, reach] of Object.entries(TABLE[r]) as [Role, DirectoryReach][])
      if (scope[found] !== 'by-name') scope[found] = reach;
  if (filter === undefined) return scope;
  const reach = scope[filter];
  return reach === undefined ? undefined : { [filter]: reach };
}

describe('the people directory', () => {
  it('decides every combination as the table says', () => {
    let cells = 0;
    for (const roles of subsets(ROLES))
      for (const mfa of [true, false])
        for (const app of [false, true])
          for (const filter of [undefined, ...ROLES]) {
            const subject: Subject = {
              kind: 'user',
              userId: 'u1',
              roles,
              mfa,
              ...(app ? { scopes: ['user/*.read'] } : {}),
              ...(roles.includes('patient') ? { patientId: 'p1' } : {}),
            };
            const d = directoryScope(subject, filter);
            const want = expected(roles, mfa, app, filter);
            const where = `${roles.join('+') || 'none'} mfa=${mfa} app=${app} role=${filter}`;
            if (want === undefined) expect(d.allow, where).toBe(false);
            else expect(d, where).toEqual({ allow: true, scope: want });
            cells++;
          }
    expect(cells).toBe(64 * 2 * 2 * 7);
  });

  it('never finds patient accounts, whoever asks', () => {
    for (const roles of subsets(ROLES)) {
      const d = directoryScope({ kind: 'user', userId: 'u', roles, mfa: true });
      if (d.allow) expect(Object.keys(d.scope)).not.toContain('patient');
      const filtered = directoryScope({ kind: 'user', userId: 'u', roles, mfa: true }, 'patient');
      expect(filtered).toEqual({ allow: false, reason: expect.any(String) });
    }
    expect(DIRECTORY_ROLES).not.toContain('patient');
  });

  it('gives the administrator token the administration scope and other services nothing', () => {
    const token = directoryScope({
      kind: 'service',
      userId: 'admin-token',
      roles: [],
      mfa: true,
      scopes: ['system/*.*'],
    });
    expect(token).toEqual({ allow: true, scope: TABLE.administrator });
    const backend = directoryScope({
      kind: 'service',
      userId: 'client:lab',
      roles: [],
      mfa: true,
      scopes: ['system/*.*'],
    });
    expect(backend).toEqual({ allow: false, reason: 'services do not search the people directory' });
  });

  it('says why a patient may not look for administrators', () => {
    const d = directoryScope(
      { kind: 'user', userId: 'u', roles: ['patient'], patientId: 'p', mfa: false },
      'administrator',
    );
    expect(d).toEqual({ allow: false, reason: 'you may not look for administrator accounts' });
  });

  it('finds each account as the doc says, and by id exactly what a search by name finds', () => {
    /** The doc's prose, account by account: who asks, the account's roles, their grant, the way asked. */
    const doc = (asker: readonly Role[], account: readonly Role[], own: boolean, way: DirectoryWay) =>
      account.some((r) => {
        if (r === 'clinician' || r === 'nurse') return true;
        if (r === 'patient') return false;
        if (asker.includes('administrator')) return true;
        return r === 'caregiver' && asker.includes('patient') && (own || way === 'exact-username');
      });
    const ways: DirectoryWay[] = ['part-of-name', 'exact-username', 'id'];
    let cells = 0;
    for (const asker of subsets(ROLES).filter((r) => r.length > 0)) {
      const d = directoryScope({ kind: 'user', userId: 'u', roles: asker, patientId: 'p', mfa: true });
      if (!d.allow) throw new Error(`${asker.join('+')} is refused`);
      for (const account of subsets(ROLES))
        for (const own of [false, true])
          for (const way of ways) {
            const where = `${asker.join('+')} finds ${account.join('+') || 'none'} own=${own} by ${way}`;
            const found = directoryFinds(d.scope, { roles: account, ownCaregiver: own }, way);
            expect(found, where).toBe(doc(asker, account, own, way));
            if (way === 'id')
              expect(found, where).toBe(
                directoryFinds(d.scope, { roles: account, ownCaregiver: own }, 'part-of-name'),
              );
            // A found account shows a role, never `patient`.
            const shown = directoryRolesShown(d.scope, account);
            expect(shown, where).not.toContain('patient');
            if (found) expect(shown.length, where).toBeGreaterThan(0);
            cells++;
          }
    }
    expect(cells).toBe(63 * 64 * 2 * 3);
  });

  it("splits a scope by reach for the store's query", () => {
    const patient = directoryScope({
      kind: 'user',
      userId: 'u',
      roles: ['patient'],
      patientId: 'p',
      mfa: false,
    });
    expect(patient.allow && directoryReaches(patient.scope)).toEqual({
      byName: ['clinician', 'nurse'],
      ownCaregivers: ['caregiver'],
    });
    expect(directoryReaches(TABLE.administrator)).toEqual({ byName: DIRECTORY_ROLES, ownCaregivers: [] });
  });
});
