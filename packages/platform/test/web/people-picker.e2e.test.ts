/**
 * Choosing people by name in a real browser (the people directory behind the person picker): a patient
 * finds a clinician by typing part of her name, hides their vital signs from her, and she alone is refused
 * them; the patient shares with a caregiver found by username; an administrator adds a nurse to a care team
 * by name. The picker is checked with axe while its list is open, and worked with the keyboard. After a
 * reload the people already named (in the consent, as caregivers, in care teams) are shown by name, from
 * one lookup in the directory per screen; one it does not answer keeps the id, "(not found)".
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { provisionDevice, publish, type TestPlatform, topicOf } from '../harness.ts';
import { accessibilityProblems, openPage, type Person, signInThroughPage, startWebSuite } from './browser.ts';

/** An account with a display name (made by the administrator), its password set through its set-up link. */
async function namedPerson(
  t: TestPlatform,
  a: { username: string; displayName: string; roles: string[]; patientId?: string },
): Promise<Person> {
  const made = await t.api('POST', '/api/v1/admin/users', a);
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  const password = 'plum velvet river lantern';
  const set = await fetch(`${t.platform.httpUrl}/api/v1/auth/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-requested-with': 'fetch' },
    body: JSON.stringify({ token: made.body.setupToken, password }),
  });
  expect(set.status).toBe(200);
  return { id: made.body.user.id, username: a.username, password };
}

/** What a signed-in page gets from the FHIR search and the trends of the patient's SpO2. */
const spo2As = (page: Page, patientId: string) =>
  page.evaluate(async (id) => {
    const search = await (await fetch(`/fhir/R4/Observation?patient=${id}`)).json();
    const trends = await fetch(`/api/v1/patients/${id}/trends?codes=spo2`);
    return { entries: (search.entry ?? []).length, trends: trends.status };
  }, patientId);

describe('web app: choosing people by name', () => {
  const suite = startWebSuite();

  it('lets a patient hide their vital signs from one clinician found by part of her name', async () => {
    const { t, browser } = suite;
    const device = await provisionDevice(t, 'picker-oximeter', undefined, 'pulse-oximeter');
    const client = await device.connect();
    expect(
      await publish(client, topicOf(device.id), device.sign(1, { vitals: [{ code: 'spo2', value: 95 }] })),
    ).toBe(0);
    client.end(true);
    const ana = await namedPerson(t, {
      username: 'a.silveira',
      displayName: 'Ana Silveira',
      roles: ['clinician'],
    });
    const rui = await namedPerson(t, { username: 'r.costa', displayName: 'Rui Costa', roles: ['clinician'] });
    await namedPerson(t, { username: 'nurse.silvano', displayName: 'Silvano Reis', roles: ['nurse'] });
    const carer = await namedPerson(t, {
      username: 'grandson.leo',
      displayName: 'Leo Marques',
      roles: ['caregiver'],
    });
    const team = await t.api('POST', '/api/v1/admin/care-teams', { name: 'Heart failure at home' });
    for (const who of [ana, rui])
      await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/members/${who.id}`);
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/patients/${device.patientId}`);
    const me = await namedPerson(t, {
      username: 'mr.okafor',
      displayName: 'Chidi Okafor',
      roles: ['patient'],
      patientId: device.patientId,
    });

    const { page, problems, close } = await openPage(browser, t.platform.httpUrl, {
      width: 390,
      height: 844,
    });
    await signInThroughPage(page, me);
    await page.goto('/#/consent');
    await page.getByText('Hide something from one particular person').click();
    const find = page.getByRole('combobox', { name: 'Find a person' });
    await find.fill('SILV');
    const results = page.getByRole('listbox', { name: 'Find a person: people found' });
    await results.waitFor();
    const options = results.getByRole('option');
    await expect
      .poll(() => options.allTextContents())
      .toEqual([
        // "Silvano Reis" begins with the text; "Ana Silveira" contains it.
        'Silvano Reisnurse.silvano · nurse',
        'Ana Silveiraa.silveira · clinician',
      ]);
    const status = page.getByTestId('consent-person-picker').getByRole('status');
    expect(await status.textContent()).toContain('2 people found.');
    expect(await find.getAttribute('aria-expanded')).toBe('true');
    // The page with the list open: labelled, named, contrast.
    expect(await accessibilityProblems(page)).toEqual([]);

    // Keyboard: Down to the first, Down again to Ana (the active option is announced), Enter chooses her.
    await find.press('ArrowDown');
    await find.press('ArrowDown');
    const activeId = await find.getAttribute('aria-activedescendant');
    expect(await page.locator(`[id="${activeId}"]`).getAttribute('data-user-id')).toBe(ana.id);
    await find.press('Enter');
    expect(await find.getAttribute('aria-expanded')).toBe('false');
    expect(await find.inputValue()).toBe('Ana Silveira');
    expect(await status.textContent()).toContain('Chosen: Ana Silveira (a.silveira, clinician).');
    await page.getByRole('button', { name: 'Add this person' }).click();

    const vitals = page.locator('[data-testid="consent-category"][data-category="vital-signs"]');
    await vitals.getByRole('checkbox', { name: 'Hide from Ana Silveira (a.silveira)' }).check();
    await page.getByTestId('save-consent').click();
    await expect
      .poll(
        async () => (await t.api('GET', `/api/v1/patients/${device.patientId}/consent`)).body.restrictions,
      )
      .toEqual([{ categories: ['vital-signs'], recipients: [ana.id] }]);

    // A caregiver the patient does not share with yet is found by the username he told them.
    const caregiver = page.getByRole('combobox', { name: 'Caregiver' });
    await caregiver.fill('leo');
    await expect
      .poll(() => page.getByTestId('caregiver-picker').getByRole('status').textContent())
      .toContain('No one found');
    await caregiver.fill('Grandson.Leo');
    await page.getByRole('listbox', { name: 'Caregiver: people found' }).waitFor();
    // The only one found: Enter chooses him (and does not submit the form yet).
    await caregiver.press('Enter');
    await expect
      .poll(() => page.getByTestId('caregiver-picker').getByRole('status').textContent())
      .toContain('Chosen: Leo Marques (grandson.leo, caregiver).');
    expect((await t.api('GET', `/api/v1/patients/${device.patientId}/caregivers`)).body.items).toEqual([]);
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    await page.getByText('You now share with caregiver Leo Marques (grandson.leo).').waitFor();
    const grants = await t.api('GET', `/api/v1/patients/${device.patientId}/caregivers`);
    expect(grants.body.items.map((g: { caregiverUserId: string }) => g.caregiverUserId)).toEqual([carer.id]);
    const caregiverRow = page.getByTestId('caregiver-row');
    await expect.poll(() => caregiverRow.textContent()).toContain('Caregiver Leo Marques (grandson.leo)');
    expect(await accessibilityProblems(page)).toEqual([]);

    // After a reload the page names them again, from one lookup in the people directory for the page.
    const lookups: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/people?ids=')) lookups.push(r.url());
    });
    await page.reload();
    const hideFromAna = vitals.getByRole('checkbox', { name: 'Hide from Ana Silveira (a.silveira)' });
    await hideFromAna.waitFor();
    expect(await hideFromAna.isChecked()).toBe(true);
    expect(
      await vitals.getByRole('checkbox', { name: 'Hide from Leo Marques (grandson.leo)' }).isChecked(),
    ).toBe(false);
    expect(await page.getByTestId('consent-summary').textContent()).toContain(
      'Hidden from Ana Silveira (a.silveira): vital signs.',
    );
    expect(await vitals.textContent()).toContain('Hidden from: Ana Silveira (a.silveira).');
    await expect.poll(() => caregiverRow.textContent()).toContain('Caregiver Leo Marques (grandson.leo)');
    expect(await page.getByText(ana.id).count()).toBe(0);
    expect(lookups).toHaveLength(1);
    expect(new Set(new URL(lookups[0] as string).searchParams.get('ids')?.split(','))).toEqual(
      new Set([ana.id, carer.id]),
    );
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems).toEqual([]);
    await close();

    // The restriction binds Ana alone: she is refused the vital signs, her colleague still sees them.
    for (const [who, expected] of [
      [ana, { entries: 0, trends: 403 }],
      [rui, { entries: 1, trends: 200 }],
    ] as const) {
      const staff = await openPage(browser, t.platform.httpUrl);
      await signInThroughPage(staff.page, who);
      expect(await spo2As(staff.page, device.patientId), who.username).toEqual(expected);
      await staff.close();
    }
  }, 120_000);

  it('lets an administrator add a nurse to a care team by name', async () => {
    const { t, browser } = suite;
    const nurse = await namedPerson(t, {
      username: 'n.barros',
      displayName: 'Beatriz Barros',
      roles: ['nurse'],
    });
    await namedPerson(t, { username: 'carer.barros', displayName: 'Tiago Barros', roles: ['caregiver'] });
    const team = await t.api('POST', '/api/v1/admin/care-teams', { name: 'Ward 3' });
    // A member whose account was disabled since: the directory no longer answers for them.
    const gone = await namedPerson(t, { username: 'n.gone', displayName: 'Gone Nurse', roles: ['nurse'] });
    await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/members/${gone.id}`);
    expect((await t.api('POST', `/api/v1/admin/users/${gone.id}/disable`)).status).toBe(200);
    const admin = await namedPerson(t, {
      username: 'ops.admin',
      displayName: 'Ops',
      roles: ['administrator'],
    });
    const { page, problems, close } = await openPage(browser, t.platform.httpUrl);
    await signInThroughPage(page, admin);
    await page.goto('/#/admin/care-teams');
    const section = page.locator(`[data-testid="care-team"][data-team-id="${team.body.id}"]`);
    const find = section.getByRole('combobox', { name: 'Add a clinician or nurse' });
    await find.fill('barros');
    const options = section.getByRole('listbox').getByRole('option');
    // Only clinicians and nurses: the caregiver of the same name is not offered.
    await expect.poll(() => options.allTextContents()).toEqual(['Beatriz Barrosn.barros · nurse']);
    expect(await accessibilityProblems(page)).toEqual([]);
    await options.first().click();
    await section.getByRole('button', { name: 'Add member' }).click();
    const member = section.locator(`[data-testid="team-member"][data-user-id="${nurse.id}"]`);
    await member.waitFor();
    expect(new Set((await t.api('GET', `/api/v1/admin/care-teams/${team.body.id}`)).body.members)).toEqual(
      new Set([nurse.id, gone.id]),
    );
    // Named from the directory, after a reload too; the disabled member by id, "(not found)".
    await page.reload();
    await expect.poll(() => member.textContent()).toContain('Beatriz Barros (n.barros, nurse)');
    const goneRow = section.locator(`[data-testid="team-member"][data-user-id="${gone.id}"]`);
    await expect.poll(() => goneRow.textContent()).toContain(`${gone.id} (not found)`);
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems).toEqual([]);
    await close();
  }, 90_000);

  it('lets an administrator add a patient to a care team found by identifier', async () => {
    const { t, browser } = suite;
    const register = async (body: Record<string, string>): Promise<string> => {
      const made = await t.api('POST', '/api/v1/admin/patients', body);
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      return made.body.id;
    };
    // Two registrations of one hospital number (told apart by birth date), and a team that already has a
    // named patient and an erased one.
    const maria = await register({
      displayName: 'Maria Santos',
      identifier: 'H-20931',
      birthDate: '1948-05-02',
    });
    const mario = await register({
      displayName: 'Mário Santos',
      identifier: 'H-20931',
      birthDate: '1971-11-30',
    });
    const joao = await register({ displayName: 'João Pires', identifier: 'H-11', birthDate: '1950-01-09' });
    const erased = await register({ displayName: 'Gone Patient', identifier: 'H-12' });
    expect((await t.api('POST', `/api/v1/admin/patients/${erased}/erase`, { reason: 'test' })).status).toBe(
      200,
    );
    const team = await t.api('POST', '/api/v1/admin/care-teams', { name: 'Cardiology at home' });
    for (const p of [joao, erased])
      expect((await t.api('PUT', `/api/v1/admin/care-teams/${team.body.id}/patients/${p}`)).status).toBe(200);
    const admin = await namedPerson(t, {
      username: 'ward.admin',
      displayName: 'Ward Admin',
      roles: ['administrator'],
    });
    const { page, problems, close } = await openPage(browser, t.platform.httpUrl);
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await signInThroughPage(page, admin);
    await page.goto('/#/admin/care-teams');
    const section = page.locator(`[data-testid="care-team"][data-team-id="${team.body.id}"]`);
    const row = (id: string) => section.locator(`[data-testid="team-patient"][data-patient-id="${id}"]`);
    // The team's patients by name; the erased one by record id, saying so.
    await expect.poll(() => row(joao).textContent()).toContain('João Pires (identifier H-11)');
    await expect.poll(() => row(erased).textContent()).toContain(`${erased} (erased)`);
    expect(
      await section.getByRole('button', { name: 'Remove João Pires from Cardiology at home' }).count(),
    ).toBe(1);

    const find = section.getByRole('textbox', { name: 'Find patient by identifier' });
    const status = section.getByTestId('find-patient-status');
    // Nothing typed: said on the field, nothing asked.
    await section.getByRole('button', { name: 'Find patient' }).click();
    await expect
      .poll(() => section.getByText("Type the patient's identifier (hospital number).").count())
      .toBe(1);
    expect(await find.getAttribute('aria-invalid')).toBe('true');
    // Searched on Enter, exactly: a part of the number finds no one.
    await find.fill('H-2093');
    await find.press('Enter');
    await expect.poll(() => status.textContent()).toBe('No patient with this identifier.');
    await find.fill(' H-20931 ');
    await find.press('Enter');
    await expect.poll(() => status.textContent()).toBe('2 patients found.');
    const found = section
      .getByRole('list', { name: 'Patients with identifier H-20931' })
      .getByRole('listitem');
    expect(await found.allTextContents()).toEqual([
      expect.stringContaining(
        `Maria Santos born 1948-05-02 · identifier H-20931 · record ${maria}Add to team`,
      ),
      expect.stringContaining(
        `Mário Santos born 1971-11-30 · identifier H-20931 · record ${mario}Add to team`,
      ),
    ]);
    expect(await accessibilityProblems(page)).toEqual([]);

    // Keyboard: from the identifier, Tab past "Find patient" to Maria's "Add to team", Enter adds her.
    await find.focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    const addMaria = section.getByRole('button', { name: /^Add to team Cardiology at home: Maria Santos,/ });
    expect(await addMaria.evaluate((b) => b === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(() => status.textContent()).toBe('Added Maria Santos to Cardiology at home.');
    await expect.poll(() => row(maria).textContent()).toContain('Maria Santos (identifier H-20931)');
    expect(await find.evaluate((i) => i === document.activeElement)).toBe(true);
    await expect
      .poll(() => section.locator(`[data-testid="found-patient"][data-patient-id="${maria}"]`).textContent())
      .toContain('In this team');
    expect(new Set((await t.api('GET', `/api/v1/admin/care-teams/${team.body.id}`)).body.patients)).toEqual(
      new Set([joao, erased, maria]),
    );
    expect(await accessibilityProblems(page)).toEqual([]);

    // After a reload: named again by one read per patient, the identifier never in a URL, and the whole
    // patient list no longer loaded for this screen.
    expect(urls.filter((u) => u.includes('H-20931'))).toEqual([]);
    // Maria was named from the search: not read again.
    expect(urls.filter((u) => new URL(u).pathname === `/api/v1/admin/patients/${maria}`)).toEqual([]);
    urls.length = 0;
    await page.reload();
    await expect.poll(() => row(maria).textContent()).toContain('Maria Santos (identifier H-20931)');
    await expect.poll(() => row(joao).textContent()).toContain('João Pires');
    const reads = urls.filter((u) => new URL(u).pathname.startsWith('/api/v1/admin/patients/'));
    for (const id of [maria, joao, erased])
      expect(reads.filter((u) => new URL(u).pathname === `/api/v1/admin/patients/${id}`)).toHaveLength(1);
    expect(urls.filter((u) => new URL(u).pathname === '/api/v1/admin/patients')).toEqual([]);
    expect(urls.filter((u) => u.includes('H-20931') || u.includes('H-11'))).toEqual([]);
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems).toEqual([]);
    await close();
  }, 90_000);
});
