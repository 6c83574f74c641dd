/**
 * The front door in a real browser: the sign-in page is the first thing a visitor sees; staff enrol an
 * authenticator on their first sign-in and type a code on later ones; a new account sets its password from
 * the one-time link; the page is served compressed under a strict content security policy.
 */
import type { Browser } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestPlatform } from '../harness.ts';
import {
  accessibilityProblems,
  makePerson,
  openPage,
  screenshot,
  signInThroughPage,
  startWebSuite,
} from './browser.ts';

describe('web app: signing in', () => {
  let t: TestPlatform;
  let browser: Browser;
  const suite = startWebSuite();
  beforeAll(() => {
    ({ t, browser } = suite);
  });

  it('serves the app compressed, cacheable by hash, under a strict CSP', async () => {
    const page = await fetch(`${t.platform.httpUrl}/`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await page.text();
    const script = /src="(\/assets\/main-[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${t.platform.httpUrl}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(js.headers.get('content-encoding')).toBe('gzip');
    expect(js.headers.get('cache-control')).toContain('immutable');
    const again = await fetch(`${t.platform.httpUrl}${script}`, {
      headers: { 'if-none-match': js.headers.get('etag') ?? '' },
    });
    expect(again.status).toBe(304);
    expect((await fetch(`${t.platform.httpUrl}/assets/nope.js`)).status).toBe(404);
  });

  it('has an accessibility check that does find problems (so its empty answers elsewhere mean something)', async () => {
    const { page, close } = await openPage(browser, t.platform.httpUrl);
    await page.setContent(
      '<!doctype html><html lang="en"><title>x</title><main><input type="text"><p style="color:#999;background:#aaa">faint</p></main></html>',
    );
    const problems = await accessibilityProblems(page);
    expect(problems.some((p) => p.startsWith('label'))).toBe(true);
    expect(problems.some((p) => p.startsWith('color-contrast'))).toBe(true);
    await close();
  });

  it('shows the sign-in page first, refuses a wrong password, then enrols a clinician authenticator', async () => {
    const nurse = await makePerson(t, { username: 'nurse.ada', roles: ['nurse'] });
    const { page, problems, close } = await openPage(browser, t.platform.httpUrl);
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.title()).toBe('OpenIoMT');
    await screenshot(page, 'sign-in');
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByLabel('Username').fill('nurse.ada');
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('Sign-in failed');

    await signInThroughPage(page, nurse);
    expect(nurse.totpSecret).toMatch(/^[A-Z2-7]{16,}$/);
    await expect(page.getByRole('navigation', { name: 'Main' }).textContent()).resolves.toContain('Census');

    // Signing out ends the session on the server too; the next sign-in asks for a code.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await signInThroughPage(page, nurse);
    await screenshot(page, 'home-nurse');
    expect(problems).toEqual([]);
    await close();
  }, 60_000);

  it('lets a new account choose its password from the one-time set-up link', async () => {
    const patient = await t.api('POST', '/api/v1/admin/patients', {});
    const made = await t.api('POST', '/api/v1/admin/users', {
      username: 'pat.lee',
      roles: ['patient'],
      patientId: patient.body.id,
    });
    expect(made.status).toBe(201);
    const { page, problems, close } = await openPage(browser, t.platform.httpUrl, {
      width: 390,
      height: 844,
    });
    await page.goto(made.body.setupPath);
    await page.getByLabel('New password', { exact: true }).fill('short');
    await page.getByLabel('New password again').fill('short');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('alert').first().waitFor();
    expect(await page.locator('[aria-invalid="true"]').count()).toBe(1);
    const password = 'copper harbour evening tide';
    await page.getByLabel('New password', { exact: true }).fill(password);
    await page.getByLabel('New password again').fill(password);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    await signInThroughPage(page, { id: made.body.user.id, username: 'pat.lee', password });
    expect(problems).toEqual([]);
    await close();
  }, 60_000);
});
