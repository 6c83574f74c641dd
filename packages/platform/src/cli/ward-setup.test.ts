/**
 * Setting up a ward from the command line against a running platform: a care team with its people and
 * patients, one patient shown, and a patient's alarm limits read and changed (compare-and-set). The
 * commands run in this process on the real CLI definitions; the platform is real.
 */
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backends, startTestPlatform, type TestPlatform } from '../../test/harness.ts';
import { provisionAccount } from '../identity/testing.ts';
import { adminCommands } from './admin.ts';
import { adminExchange, CliError } from './admin-client.ts';
import { alarmCommands } from './alarm.ts';
import { type AlarmSettings, saveSettings, withRule } from './alarm-limits.ts';
import { careTeamCommands } from './care-team.ts';

describe('a ward set up from the command line', () => {
  let t: TestPlatform;
  let nurse: string;
  let patient: string;
  const token = process.env.OPENIOMT_ADMIN_TOKEN;

  /** Runs `openiomt <args>` in this process; what it printed on stdout. */
  async function openiomt(...args: string[]): Promise<string> {
    const program = new Command().exitOverride();
    adminCommands(program);
    careTeamCommands(program);
    alarmCommands(program);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    try {
      await program.parseAsync([...args, '--url', t.platform.httpUrl], { from: 'user' });
    } finally {
      spy.mockRestore();
    }
    return out.join('');
  }

  beforeAll(async () => {
    t = await startTestPlatform(backends[0] as (typeof backends)[number]);
    process.env.OPENIOMT_ADMIN_TOKEN = t.adminToken;
    const h = { base: t.platform.httpUrl, adminToken: t.adminToken };
    nurse = (await provisionAccount(h, { username: 'nurse.okoro', roles: ['nurse'] })).id;
    patient = JSON.parse(await openiomt('patient', 'add', '--display-name', 'Chidi Eze')).id;
  });
  afterAll(async () => {
    if (token === undefined) delete process.env.OPENIOMT_ADMIN_TOKEN;
    else process.env.OPENIOMT_ADMIN_TOKEN = token;
    await t?.close();
  });

  it('makes a care team and puts a nurse (by username) and a patient in it, found by the team name', async () => {
    const team = JSON.parse(await openiomt('care-team', 'add', 'Ward 9'));
    expect(team).toMatchObject({ name: 'Ward 9', members: [], patients: [] });
    await openiomt('care-team', 'add-member', 'Ward 9', 'nurse.okoro');
    const shown = JSON.parse(await openiomt('care-team', 'add-patient', team.id, patient));
    expect(shown).toMatchObject({ members: [nurse], patients: [patient] });
    expect(await openiomt('care-team', 'list')).toMatch(new RegExp(`${team.id}\\s+Ward 9\\s+1\\s+1`));
    // A patient id nobody registered is refused, not put in the team's care.
    await expect(openiomt('care-team', 'add-patient', 'Ward 9', 'no-such-patient')).rejects.toThrow(CliError);
    await expect(openiomt('care-team', 'show', 'Ward 10')).rejects.toThrow(
      /no care team has the id or name "Ward 10"/,
    );
    await openiomt('care-team', 'remove-member', 'Ward 9', nurse);
    expect(JSON.parse(await openiomt('care-team', 'show', 'Ward 9')).members).toEqual([]);
    expect(JSON.parse(await openiomt('patient', 'show', patient))).toMatchObject({
      id: patient,
      displayName: 'Chidi Eze',
    });
  });

  it('registers a device whose enrolment code works as long as asked, and issues a fresh one the same way', async () => {
    const before = Date.now();
    const made = JSON.parse(
      await openiomt('device', 'register', 'ward-ox-1', '--kind', 'pulse-oximeter', '--enrolment-ttl', '600'),
    );
    const expires = (iso: string) => (Date.parse(iso) - before) / 1000;
    expect(expires(made.enrolmentExpiresAt)).toBeGreaterThan(595);
    expect(expires(made.enrolmentExpiresAt)).toBeLessThan(610);
    const fresh = JSON.parse(
      await openiomt('device', 'enrolment-code', 'ward-ox-1', '--enrolment-ttl', '120'),
    );
    expect(expires(fresh.enrolmentExpiresAt)).toBeLessThan(130);
    await expect(openiomt('device', 'enrolment-code', 'ward-ox-1', '--enrolment-ttl', '10')).rejects.toThrow(
      /enrolmentTtlS/,
    );
  });

  it("reads and changes a patient's alarm limits; what is not given is kept from the default", async () => {
    const limits = await openiomt('alarm', 'limits', patient);
    expect(limits).toMatch(/spo2\s+low\s+90\s+2\s+medium\s+10\s+default/);
    expect(limits).toContain('SpO2 Scale 2 (NEWS2): not prescribed');
    const changed = await openiomt(
      'alarm',
      'set-limit',
      patient,
      '--vital',
      'spo2',
      '--direction',
      'low',
      '--limit',
      '88',
    );
    expect(changed).toMatch(/spo2\s+low\s+88\s+2\s+medium\s+10\s+changed/);
    expect(await openiomt('alarm', 'scale2', patient, 'on')).toMatch(
      /Scale 2 \(NEWS2\): prescribed; last changed/,
    );
    await openiomt(
      'alarm',
      'set-limit',
      patient,
      '--vital',
      'bp-diastolic',
      '--direction',
      'high',
      '--limit',
      '110',
      '--hysteresis',
      '5',
      '--priority',
      'high',
    );
    const stored = (await t.api('GET', `/api/v1/patients/${patient}/alarm-settings`)).body;
    expect(stored.spo2Scale2).toBe(true);
    expect(stored.thresholds).toEqual([
      { vital: 'spo2', direction: 'low', limit: 88, hysteresis: 2, priority: 'medium', forMs: 10_000 },
      { vital: 'bp-diastolic', direction: 'high', limit: 110, hysteresis: 5, priority: 'high' },
    ]);
    // An impossible limit is the platform's 400, naming the field; nothing changes.
    await expect(
      openiomt('alarm', 'set-limit', patient, '--vital', 'spo2', '--direction', 'low', '--limit', '150'),
    ).rejects.toThrow(/thresholds\/0\/limit/);
    expect(await openiomt('alarm', 'reset-limit', patient, '--vital', 'spo2', '--direction', 'low')).toMatch(
      /spo2\s+low\s+90\s+2\s+medium\s+10\s+default/,
    );
    await expect(
      openiomt('alarm', 'reset-limit', patient, '--vital', 'spo2', '--direction', 'low'),
    ).rejects.toThrow(/nothing to reset/);
  });

  it('never overwrites a change made between its read and its save', async () => {
    const c = { url: t.platform.httpUrl, token: t.adminToken };
    const path = `/api/v1/patients/${patient}/alarm-settings`;
    const { data, etag } = await adminExchange<AlarmSettings>(c, 'GET', path);
    expect(etag).toBeDefined();
    expect((await t.api('PUT', path, { spo2Scale2: false })).status).toBe(200);
    const thresholds = withRule(data, { vital: 'heart-rate', direction: 'high', limit: 150 });
    await expect(saveSettings(c, patient, etag, { thresholds })).rejects.toThrow(
      /changed since they were read .*Nothing was changed: run the command again/,
    );
    expect(
      (await t.api('GET', path)).body.thresholds.some((r: { vital: string }) => r.vital === 'heart-rate'),
    ).toBe(false);
  });
});
