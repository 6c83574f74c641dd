/**
 * The administrator and the patient in a real browser: an administrator provisions a device in the console,
 * the device enrols with the code shown there and comes online; a patient restricts their consent, and
 * a clinician is refused what the patient withheld, as is a clinician outside the care team.
 */
import type { Browser } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deviceWithKey,
  newKey,
  proof,
  provisionDevice,
  publish,
  type TestPlatform,
  topicOf,
} from '../harness.ts';
import {
  accessibilityProblems,
  makePerson,
  openPage,
  screenshot,
  signInThroughPage,
  startWebSuite,
} from './browser.ts';

describe('web app: administrator and patient', () => {
  let t: TestPlatform;
  let browser: Browser;
  const suite = startWebSuite();
  beforeAll(() => {
    ({ t, browser } = suite);
  });

  it('provisions a device in the console that then comes online', async () => {
    const patient = await t.api('POST', '/api/v1/admin/patients', {});
    const admin = await makePerson(t, { username: 'it.admin', roles: ['administrator'] });
    const { page, problems, close } = await openPage(browser, t.platform.httpUrl);
    await signInThroughPage(page, admin);
    await page.goto('/#/admin/devices');
    await page.getByText('Register a device').click();
    const form = page.getByRole('form', { name: 'Register a device' });
    await form.getByLabel('Device id').fill('bed12-oximeter');
    await form.getByLabel('Kind').selectOption('pulse-oximeter');
    await page.getByRole('button', { name: 'Register and get enrolment code' }).click();
    const code = (await page.getByTestId('enrolment-code').textContent())?.trim() ?? '';
    expect(code.length).toBeGreaterThan(10);
    expect(await page.getByRole('img', { name: /QR/i }).count()).toBeGreaterThan(0);
    await screenshot(page, 'admin-provision-device');

    // The device, holding its own key, enrols with the code the administrator read out to it.
    const key = newKey();
    const enrol = await t.api('POST', '/api/v1/devices/bed12-oximeter/enrol', {
      jwk: key.jwk,
      proof: proof(key, { device: 'bed12-oximeter', enrolmentCode: code }),
    });
    expect(enrol.status).toBe(201);

    const row = page.locator('[data-testid="device-row"][data-device-id="bed12-oximeter"]');
    await row.getByRole('button', { name: 'Manage' }).click();
    const assign = page.getByRole('form', { name: 'Assign to a patient' });
    await assign.getByLabel('Patient id').fill(patient.body.id);
    await assign.getByRole('button', { name: 'Assign' }).click();
    await page.getByTestId('current-assignment').filter({ hasText: patient.body.id }).waitFor();

    const device = deviceWithKey(t, 'bed12-oximeter', patient.body.id, key);
    const client = await device.connect();
    expect(
      await publish(client, topicOf(device.id), device.sign(1, { vitals: [{ code: 'spo2', value: 97 }] })),
    ).toBe(0);
    client.end(true);
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh' }).first().click();
          return row.getAttribute('data-status');
        },
        { timeout: 10_000 },
      )
      .toBe('online');
    await screenshot(page, 'admin-fleet');
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems).toEqual([]);
    await close();
  }, 90_000);

  it('lets a patient withhold vital signs: their clinician is refused them, and so is a clinician outside the team', async () => {
    const device = await provisionDevice(t, 'home-cuff-3', undefined, 'pulse-oximeter');
    const client = await device.connect();
    expect(
      await publish(client, topicOf(device.id), device.sign(1, { vitals: [{ code: 'spo2', value: 96 }] })),
    ).toBe(0);
    client.end(true);
    const inTeam = await makePerson(t, { username: 'dr.in.team', roles: ['clinician'] });
    const outside = await makePerson(t, { username: 'dr.outside', roles: ['clinician'] });
    const team = await t.api('POST', '/api/v1/admin/care-teams', { name: 'Home care' });
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/members/${inTeam.id}`);
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/patients/${device.patientId}`);
    const me = await makePerson(t, {
      username: 'mrs.patel',
      roles: ['patient'],
      patientId: device.patientId,
    });

    const patientPage = await openPage(browser, t.platform.httpUrl, { width: 390, height: 844 });
    await signInThroughPage(patientPage.page, me);
    await patientPage.page.goto('/#/my');
    await patientPage.page.getByTestId('vital-tile').first().waitFor();
    await screenshot(patientPage.page, 'patient-my-health');
    expect(await accessibilityProblems(patientPage.page)).toEqual([]);
    await patientPage.page.goto('/#/consent');
    const vitals = patientPage.page.locator('[data-testid="consent-category"][data-category="vital-signs"]');
    await vitals.getByRole('checkbox', { name: /Hide from everyone caring for me/ }).check();
    await patientPage.page.getByTestId('save-consent').click();
    await expect
      .poll(async () => {
        const consent = await t.api('GET', `/api/v1/patients/${device.patientId}/consent`);
        return JSON.stringify(consent.body?.restrictions ?? []);
      })
      .toContain('vital-signs');
    await screenshot(patientPage.page, 'patient-consent');
    expect(await accessibilityProblems(patientPage.page)).toEqual([]);
    expect(patientPage.problems).toEqual([]);
    await patientPage.close();

    // The care-team clinician no longer gets the vital signs; the API says why, and it is audited.
    const inTeamPage = await openPage(browser, t.platform.httpUrl);
    await signInThroughPage(inTeamPage.page, inTeam);
    const asInTeam = await inTeamPage.page.evaluate(async (id) => {
      const search = await (await fetch(`/fhir/R4/Observation?patient=${id}`)).json();
      const trends = await fetch(`/api/v1/patients/${id}/trends?codes=spo2`);
      return { entries: (search.entry ?? []).length, trends: trends.status };
    }, device.patientId);
    // The search leaves the withheld category out; the trends of a vital sign are refused outright.
    expect(asInTeam).toEqual({ entries: 0, trends: 403 });
    await inTeamPage.close();

    const outsidePage = await openPage(browser, t.platform.httpUrl);
    await signInThroughPage(outsidePage.page, outside);
    await outsidePage.page.goto(`/#/patients/${device.patientId}`);
    const refused = outsidePage.page.getByTestId('patient-refused');
    await refused.waitFor();
    expect(await refused.textContent()).toContain('not in any of your care teams');
    await screenshot(outsidePage.page, 'clinician-refused');
    expect(await accessibilityProblems(outsidePage.page)).toEqual([]);
    // Emergency access: a reason, a time limit; then the patient's screen opens.
    const glass = outsidePage.page.getByRole('form', { name: 'Emergency access' });
    await glass.getByLabel('Reason').fill('collapsed in the corridor, team unreachable');
    await glass.getByRole('button', { name: 'Open emergency access' }).click();
    await outsidePage.page.getByRole('navigation', { name: 'Sections of this patient' }).waitFor();
    const opened = await t.api('GET', '/api/v1/admin/break-glass');
    expect(opened.body.items.some((b: { userId: string }) => b.userId === outside.id)).toBe(true);
    await outsidePage.close();
    // Both refusals are in the audit log, attributed.
    for (const who of [inTeam, outside]) {
      // (the outsider's refusal came before the break-glass)
      const log = await t.api(
        'GET',
        `/api/v1/admin/audit?patient=${device.patientId}&actor=${who.id}&action=denied`,
      );
      expect(log.status).toBe(200);
      expect(log.body.items.length).toBeGreaterThan(0);
    }
  }, 120_000);

  it('quarantines a device in the console: its next publish is refused, the fleet says so; release restores it', async () => {
    const device = await provisionDevice(t, 'bed14-ecg', undefined, 'ecg-patch');
    const client = await device.connect();
    expect(await publish(client, topicOf(device.id), device.sign(1))).toBe(0);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const admin = await makePerson(t, { username: 'sec.admin', roles: ['administrator'] });
    const { page, problems, close } = await openPage(browser, t.platform.httpUrl);
    await signInThroughPage(page, admin);
    await page.goto('/#/admin/devices');
    const row = page.locator('[data-testid="device-row"][data-device-id="bed14-ecg"]');
    await row.getByRole('button', { name: 'Manage' }).click();
    await page.getByRole('button', { name: 'Quarantine device…' }).click();
    const dialog = page.getByTestId('quarantine-device-dialog');
    await dialog.getByLabel('Reason').fill('unexpected firmware signature');
    await dialog.getByRole('button', { name: 'Quarantine', exact: true }).click();
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 10_000 }).toBe('quarantined');
    expect(await row.getByTestId('quarantine-reason').textContent()).toContain(
      'unexpected firmware signature',
    );
    expect(await row.getByTestId('device-status').textContent()).toContain('quarantined');
    await page.getByTestId('quarantine-notice').waitFor();
    await screenshot(page, 'admin-device-quarantined');
    expect(await accessibilityProblems(page)).toEqual([]);
    // Its live session was closed; it may connect again (its keys stay valid) but its readings are refused.
    await closed;
    client.end(true);
    const again = await device.connect();
    expect(await publish(again, topicOf(device.id), device.sign(2))).toBe(0x87);
    again.end(true);

    await page.getByRole('button', { name: 'Release device…' }).click();
    const release = page.getByTestId('release-device-dialog');
    await release.getByLabel('Reason').fill('firmware verified by biomedical engineering');
    await release.getByRole('button', { name: 'Release', exact: true }).click();
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 10_000 }).not.toBe('quarantined');
    const back = await device.connect();
    expect(await publish(back, topicOf(device.id), device.sign(3))).toBe(0);
    back.end(true);

    // The Security page shows both changes, by the administrator's address, beside the key's enrolment,
    // which the enrolment subsystem raised.
    await page.goto('/#/admin/security');
    const rows = page.getByTestId('security-event-row');
    for (const kind of ['device-quarantined', 'device-released'])
      await rows
        .and(page.locator(`[data-kind="${kind}"]`))
        .first()
        .waitFor();
    const subsystems = await rows.locator('td:nth-child(5)').allTextContents();
    expect(subsystems).toContain('enrolment');
    await screenshot(page, 'admin-security-events');
    expect(await accessibilityProblems(page)).toEqual([]);
    // This device's events asked for by the part that raised them: only the enrolment is left.
    await page.getByLabel('Device id').fill('bed14-ecg'); // the other tests here enrol devices too
    await page.getByLabel('Subsystem').selectOption('enrolment');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect
      .poll(async () => [
        ...new Set(await rows.evaluateAll((r) => r.map((e) => e.getAttribute('data-kind')))),
      ])
      .toEqual(['key-enrolled']);
    expect(await page.locator('.page-footer .hint').textContent()).toBe('Showing 1 event (all).');
    expect(problems).toEqual([]);
    await close();
  }, 90_000);
});
