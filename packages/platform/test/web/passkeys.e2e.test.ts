/**
 * Passkeys in a real browser, with Chromium's virtual authenticator (DevTools protocol, WebAuthn domain)
 * standing in for a phone or laptop: a clinician adds one on the account page after password + TOTP, then
 * signs in with it alone and lands on the census; once removed it signs no one in.
 *
 * The page is opened at http://localhost:<port>, not 127.0.0.1: browsers refuse IP addresses as passkey
 * relying party ids, and without --public-url the platform only trusts a localhost Host (docs/identity.md).
 */
import type { Browser, CDPSession } from 'playwright-core';
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

describe('web app: passkeys', () => {
  let t: TestPlatform;
  let browser: Browser;
  const suite = startWebSuite();
  beforeAll(() => {
    ({ t, browser } = suite);
  });

  async function virtualAuthenticator(cdp: CDPSession): Promise<string> {
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return authenticatorId;
  }

  it('a clinician adds a passkey, signs in with it alone, removes it, and then it no longer works', async () => {
    const clinician = await makePerson(t, { username: 'dr.passkey', roles: ['clinician'] });
    const base = t.platform.httpUrl.replace('//127.0.0.1:', '//localhost:');
    const { page, problems, close } = await openPage(browser, base);
    const cdp = await page.context().newCDPSession(page);
    const authenticatorId = await virtualAuthenticator(cdp);

    await signInThroughPage(page, clinician);
    await page.getByRole('link', { name: 'dr.passkey' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByText('You have no passkeys yet.').waitFor();
    await page.getByLabel('Name for the passkey (optional)').fill('Ward laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByRole('status').filter({ hasText: 'Passkey “Ward laptop” added.' }).waitFor();
    await page.getByRole('cell', { name: 'Ward laptop', exact: true }).waitFor();
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.isResidentCredential).toBe(true);
    expect(credentials[0]?.rpId).toBe('localhost');
    await screenshot(page, 'account');
    expect(await accessibilityProblems(page)).toEqual([]);

    // Signed out (from the census), then back in with the passkey only: no username, no password, no code.
    await page.getByRole('link', { name: 'Census' }).click();
    await page.getByRole('heading', { name: 'Census' }).waitFor();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: 'Census' }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Code' }).count()).toBe(0);
    const me = await page.evaluate(() => fetch('/api/v1/auth/me').then((r) => r.json()));
    expect(me).toMatchObject({ username: 'dr.passkey', mfa: true });

    // Removed on the account page: the authenticator still holds it, but the platform no longer accepts it.
    await page.getByRole('link', { name: 'dr.passkey' }).click();
    const row = page.getByRole('cell', { name: 'Ward laptop', exact: true });
    await row.waitFor();
    await expect(page.getByRole('row').nth(1).textContent()).resolves.toMatch(/just now/);
    await page.getByRole('button', { name: 'Remove passkey Ward laptop' }).click();
    await page.getByText('You have no passkeys yet.').waitFor();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('Sign-in failed');
    expect(await page.getByRole('button', { name: 'Sign out', exact: true }).count()).toBe(0);
    expect((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials).toHaveLength(1);

    // "Sign out everywhere" on the account page ends the session and returns to the sign-in page.
    await signInThroughPage(page, clinician);
    await page.goto('/#/account');
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(problems).toEqual([]);
    await close();
  }, 90_000);
});
