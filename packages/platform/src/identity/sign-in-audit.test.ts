/**
 * Sign-in and sign-out in the audit log (docs/audit.md): a `login` record when a session becomes a full
 * sign-in (never after the password alone, when a second factor is still due), a `logout` record when a full
 * sign-in ends. Failed sign-ins are security events (lockout.test.ts), not audit records.
 */
import { auditEventResource } from '@openiomt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredAuditRecord } from '../audit/audit-log.ts';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import { Browser, type Harness, provisionAccount, startIdentityServer } from './testing.ts';
import { totpCode } from './totp.ts';

const LOGIN = '/api/v1/auth/login';

describe.each(storeBackends())('sign-in audit records on $name', ({ open }) => {
  let store: DisposableStore;
  let h: Harness;

  beforeAll(async () => {
    store = await open();
    h = await startIdentityServer(store);
  });
  afterAll(async () => {
    await h?.close();
    await store?.dispose();
  });

  /** Records made at one instant have no order among them: each step moves the test's clock on a little. */
  const tick = () => {
    h.clock.now += 1;
  };
  /** The person's audit records, oldest first. */
  const recordsOf = async (userId: string): Promise<StoredAuditRecord[]> =>
    (await store.audit.list({ actor: userId, limit: 100 })).items.reverse();

  it('a password sign-in that needs no second factor is a login; signing out is a logout', async () => {
    const patient = await store.patients.create({});
    const u = await provisionAccount(h, { username: 'audit.pat', roles: ['patient'], patientId: patient.id });
    const b = new Browser(h.base);
    expect((await b.post(LOGIN, { username: 'audit.pat', password: u.password })).json.signedIn).toBe(true);
    const [login] = await recordsOf(u.id);
    expect(login).toMatchObject({
      actor: u.id,
      actorRole: 'patient',
      action: 'login',
      outcome: 'success',
      source: '127.0.0.1',
      detail: { method: 'password' },
    });
    // A sign-in is about the person, not a resource or a patient's data.
    expect(login?.resourceType).toBeUndefined();
    expect(login?.patientId).toBeUndefined();
    const event = auditEventResource(login!);
    expect(event.type).toMatchObject({ code: '110114', display: 'User Authentication' });
    expect(event.subtype).toEqual([expect.objectContaining({ code: '110122', display: 'Login' })]);
    expect(event.agent[0]).toMatchObject({ who: { identifier: { value: u.id } }, requestor: true });
    expect(event.agent[1]?.network).toEqual({ address: '127.0.0.1', type: '2' });

    tick();
    expect((await b.post('/api/v1/auth/logout')).status).toBe(204);
    const records = await recordsOf(u.id);
    expect(records.map((r) => r.action)).toEqual(['login', 'logout']);
    expect(records[1]).toMatchObject({
      actor: u.id,
      actorRole: 'patient',
      outcome: 'success',
      source: '127.0.0.1',
    });
    expect(auditEventResource(records[1]!).subtype).toEqual([expect.objectContaining({ code: '110123' })]);
    // Signing out again with the ended session's cookie gone records nothing more.
    expect((await b.post('/api/v1/auth/logout')).status).toBe(204);
    expect(await recordsOf(u.id)).toHaveLength(2);
  });

  it('the password alone is no login when a second factor is due; the second factor makes it one', async () => {
    const u = await provisionAccount(h, { username: 'audit.nurse', roles: ['nurse', 'clinician'] });
    const b = new Browser(h.base);
    expect((await b.post(LOGIN, { username: 'audit.nurse', password: u.password })).json.next).toBe(
      'totp-enrol',
    );
    expect(await recordsOf(u.id)).toEqual([]);
    const { secret } = (await b.post('/api/v1/auth/totp/enrol')).json;
    expect(
      (await b.post('/api/v1/auth/totp/confirm', { code: await totpCode(secret, h.clock.now) })).status,
    ).toBe(200);
    expect(await recordsOf(u.id)).toEqual([
      expect.objectContaining({
        action: 'login',
        actorRole: 'nurse clinician',
        detail: { method: 'password+totp-enrolment' },
      }),
    ]);

    // Next time: the password (no record, and a pending session signed out is no logout), then the code.
    h.clock.now += 30_000;
    tick();
    const halfway = new Browser(h.base);
    expect((await halfway.post(LOGIN, { username: 'audit.nurse', password: u.password })).json.next).toBe(
      'mfa',
    );
    expect((await halfway.post('/api/v1/auth/logout')).status).toBe(204);
    const other = new Browser(h.base);
    expect((await other.post(LOGIN, { username: 'audit.nurse', password: u.password })).json.next).toBe(
      'mfa',
    );
    expect((await other.post('/api/v1/auth/mfa', { code: '000000' })).status).toBe(401);
    expect(await recordsOf(u.id)).toHaveLength(1);
    expect((await other.post('/api/v1/auth/mfa', { code: await totpCode(secret, h.clock.now) })).status).toBe(
      200,
    );
    const records = await recordsOf(u.id);
    expect(records.map((r) => [r.action, r.detail?.method])).toEqual([
      ['login', 'password+totp-enrolment'],
      ['login', 'password+totp'],
    ]);
  });

  it('a failed sign-in is a security event, not an audit record', async () => {
    const u = await provisionAccount(h, { username: 'audit.wrong', roles: ['caregiver'] });
    expect(
      (await new Browser(h.base).post(LOGIN, { username: 'audit.wrong', password: 'not the password' }))
        .status,
    ).toBe(401);
    expect(await recordsOf(u.id)).toEqual([]);
    const failed = (await store.securityEvents.list({ kind: 'login-failed' })).items;
    expect(failed.some((e) => e.detail?.startsWith(`user ${u.id}: wrong password`))).toBe(true);
  });

  it('sign-out everywhere is one logout with the number of sessions it ended', async () => {
    const u = await provisionAccount(h, { username: 'audit.two', roles: ['caregiver'] });
    const phone = new Browser(h.base);
    const laptop = new Browser(h.base);
    await phone.post(LOGIN, { username: 'audit.two', password: u.password });
    tick();
    await laptop.post(LOGIN, { username: 'audit.two', password: u.password });
    tick();
    expect((await phone.post('/api/v1/auth/logout-everywhere')).json.revoked).toBe(2);
    const records = await recordsOf(u.id);
    expect(records.map((r) => r.action)).toEqual(['login', 'login', 'logout']);
    expect(records[2]).toMatchObject({
      actorRole: 'caregiver',
      source: '127.0.0.1',
      detail: { everywhere: true, sessions: 2 },
    });
  });
});
