/**
 * End-to-end harness for the web app: Debian's Chromium driven by playwright-core against a real running
 * platform (real store, real MQTT, real HTTP). People are made through the admin API, then sign in through
 * the pages themselves, with a real TOTP code from the secret the enrolment screen shows.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { provisionAccount } from '../../src/identity/testing.ts';
import { totpCode } from '../../src/identity/totp.ts';
import { backends, startTestPlatform, type TestPlatform } from '../harness.ts';

export const CHROMIUM = process.env.OPENIOMT_CHROMIUM ?? '/usr/bin/chromium';

/** Headless Chromium with the flags this closed network needs (no background connections). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no browser at ${CHROMIUM}: install it with 'apt-get install chromium' (or set OPENIOMT_CHROMIUM)`,
    );
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface Person {
  readonly id: string;
  readonly username: string;
  readonly password: string;
  /** Staff: the authenticator secret enrolled during the first sign-in. */
  totpSecret?: string;
}

/** A page whose console errors and failed requests are collected, so a test can assert there were none. */
export async function openPage(
  browser: Browser,
  base: string,
  viewport = { width: 1280, height: 860 },
): Promise<{ page: Page; problems: string[]; close(): Promise<void> }> {
  const context = await browser.newContext({ viewport, baseURL: base });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    // 4xx answers are the API refusing something the test provoked; the page shows them itself.
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { page, problems, close: () => context.close() };
}

/** Makes an account through the admin API (the password is set with its one-time set-up link). */
export async function makePerson(
  t: TestPlatform,
  a: { username: string; roles: string[]; patientId?: string },
): Promise<Person> {
  return provisionAccount({ base: t.platform.httpUrl, adminToken: t.adminToken }, a);
}

/**
 * Signs in through the sign-in page. A staff member's first sign-in enrols the authenticator: the secret
 * shown on the page is read back and a real code typed; later sign-ins type a fresh code.
 */
export async function signInThroughPage(page: Page, person: Person): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Username').fill(person.username);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const enrol = page.getByRole('button', { name: 'Show the set-up code' });
  const code = page.getByRole('form', { name: 'Authenticator code' });
  const signedIn = page.getByRole('button', { name: 'Sign out' });
  await enrol.or(code).or(signedIn).first().waitFor();
  if (await enrol.isVisible()) {
    await enrol.click();
    person.totpSecret = (await page.getByTestId('totp-secret').textContent())?.trim() ?? '';
    await page
      .getByRole('textbox', { name: 'First code from the app' })
      .fill(await totpCode(person.totpSecret, Date.now()));
    await page.getByRole('button', { name: 'Confirm' }).click();
  } else if (await code.isVisible()) {
    if (!person.totpSecret)
      throw new Error(`${person.username} has an authenticator this test does not know`);
    // A code is accepted once: the next time step's code (the platform allows one step of drift).
    await page
      .getByRole('textbox', { name: 'Code' })
      .fill(await totpCode(person.totpSecret, Date.now() + 30_000));
    await page.getByRole('button', { name: 'Verify' }).click();
  }
  await signedIn.waitFor();
}

const here = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = join(here, '../../../../docs/screenshots');

/** Refreshes a screenshot in docs/screenshots (the docs show what the tests saw). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * WCAG 2 A and AA problems axe-core finds on the page as it is now (labels, names, contrast, landmarks…),
 * serious and critical ones, one line each. Evaluated through the DevTools protocol, so the page's CSP does
 * not have to allow it.
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  return page.evaluate(`axe
    .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
    .then((r) => r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.id + ' (' + v.nodes.length + '): ' + v.help + ' at ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')))`);
}

/**
 * A platform (embedded store) and a browser shared by the tests of one file: started before them, closed
 * after. Read `t` and `browser` from the returned object once the suite's own beforeAll runs.
 */
export function startWebSuite(): { t: TestPlatform; browser: Browser } {
  const suite = {} as { t: TestPlatform; browser: Browser };
  beforeAll(async () => {
    suite.t = await startTestPlatform(backends[0] as (typeof backends)[number]);
    suite.browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await suite.browser?.close();
    await suite.t?.close();
  });
  return suite;
}
