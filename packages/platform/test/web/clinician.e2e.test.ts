/**
 * The clinician's day in a real browser against a running platform fed by the ward simulator: the census
 * shows the streaming patients, and an abnormal reading sent by a real device over MQTT raises an alarm that
 * appears on screen within one second and is acknowledged there. The census holds its order under the
 * pointer and offers a re-sort instead.
 */
import { VITALS, type VitalCode } from '@openiomt/core';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWard } from '../../src/simulate/ward.ts';
import {
  backends,
  provisionDevice,
  publish,
  startTestPlatform,
  type TestDevice,
  type TestPlatform,
  topicOf,
} from '../harness.ts';
import {
  accessibilityProblems,
  launchChromium,
  makePerson,
  openPage,
  type Person,
  screenshot,
  signInThroughPage,
} from './browser.ts';

const WARD = 3;

const quantity = (value: number, unit: string) => ({
  valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
});
/** A nurse's set of normal observations: every NEWS2 parameter, each scoring 0. */
const normalObservations: { code: VitalCode; entered: Record<string, unknown> }[] = [
  { code: 'respiratory-rate', entered: quantity(16, '/min') },
  { code: 'spo2', entered: quantity(97, '%') },
  { code: 'supplemental-oxygen', entered: { valueBoolean: false } },
  { code: 'bp-systolic', entered: quantity(120, 'mm[Hg]') },
  { code: 'heart-rate', entered: quantity(72, '/min') },
  {
    code: 'consciousness',
    entered: { valueCodeableConcept: { coding: [VITALS.consciousness.answerCodings?.A] } },
  },
  { code: 'body-temperature', entered: quantity(37, 'Cel') },
];

