import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startTestPlatform, type TestPlatform } from '../../test/harness.ts';
import { provisionAccount } from '../identity/testing.ts';
import type { AdminConnection } from './admin-client.ts';
import { userIdOf } from './people.ts';

describe('naming a person on the command line', () => {
  let t: TestPlatform;
  let c: AdminConnection;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    t = await startTestPlatform(backends[0] as (typeof backends)[number]);
    c = { url: t.platform.httpUrl, token: t.adminToken };
    const h = { base: t.platform.httpUrl, adminToken: t.adminToken };
    for (const username of ['nurse.ade', 'nurse.adeyemi'])
      ids[username] = (await provisionAccount(h, { username, roles: ['nurse'] })).id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('finds the account whose username is given exactly, not one that merely begins with it', async () => {
    expect(await userIdOf(c, 'nurse.ade')).toBe(ids['nurse.ade']);
    expect(await userIdOf(c, ' Nurse.Adeyemi ')).toBe(ids['nurse.adeyemi']);
  });

  it('passes a user id through, and says what to do with a username nobody has', async () => {
    const id = ids['nurse.ade'] as string;
    expect(await userIdOf(c, id)).toBe(id);
    await expect(userIdOf(c, 'nurse.nobody')).rejects.toThrow(/give the exact username or the user id/);
  });
});
