import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rotateMasterCommand } from '../../cli/keys.ts';
import { loadConfig } from '../../config/config.ts';
import { deliverySecretSealer, totpSecretSealer } from '../../identity/secret-sealer.ts';
import { newTotpSecret, totpCode, verifyTotp } from '../../identity/totp.ts';
import { OAuthClients } from '../../oauth/clients.ts';
import { startPlatform } from '../../platform.ts';
import { openStore } from '../../store/store.ts';
import type { Database } from '../../store/types.ts';
import { subscriptionStore } from '../../subscriptions/subscription-store.ts';
import type { KeyService } from './key-service.ts';
import { defaultMasterKeyPath, openMasterKeyService } from './master-key-file.ts';

const sink = () =>
  Object.assign(
    new Writable({
      write(chunk, _e, done) {
        sink.text += String(chunk);
        done();
      },
    }),
  );
sink.text = '';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openiomt-rotate-'));
  sink.text = '';
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Seeded {
  readonly keys: KeyService;
  readonly patientIds: string[];
  readonly userId: string;
  readonly totp: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly webhookId: string;
  readonly webhookSecret: string;
  readonly subscriptionId: string;
  readonly subscriptionSecret: string;
}

const HEADERS = ['Authorization: Bearer MARKER-rotate', 'X-Ward: 9'];

/** The webhook's secret and the Subscription's secret and headers, opened with `keys` from the rows. */
async function deliverySecrets(db: Database, keys: KeyService, s: Seeded) {
  const sealer = deliverySecretSealer(keys);
  const { rows: hook } = await db.query<{ secret_sealed: string }>(
    'SELECT secret_sealed FROM webhooks WHERE id = $1',
    [s.webhookId],
  );
  const { rows: sub } = await db.query<{ secret_sealed: string; headers_sealed: string }>(
    'SELECT secret_sealed, headers_sealed FROM fhir_subscriptions WHERE id = $1',
    [s.subscriptionId],
  );
  return {
    webhook: await sealer.open('webhook-secret', s.webhookId, hook[0]!.secret_sealed),
    subscription: await sealer.open('subscription-secret', s.subscriptionId, sub[0]!.secret_sealed),
    headers: JSON.parse(
      await sealer.open('subscription-headers', s.subscriptionId, sub[0]!.headers_sealed),
    ) as string[],
  };
}

/**
 * Patients with identities, a message, a TOTP secret, an OAuth client secret, a webhook and a rest-hook
 * Subscription with headers, under the file key.
 */
async function seed(patients = 5, corrupt = false): Promise<Seeded> {
  const keys = await openMasterKeyService({ dataDir: dir });
  const store = await openStore({ dataDir: join(dir, 'pg'), keys });
  try {
    const patientIds: string[] = [];
    for (let i = 0; i < patients; i++)
      patientIds.push(
        (await store.patients.create({ identifier: `MRN-${i}`, displayName: `Patient ${i}` })).id,
      );
    await store.patients.create({}); // no identity, no key
    const user = await store.users.create({
      username: 'nurse',
      roles: ['clinician'],
      setupTokenHash: 'once',
      setupExpiresAt: new Date(Date.now() + 3600_000).toISOString(),
      at: new Date().toISOString(),
    });
    const totp = newTotpSecret();
    expect(await store.users.startTotp(user.id, await totpSecretSealer(keys).seal(totp, user.id))).toBe(true);
    await store.messages.send({
      patientId: patientIds[0] as string,
      senderUserId: user.id,
      senderRole: 'clinician',
      body: 'Your results are in',
    });
    const { client, secret } = await new OAuthClients(store.db, keys).create({
      name: 'Lab system',
      redirectUris: [],
      grantTypes: ['client_credentials'],
      scope: 'system/Observation.read',
      public: false,
    });
    const hook = await store.webhooks.create({ url: 'https://example.org/hook' });
    const sub = await subscriptionStore(store.db, keys).create({
      owner: { kind: 'user', id: user.id, roles: ['clinician'], mfa: false },
      criteria: 'Observation?code=http://loinc.org|8867-4',
      reason: 'rotation',
      channelType: 'rest-hook',
      endpoint: 'https://example.org/fhir-hook',
      headers: HEADERS,
      content: 'id-only',
    });
    if (corrupt)
      await store.db.query(
        `UPDATE patient_keys SET wrapped_key = set_byte(wrapped_key, 20, get_byte(wrapped_key, 20) # 1)
         WHERE patient_id = $1`,
        [patientIds[patients - 2]],
      );
    return {
      keys,
      patientIds,
      userId: user.id,
      totp,
      clientId: client.id,
      clientSecret: secret as string,
      webhookId: hook.webhook.id,
      webhookSecret: hook.secret,
      subscriptionId: sub.subscription.id,
      subscriptionSecret: sub.secret as string,
    };
  } finally {
    await store.close();
  }
}

