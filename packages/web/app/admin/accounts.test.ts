import { describe, expect, it } from 'vitest';
import { accountState, newAccountBody, secondFactorText, setupLink, type User } from './accounts.ts';

const now = Date.UTC(2026, 0, 1);
const user = (extra: Partial<User> = {}): User => ({
  id: 'u1',
  username: 'alice',
  roles: ['nurse'],
  createdAt: '2025-12-01T00:00:00Z',
  passwordSet: true,
  failedLogins: 0,
  ...extra,
});

describe('accounts', () => {
  it('says the state of an account', () => {
    expect(accountState(user(), now)).toBe('active');
    expect(
      accountState(user({ disabledAt: '2025-12-02T00:00:00Z', lockedUntil: '2030-01-01T00:00:00Z' }), now),
    ).toBe('disabled');
    expect(accountState(user({ lockedUntil: '2026-01-01T00:15:00Z' }), now)).toBe('locked');
    expect(accountState(user({ lockedUntil: '2025-12-31T23:00:00Z' }), now)).toBe('active');
    expect(accountState(user({ passwordSet: false, setupExpiresAt: '2026-01-01T10:00:00Z' }), now)).toBe(
      'set-up pending',
    );
    expect(accountState(user({ passwordSet: false, setupExpiresAt: '2025-12-31T10:00:00Z' }), now)).toBe(
      'set-up expired',
    );
  });

  it('says whether the second factor is there, and whether it is needed', () => {
    expect(secondFactorText(user())).toMatch(/no authenticator yet/);
    expect(secondFactorText(user({ totpEnrolledAt: '2025-12-01T00:00:00Z' }))).toBe('authenticator set up');
    expect(secondFactorText(user({ roles: ['patient'] }))).toBe('password only');
  });

  it('builds the create body, naming the field at fault', () => {
    expect(
      newAccountBody({
        username: ' Alice ',
        displayName: ' Alice A ',
        roles: ['nurse', 'clinician'],
        patientId: '',
      }),
    ).toEqual({
      ok: true,
      body: { username: 'alice', roles: ['clinician', 'nurse'], displayName: 'Alice A' },
    });
    expect(
      newAccountBody({ username: 'bob', displayName: '', roles: ['patient'], patientId: 'p-42' }),
    ).toEqual({
      ok: true,
      body: { username: 'bob', roles: ['patient'], patientId: 'p-42' },
    });
    expect(
      newAccountBody({ username: 'bo', displayName: '', roles: ['nurse'], patientId: '' }),
    ).toMatchObject({
      ok: false,
      field: 'username',
    });
    expect(newAccountBody({ username: 'bob', displayName: '', roles: [], patientId: '' })).toMatchObject({
      field: 'roles',
    });
    expect(
      newAccountBody({ username: 'bob', displayName: '', roles: ['patient'], patientId: ' ' }),
    ).toMatchObject({
      field: 'patientId',
    });
    expect(
      newAccountBody({ username: 'bob', displayName: '', roles: ['nurse'], patientId: 'p1' }),
    ).toMatchObject({
      field: 'patientId',
    });
  });

  it('makes the set-up link from the origin and the path the platform gave', () => {
    expect(setupLink('https://iomt.example', '/setup#token=oisu_x')).toBe(
      'https://iomt.example/setup#token=oisu_x',
    );
  });
});