describe('web app: clinician', () => {
  let t: TestPlatform;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let closePage: () => Promise<void>;
  let clinician: Person;
  let nurse: Person;
  let device: TestDevice;
  let client: MqttClient;
  let teamId: string;
  const ward = new AbortController();
  let wardRun: Promise<unknown>;

  beforeAll(async () => {
    // Open streams re-check who may see what every 500 ms here (15 s by default).
    t = await startTestPlatform(backends[0] as (typeof backends)[number], {}, { streamRescopeMs: 500 });
    let streaming: () => void = () => undefined;
    const firstSecond = new Promise<void>((r) => {
      streaming = r;
    });
    wardRun = runWard({
      httpUrl: t.platform.httpUrl,
      mqttUrl: t.platform.mqttUrl,
      adminToken: t.adminToken,
      patients: WARD,
      durationS: Number.POSITIVE_INFINITY,
      vitalsEveryS: 1,
      idPrefix: 'ward',
      signal: ward.signal,
      onProgress: () => streaming(),
    });
    await Promise.race([firstSecond, wardRun]);
    device = await provisionDevice(t, 'oximeter-7', undefined, 'pulse-oximeter');
    client = await device.connect();
    clinician = await makePerson(t, { username: 'dr.okafor', roles: ['clinician'] });
    nurse = await makePerson(t, { username: 'nurse.adeyemi', roles: ['nurse'] });
    const team = await t.api('POST', '/api/v1/admin/care-teams', { name: 'Ward 7' });
    teamId = team.body.id;
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/members/${clinician.id}`);
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/members/${nurse.id}`);
    for (let i = 1; i <= WARD; i++)
      await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/patients/ward-patient-${i}`);
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/patients/${device.patientId}`);
    browser = await launchChromium();
    ({ page, problems, close: closePage } = await openPage(browser, t.platform.httpUrl));
    await signInThroughPage(page, clinician);
  }, 120_000);

  afterAll(async () => {
    ward.abort();
    await wardRun?.catch(() => undefined);
    client?.end(true);
    await closePage?.();
    await browser?.close();
    await t?.close();
  });

  it('shows my streaming patients in the census, updating live', async () => {
    await page.goto('/#/census');
    const rows = page.getByTestId('census-row');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(WARD + 1);
    const first = page.locator('[data-testid="census-row"][data-patient-id="ward-patient-1"]');
    // A vital sign arrives from the simulator's stream (none was stored when the page loaded the census).
    const before = await first.textContent();
    await expect.poll(async () => (await first.textContent()) !== before, { timeout: 20_000 }).toBe(true);
    expect(await first.textContent()).toMatch(/\d/);
    await screenshot(page, 'census');
    // A bedside tablet: the same census, nothing cut off sideways.
    await page.setViewportSize({ width: 768, height: 1024 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth)).toBe(true);
    await screenshot(page, 'census-tablet');
    await page.setViewportSize({ width: 1280, height: 860 });
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 60_000);

  it('shows an alarm within a second of an abnormal reading, and acknowledges it', async () => {
    const settings = await t.api('PUT', `/api/v1/patients/${device.patientId}/alarm-settings`, {
      thresholds: [{ vital: 'spo2', direction: 'low', limit: 90, hysteresis: 2, priority: 'high' }],
    });
    expect(settings.status).toBe(200);
    await page.goto('/#/alarms');
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.waitForTimeout(500); // the inbox's streams are open
    const alarm = page.locator(
      `[data-testid="alarm-row"][data-condition="threshold:spo2:low"][data-patient-id="${device.patientId}"]`,
    );
    const sentAt = Date.now();
    expect(
      await publish(client, topicOf(device.id), device.sign(1, { vitals: [{ code: 'spo2', value: 81 }] })),
    ).toBe(0);
    await alarm.waitFor({ timeout: 5_000 });
    const shownAfterMs = Date.now() - sentAt;
    expect(shownAfterMs).toBeLessThan(1000);
    expect(await alarm.getAttribute('data-priority')).toBe('high');
    // Never colour alone: the priority is written out.
    expect((await alarm.textContent())?.toLowerCase()).toContain('high');
    await screenshot(page, 'alarm-inbox');
    expect(await accessibilityProblems(page)).toEqual([]);
    await alarm.getByRole('button', { name: 'Acknowledge' }).click();
    await expect
      .poll(async () => (await alarm.textContent())?.toLowerCase() ?? '', { timeout: 5_000 })
      .toContain('acknowledged');
    const stored = await t.api('GET', `/api/v1/alarms?patient=${device.patientId}`);
    const mine = stored.body.items.find((a: { condition: string }) => a.condition === 'threshold:spo2:low');
    expect(mine.state).toBe('acknowledged');
    expect(problems).toEqual([]);
  }, 60_000);

  it('assigns an alarm to a colleague chosen by name, and names who has it', async () => {
    await page.goto('/#/alarms');
    const alarm = page.locator(
      `[data-testid="alarm-row"][data-condition="threshold:spo2:low"][data-patient-id="${device.patientId}"]`,
    );
    await alarm.waitFor({ timeout: 5_000 });
    const picker = alarm.getByRole('combobox', { name: 'Assign to a colleague' });
    await picker.fill('adeyemi');
    const option = alarm.locator(`[data-testid="person-option"][data-user-id="${nurse.id}"]`);
    await option.waitFor({ timeout: 5_000 });
    // I am not offered to myself here ("Assign to me" is its own button).
    expect(await alarm.locator(`[data-testid="person-option"][data-user-id="${clinician.id}"]`).count()).toBe(
      0,
    );
    await option.click();
    await alarm.getByRole('button', { name: 'Assign', exact: true }).click();
    await expect
      .poll(async () => (await alarm.textContent()) ?? '', { timeout: 5_000 })
      .toContain('Assigned to nurse.adeyemi');
    // Who acknowledged it is named too: me.
    expect(await alarm.textContent()).toContain('Acknowledged by you');
    const stored = await t.api('GET', `/api/v1/alarms?patient=${device.patientId}`);
    const mine = stored.body.items.find((a: { condition: string }) => a.condition === 'threshold:spo2:low');
    expect(mine.assignee).toBe(nurse.id);
    await screenshot(page, 'alarm-assigned');
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 60_000);

  it('shows a patient added to my care team, by name, without a reload', async () => {
    const addPatient = async (displayName: string) => {
      const patient = await t.api('POST', '/api/v1/admin/patients', { displayName });
      expect(patient.status).toBe(201);
      expect(
        (await t.api('PUT', `/api/v1/admin/care-teams/${teamId}/patients/${patient.body.id}`)).status,
      ).toBe(200);
      return patient.body.id as string;
    };
    await page.goto('/#/census');
    await expect.poll(() => page.getByTestId('census-row').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    const amara = await addPatient('Amara Nwosu');
    const row = page.locator(`[data-testid="census-row"][data-patient-id="${amara}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain('Amara Nwosu');

    // On the inbox, opened before the patient joins my care: their first alarm names them.
    await page.goto('/#/alarms');
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.waitForTimeout(500); // the inbox's stream is open
    const bello = await addPatient('Kemi Bello');
    const set = await t.api('PUT', `/api/v1/patients/${bello}/alarm-settings`, {
      thresholds: [{ vital: 'spo2', direction: 'low', limit: 90, hysteresis: 2, priority: 'medium' }],
    });
    expect(set.status).toBe(200);
    // A nurse's spot check, entered as a FHIR Observation (the patient has no device yet).
    const entry = await t.api('POST', '/fhir/R4/Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [VITALS.spo2.codings[0]] },
      subject: { reference: `Patient/${bello}` },
      effectiveDateTime: new Date().toISOString(),
      valueQuantity: { value: 84, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
    });
    expect(entry.status, JSON.stringify(entry.body)).toBe(201);
    const alarm = page.locator(
      `[data-testid="alarm-row"][data-patient-id="${bello}"][data-condition="threshold:spo2:low"]`,
    );
    await alarm.waitFor({ timeout: 5_000 });
    await expect
      .poll(async () => (await alarm.getByRole('link').textContent()) ?? '', { timeout: 5_000 })
      .toBe('Kemi Bello');
    expect(problems).toEqual([]);
  }, 60_000);

  it('lets an alarm be reached and acknowledged with the keyboard alone', async () => {
    const settings = await t.api('PUT', `/api/v1/patients/${device.patientId}/alarm-settings`, {
      thresholds: [
        { vital: 'spo2', direction: 'low', limit: 90, hysteresis: 2, priority: 'high' },
        { vital: 'heart-rate', direction: 'high', limit: 140, hysteresis: 5, priority: 'medium' },
      ],
    });
    expect(settings.status).toBe(200);
    await page.goto('/#/alarms');
    await page.getByRole('heading', { level: 1 }).waitFor();
    expect(
      await publish(
        client,
        topicOf(device.id),
        device.sign(2, { vitals: [{ code: 'heart-rate', value: 162 }] }),
      ),
    ).toBe(0);
    const alarm = page.locator('[data-testid="alarm-row"][data-condition="threshold:heart-rate:high"]');
    await alarm.waitFor({ timeout: 5_000 });
    // Tab from the top of the page until the alarm's Acknowledge button has the focus, then press Enter.
    await page.locator('body').focus();
    let reached = false;
    for (let i = 0; i < 80 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await alarm
        .getByRole('button', { name: 'Acknowledge' })
        .evaluate((b) => b === document.activeElement);
    }
    expect(reached).toBe(true);
    // The focused control is visibly marked (focus-visible outline), not only focused.
    const outline = await page.evaluate(
      () => getComputedStyle(document.activeElement as Element).outlineStyle,
    );
    expect(outline).not.toBe('none');
    await page.keyboard.press('Enter');
    await expect.poll(async () => alarm.getAttribute('data-state'), { timeout: 5_000 }).toBe('acknowledged');
    expect(problems).toEqual([]);
  }, 60_000);

  it('shows the patient view with live tiles and the ECG', async () => {
    await page.goto('/#/patients/ward-patient-1');
    const ecg = page.getByTestId('ecg-strip');
    await ecg.waitFor({ timeout: 20_000 });
    expect(await ecg.getAttribute('role')).toBe('img');
    // Live tiles fill from the stream.
    const heartRate = page.locator('[data-testid="vital-tile"][data-code="heart-rate"]');
    await expect
      .poll(async () => (await heartRate.textContent()) ?? '', { timeout: 20_000 })
      .toMatch(/\d{2,3}/);
    await screenshot(page, 'patient-view');
    expect(await accessibilityProblems(page)).toEqual([]);
    await ecg.scrollIntoViewIfNeeded();
    await page.waitForTimeout(3000); // a few seconds of sweep
    await screenshot(page, 'patient-ecg');
    expect(problems).toEqual([]);
  }, 60_000);

  it("saves a patient's alarm limits, and never over a colleague's save made meanwhile", async () => {
    const patient = await t.api('POST', '/api/v1/admin/patients', { displayName: 'Ife Adebayo' });
    const id = patient.body.id as string;
    await t.api('PUT', `/api/v1/admin/care-teams/${teamId}/patients/${id}`);
    const stored = async () => (await t.api('GET', `/api/v1/patients/${id}/alarm-settings`)).body;
    const spo2Low = (s: { thresholds: { vital: string; direction: string; limit: number }[] }) =>
      s.thresholds.find((r) => r.vital === 'spo2' && r.direction === 'low')?.limit;
    // Every heading the page shows on the way there, so that the record id shown for a moment is caught.
    await page.evaluate(() => {
      const shown: string[] = [];
      (window as any).headingsShown = shown;
      new MutationObserver(() => {
        const text = document.querySelector('h1')?.textContent ?? '';
        if (shown.at(-1) !== text) shown.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.evaluate((hash) => {
      location.hash = hash;
    }, `#/patients/${id}`);
    const form = page.getByRole('form', { name: 'Alarm limits' });
    const limit = form.locator('#thr-spo2-low-limit');
    const save = form.getByRole('button', { name: 'Save alarm limits' });
    await limit.waitFor({ timeout: 10_000 });
    // Opened within moments of joining my care (the census this page holds does not have them yet): a
    // placeholder until the census answers, then the name; never the record id.
    await expect
      .poll(async () => (await page.getByRole('heading', { level: 1 }).textContent()) ?? '', {
        timeout: 10_000,
      })
      .toContain('Ife Adebayo');
    const headings: string[] = await page.evaluate(() => (window as any).headingsShown);
    expect(headings.filter((h) => h.includes(id))).toEqual([]);
    await limit.fill('88');
    await save.click();
    await form.getByRole('status').filter({ hasText: 'Alarm limits saved.' }).waitFor({ timeout: 5_000 });
    expect(spo2Low(await stored())).toBe(88);
    // A colleague saves from another session; this page still shows what it read before.
    expect((await t.api('PUT', `/api/v1/patients/${id}/alarm-settings`, { spo2Scale2: true })).status).toBe(
      200,
    );
    await limit.fill('86');
    await save.click();
    const refusal = form.getByRole('alert');
    await refusal.waitFor({ timeout: 5_000 });
    expect(await refusal.textContent()).toContain('someone else changed these limits');
    // Nothing of this page's stale copy was applied: the colleague's Scale 2 stands, the limit is unchanged.
    expect(await stored()).toMatchObject({ spo2Scale2: true });
    expect(spo2Low(await stored())).toBe(88);
    await refusal.scrollIntoViewIfNeeded();
    await screenshot(page, 'alarm-limits-conflict');
    expect(await accessibilityProblems(page)).toEqual([]);
    await refusal.getByRole('button', { name: 'Reload the limits' }).click();
    const scale2 = form.getByRole('checkbox', { name: /Scale 2 prescribed/ });
    await expect.poll(() => scale2.isChecked(), { timeout: 5_000 }).toBe(true);
    expect(await limit.inputValue()).toBe('88');
    // Made again on what is there now, the change is saved.
    await limit.fill('86');
    await save.click();
    await form.getByRole('status').filter({ hasText: 'Alarm limits saved.' }).waitFor({ timeout: 5_000 });
    expect(await stored()).toMatchObject({ spo2Scale2: true });
    expect(spo2Low(await stored())).toBe(86);
    expect(problems).toEqual([]);
  }, 60_000);

  it('holds the census order under the pointer and offers a re-sort', async () => {
    // A patient with no reading yet ranks below a scored patient without an alarm. The ward's recordings
    // may raise alarms of their own by now, so the quiet patient is made here: a nurse's full set of normal
    // observations (NEWS2 0, no alarm) and no device that could fall silent.
    const quiet = await t.api('POST', '/api/v1/admin/patients', {});
    expect(quiet.status).toBe(201);
    for (const value of normalObservations) {
      const entry = await t.api('POST', '/fhir/R4/Observation', {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [VITALS[value.code].codings[0]] },
        subject: { reference: `Patient/${quiet.body.id}` },
        effectiveDateTime: new Date().toISOString(),
        ...value.entered,
      });
      expect(entry.status, JSON.stringify(entry.body)).toBe(201);
    }
    await t.api('PUT', `/api/v1/admin/care-teams/${teamId}/patients/${quiet.body.id}`);
    const bed = await provisionDevice(t, 'oximeter-8', undefined, 'pulse-oximeter');
    const bedClient = await bed.connect();
    try {
      await t.api('PUT', `/api/v1/admin/care-teams/${teamId}/patients/${bed.patientId}`);
      const settings = await t.api('PUT', `/api/v1/patients/${bed.patientId}/alarm-settings`, {
        thresholds: [{ vital: 'spo2', direction: 'low', limit: 90, hysteresis: 2, priority: 'medium' }],
      });
      expect(settings.status).toBe(200);
      await page.goto('/#/census');
      // A fresh page (the alarm stream takes the care team's patients as they are when it opens), with a
      // clock the test can move on: the census re-ranks on its own every 10 s when nobody is on it.
      await page.clock.install();
      await page.reload();
      const list = page.getByRole('list', { name: 'Patients, most urgent first' });
      const row = list.locator(`[data-testid="census-row"][data-patient-id="${bed.patientId}"]`);
      await row.waitFor({ timeout: 20_000 });
      // Is the quiet patient shown above the new one?
      const quietAbove = () =>
        list.getByTestId('census-row').evaluateAll(
          (rows, [bedId, quietId]) => {
            const at = (id: string) => rows.findIndex((r) => r.getAttribute('data-patient-id') === id);
            return at(quietId as string) < at(bedId as string);
          },
          [bed.patientId, quiet.body.id as string],
        );
      await expect.poll(quietAbove, { timeout: 20_000 }).toBe(true);
      await list.hover();
      // A medium alarm ranks the patient above every patient without one, but the pointer is on the list.
      expect(
        await publish(bedClient, topicOf(bed.id), bed.sign(1, { vitals: [{ code: 'spo2', value: 81 }] })),
      ).toBe(0);
      // The row's values change in place; its place does not, and a re-sort is offered.
      await expect.poll(() => row.getAttribute('data-top-priority'), { timeout: 5_000 }).toBe('medium');
      const resort = page.getByRole('status').getByRole('button', { name: 'Order changed — re-sort' });
      await resort.waitFor({ timeout: 5_000 });
      expect(await quietAbove()).toBe(true);
      // Past the 10 s hold (the page's timers fire as they fall due): still held while the pointer stays.
      await page.clock.fastForward(11_000);
      await page.clock.runFor(1_000);
      expect(await quietAbove()).toBe(true);
      expect(await resort.isVisible()).toBe(true);
      expect(await accessibilityProblems(page)).toEqual([]);
      await resort.click();
      await expect.poll(quietAbove, { timeout: 5_000 }).toBe(false);
      expect(problems).toEqual([]);
    } finally {
      bedClient.end(true);
    }
  }, 60_000);
});
