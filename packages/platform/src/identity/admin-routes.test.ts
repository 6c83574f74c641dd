import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import { Browser, type Harness, provisionAccount, startIdentityServer } from './testing.ts';
import { totpCode } from './totp.ts';

const BIN = fileURLToPath(new URL('../../bin/openiomt.js', import.meta.url));
const run = promisify(execFile);
const LOGIN = '/api/v1/auth/login';
const USERS = '/api/v1/admin/users';

describe.each(storeBackends())('account administration (API and CLI) on $name', ({ open }) => {
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

  const asAdmin = () => new Browser(h.base);
  const post = (path: string, body: unknown) => asAdmin().post(path, body, { bearer: h.adminToken });
  const cli = (args: string[]) =>
    run(process.execPath, [BIN, 'user', ...args, '--url', h.base], {
      env: { ...process.env, OPENIOMT_ADMIN_TOKEN: h.adminToken },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
    );

  it('needs the administrator token, or an administrator signed in with a second factor', async () => {
    expect((await new Browser(h.base).get(USERS)).status).toBe(401);
    expect((await new Browser(h.base).get(USERS, { bearer: 'oiat_wrong' })).status).toBe(401);
    const events = (await store.securityEvents.list({ kind: 'admin-auth-failed' })).items;
    expect(events.map((e) => e.detail)).toEqual(['GET /api/v1/admin/users', 'GET /api/v1/admin/users']);

    const carer = await provisionAccount(h, { username: 'not.admin', roles: ['caregiver'] });
    const b = new Browser(h.base);
    await b.post(LOGIN, { username: carer.username, password: carer.password });
    expect((await b.get(USERS)).status).toBe(403);

    const admin = await provisionAccount(h, { username: 'site.admin', roles: ['administrator'] });
    const a = new Browser(h.base);
    await a.post(LOGIN, { username: admin.username, password: admin.password });
    expect((await a.get(USERS)).status).toBe(401); // enrolment pending
    const { secret } = (await a.post('/api/v1/auth/totp/enrol')).json;
    await a.post('/api/v1/auth/totp/confirm', { code: await totpCode(secret, h.clock.now) });
    const made = await a.post(USERS, { username: 'made.by.session', roles: ['nurse'] });
    expect(made.status).toBe(201);
    expect((await a.post(USERS, { username: 'no.csrf', roles: ['nurse'] }, { csrf: false })).status).toBe(
      403,
    );
  });

  it('validates new accounts, naming the field', async () => {
    const patient = await store.patients.create({});
    const cases: [unknown, string][] = [
      [{ username: 'a', roles: ['nurse'] }, '/username'],
      [{ username: 'ok.name', roles: [] }, '/roles'],
      [{ username: 'ok.name', roles: ['surgeon'] }, '/roles/0'],
      [{ username: 'ok.name', roles: ['patient'] }, '/patientId'],
      [{ username: 'ok.name', roles: ['nurse'], patientId: patient.id }, '/patientId'],
      [{ username: 'ok.name', roles: ['patient'], patientId: 'no-such-patient' }, '/patientId'],
      [{ username: 'ok.name', roles: ['nurse'], displayName: 7 }, '/displayName'],
    ];
    for (const [body, field] of cases) {
      const r = await post(USERS, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.field).toBe(field);
    }
    expect((await post(USERS, { username: 'Dup.Name', roles: ['nurse'] })).status).toBe(201);
    const dup = await post(USERS, { username: 'dup.NAME', roles: ['nurse'] });
    expect(dup.status).toBe(409);
    expect(dup.json.field).toBe('/username');
  });

  it('disabling ends sessions; resetting the second factor sends staff back to enrolment', async () => {
    const u = await provisionAccount(h, { username: 'lost.phone', roles: ['clinician'] });
    const b = new Browser(h.base);
    await b.post(LOGIN, { username: u.username, password: u.password });
    const { secret } = (await b.post('/api/v1/auth/totp/enrol')).json;
    await b.post('/api/v1/auth/totp/confirm', { code: await totpCode(secret, h.clock.now) });
    expect((await b.get('/api/v1/auth/me')).status).toBe(200);

    const reset = await post(`${USERS}/${u.id}/reset-mfa`, {});
    expect(reset.json.totpEnrolledAt).toBeUndefined();
    expect((await b.get('/api/v1/auth/me')).status).toBe(401);
    expect((await b.post(LOGIN, { username: u.username, password: u.password })).json.next).toBe(
      'totp-enrol',
    );

    const disabled = await post(`${USERS}/${u.id}/disable`, {});
    expect(disabled.json.disabledAt).toBeDefined();
    expect((await b.post('/api/v1/auth/totp/enrol')).status).toBe(401);
    expect((await post(`${USERS}/${u.id}/setup-link`, {})).status).toBe(409);
    expect((await post(`${USERS}/00000000-0000-4000-8000-000000000000/disable`, {})).status).toBe(404);
  });

  it('a new set-up link replaces the old one and sets a new password', async () => {
    const u = await provisionAccount(h, { username: 'forgetful', roles: ['caregiver'] });
    const b = new Browser(h.base);
    await b.post(LOGIN, { username: u.username, password: u.password });
    const first = (await post(`${USERS}/${u.id}/setup-link`, {})).json;
    const second = (await post(`${USERS}/${u.id}/setup-link`, {})).json;
    const password = 'second chance lighthouse';
    const setup = (token: string) => new Browser(h.base).post('/api/v1/auth/setup', { token, password });
    expect((await setup(first.setupToken)).status).toBe(400);
    expect((await setup(second.setupToken)).status).toBe(200);
    expect((await b.get('/api/v1/auth/me')).status).toBe(401); // old sessions end with the password
    expect((await new Browser(h.base).post(LOGIN, { username: u.username, password })).status).toBe(200);
  });

  it('openiomt user add|list|reset-mfa|setup-link|disable', async () => {
    const help = await cli(['--help']);
    expect(help.stdout).toMatch(/add \[options\] <username>/);
    expect(help.stdout).toMatch(/reset-mfa/);

    const added = await cli([
      'add',
      'Cli.Nurse',
      '--role',
      'nurse',
      'researcher',
      '--display-name',
      'Nurse Cli',
    ]);
    expect(added.code).toBe(0);
    const out = JSON.parse(added.stdout);
    expect(out.user).toMatchObject({
      username: 'cli.nurse',
      roles: ['nurse', 'researcher'],
      displayName: 'Nurse Cli',
    });
    expect(out.setupLink).toMatch(new RegExp(`^${h.base}/setup#token=oisu_[A-Za-z0-9_-]{43}$`));
    expect(added.stderr).toMatch(/shown only once/);
    const token = out.setupLink.split('#token=')[1];
    expect(
      (await new Browser(h.base).post('/api/v1/auth/setup', { token, password: 'quiet harbour lantern' }))
        .status,
    ).toBe(200);

    const badRole = await cli(['add', 'someone', '--role', 'surgeon']);
    expect(badRole.code).not.toBe(0);
    expect(badRole.stderr).toMatch(/Allowed choices are clinician, nurse, patient/);
    const noPatient = await cli(['add', 'someone', '--role', 'patient']);
    expect(noPatient.code).toBe(2);
    expect(noPatient.stderr).toMatch(/patientId.*\(field \/patientId\)/);

    const list = await cli(['list']);
    expect(list.stdout).toMatch(/cli\.nurse\s+nurse,researcher/);
    const id = out.user.id;
    expect(JSON.parse((await cli(['reset-mfa', id])).stdout).id).toBe(id);
    const link = await cli(['setup-link', id]);
    expect(JSON.parse(link.stdout).setupLink).toMatch(/#token=oisu_/);
    expect(JSON.parse((await cli(['disable', id])).stdout).disabledAt).toBeDefined();
  });
});