describe('openiomt keys rotate-master', () => {
  it('re-wraps every key under a new master key: the platform reads everything with the new key only', async () => {
    const s = await seed();
    const oldFile = await readFile(defaultMasterKeyPath(dir), 'utf8');
    const result = await rotateMasterCommand({ dataDir: dir }, sink());
    expect(result).toMatchObject({
      oldKeyId: s.keys.id,
      patientKeys: 5,
      identifierIndexes: 5,
      totpSecrets: 1,
      clientSecrets: 1,
      webhookSecrets: 1,
      subscriptionSecrets: 1,
    });
    expect(sink.text).toMatch(/Master key rotated: file:\w+ -> file:\w+/);
    expect(sink.text).toMatch(/webhook and rest-hook Subscription secrets re-sealed: 1 \+ 1/);
    expect(sink.text).toMatch(/patient data keys re-wrapped: 5/);
    // The old key is kept, renamed, until the operator deletes it; the new one is in its place.
    const retired = (await readdir(join(dir, 'keys'))).filter((f) => f.startsWith('master.key.retired-'));
    expect(retired).toHaveLength(1);
    expect(await readFile(join(dir, 'keys', retired[0] as string), 'utf8')).toBe(oldFile);
    expect(await readFile(defaultMasterKeyPath(dir), 'utf8')).not.toBe(oldFile);
    // Nothing is left under the old key: a store opened with it is refused.
    await expect(openStore({ dataDir: join(dir, 'pg'), keys: s.keys })).rejects.toThrow(/another master key/);

    const platform = await startPlatform(
      loadConfig({ flags: { dataDir: dir, httpPort: 0, mqttPort: 0, logLevel: 'silent' } }),
    );
    try {
      const store = platform.store;
      const keys = store.keys as KeyService;
      expect(keys.id).toBe(result.newKeyId);
      for (const [i, id] of s.patientIds.entries())
        expect(await store.patients.get(id)).toMatchObject({
          identifier: `MRN-${i}`,
          displayName: `Patient ${i}`,
        });
      expect((await store.patients.findByIdentifier('MRN-3')).map((p) => p.id)).toEqual([s.patientIds[3]]);
      const messages = await store.messages.list({ patientId: s.patientIds[0] as string, limit: 10 });
      expect(messages.items.map((m) => m.body)).toEqual(['Your results are in']);
      const sealed = (await store.users.record(s.userId))?.totpSecret as string;
      const totp = await totpSecretSealer(keys).open(sealed, s.userId);
      expect(totp).toBe(s.totp);
      const now = Date.now();
      expect(await verifyTotp(totp, await totpCode(totp, now), now, undefined)).toBeDefined();
      const client = await new OAuthClients(store.db, keys).metadataFor(s.clientId);
      expect(client?.client_secret).toBe(s.clientSecret);
      expect(await deliverySecrets(store.db, keys, s)).toEqual({
        webhook: s.webhookSecret,
        subscription: s.subscriptionSecret,
        headers: HEADERS,
      });
      // The old key no longer opens them: they were re-sealed, not copied.
      await expect(deliverySecrets(store.db, s.keys, s)).rejects.toThrow(/does not authenticate/);
      expect((await subscriptionStore(store.db, keys).get(s.subscriptionId))?.headers).toEqual(HEADERS);
    } finally {
      await platform.close();
    }
  }, 60_000);

  it('is atomic: a row the old key cannot open rolls everything back, all still under the old key', async () => {
    const s = await seed(5, true);
    const oldFile = await readFile(defaultMasterKeyPath(dir), 'utf8');
    await expect(rotateMasterCommand({ dataDir: dir }, sink())).rejects.toThrow(
      new RegExp(
        `rolled back: everything is still under the current master key ${s.keys.id}.*cannot unwrap the data key of ${s.patientIds[3]}`,
      ),
    );
    expect(await readFile(defaultMasterKeyPath(dir), 'utf8')).toBe(oldFile);
    expect(await readdir(join(dir, 'keys'))).toEqual(['master.key']);
    const store = await openStore({ dataDir: join(dir, 'pg'), keys: s.keys });
    try {
      // Patient 4 comes after the corrupt row: it was re-wrapped inside the transaction, then rolled back.
      for (const i of [0, 1, 2, 4])
        expect(await store.patients.get(s.patientIds[i] as string)).toMatchObject({
          displayName: `Patient ${i}`,
        });
      const { rows } = await store.db.query<{ key_service: string }>(
        'SELECT DISTINCT key_service FROM patient_keys UNION SELECT key_service FROM master_key_verifier',
      );
      expect(rows.map((r) => r.key_service)).toEqual([s.keys.id]);
      const sealed = (await store.users.record(s.userId))?.totpSecret as string;
      expect(await totpSecretSealer(s.keys).open(sealed, s.userId)).toBe(s.totp);
      expect(await deliverySecrets(store.db, s.keys, s)).toEqual({
        webhook: s.webhookSecret,
        subscription: s.subscriptionSecret,
        headers: HEADERS,
      });
    } finally {
      await store.close();
    }
  }, 60_000);

  it('rolls back when a delivery secret does not open for its row (moved from another column)', async () => {
    const s = await seed(1);
    const before = await openStore({ dataDir: join(dir, 'pg'), keys: s.keys });
    try {
      await before.db.query('UPDATE fhir_subscriptions SET headers_sealed = secret_sealed WHERE id = $1', [
        s.subscriptionId,
      ]);
    } finally {
      await before.close();
    }
    await expect(rotateMasterCommand({ dataDir: dir }, sink())).rejects.toThrow(
      new RegExp(
        `rolled back: .*the subscription-headers of ${s.subscriptionId} does not open with ${s.keys.id}`,
      ),
    );
    const store = await openStore({ dataDir: join(dir, 'pg'), keys: s.keys });
    try {
      const { rows } = await store.db.query<{ secret_sealed: string }>(
        'SELECT secret_sealed FROM webhooks WHERE id = $1',
        [s.webhookId],
      );
      // The webhook was re-sealed inside the transaction, then rolled back: it still opens with the old key.
      expect(
        await deliverySecretSealer(s.keys).open('webhook-secret', s.webhookId, rows[0]!.secret_sealed),
      ).toBe(s.webhookSecret);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('refuses while a platform holds the embedded database, a missing key file, and the same key twice', async () => {
    const s = await seed(1);
    const store = await openStore({ dataDir: join(dir, 'pg'), keys: s.keys });
    try {
      await expect(rotateMasterCommand({ dataDir: dir }, sink())).rejects.toThrow(
        /is locked by a running platform .*stop the platform first/,
      );
    } finally {
      await store.close();
    }
    // A different key than the database's is refused before anything changes.
    const other = join(dir, 'other.key');
    await rotateMasterCommand({ dataDir: dir, newMasterKeyFile: other }, sink());
    await expect(
      rotateMasterCommand({ dataDir: dir, masterKeyFile: join(dir, 'keys', 'master.key.new') }, sink()),
    ).rejects.toThrow(/does not exist/);
    await expect(
      rotateMasterCommand({ dataDir: dir, masterKeyFile: other, newMasterKeyFile: other }, sink()),
    ).rejects.toThrow(/is the current one/);
  }, 60_000);
});
