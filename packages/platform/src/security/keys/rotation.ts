/**
 * Master-key rotation (docs/privacy.md): in ONE transaction, every patient's data key is unwrapped with the
 * old master key and wrapped with the new one (its row then names the new key), every blind index is
 * recomputed under the new derived index key, every secret sealed under a derived key (TOTP, OAuth client
 * secrets, the signing secrets of webhooks and rest-hook Subscriptions and the rest-hooks' headers) is
 * re-sealed, and the verifier is replaced. Any failure (a row the old key cannot open) rolls it
 * all back: the database stays wholly under the old key. Patient data keys themselves do not change, so
 * identities and what patients wrote (sealed under those keys) are not touched.
 */

import {
  type DeliverySecretKind,
  type DeliverySecretSealer,
  deliverySecretSealer,
  totpSecretSealer,
} from '../../identity/secret-sealer.ts';
import { CLIENT_SECRET_PURPOSE, clientSecretAad } from '../../oauth/clients.ts';
import { PatientVault } from '../../store/patient-vault.ts';
import type { Database, Queryable } from '../../store/types.ts';
import { open, seal } from './envelope.ts';
import { type KeyService, MasterKeyError } from './key-service.ts';
import { checkMasterKeyVerifier, newVerifier } from './key-verifier.ts';

export interface RotationSummary {
  readonly oldKeyId: string;
  readonly newKeyId: string;
  readonly patientKeys: number;
  readonly identifierIndexes: number;
  readonly totpSecrets: number;
  readonly clientSecrets: number;
  /** Signing secrets of webhooks. */
  readonly webhookSecrets: number;
  /** Rest-hook Subscriptions whose signing secret (and headers, if any) were re-sealed. */
  readonly subscriptionSecrets: number;
  readonly seconds: number;
}

export interface RotationOptions {
  readonly db: Database;
  readonly from: KeyService;
  readonly to: KeyService;
  /** Called after each re-wrapped item (done of total). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Patient keys read per query (default 1000). */
  readonly batchSize?: number;
}

interface KeyRow {
  patient_id: string;
  wrapped_key: Uint8Array;
  identity: Uint8Array | null;
  identifier_index: Uint8Array | null;
}

export async function rotateMasterKey(opts: RotationOptions): Promise<RotationSummary> {
  const { from, to } = opts;
  if (from.id === to.id) throw new MasterKeyError(`the new master key is the current one (${from.id})`);
  const started = performance.now();
  return opts.db.transaction(async (tx) => {
    await checkMasterKeyVerifier(tx, from);
    const { rows: foreign } = await tx.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM patient_keys WHERE wrapped_key IS NOT NULL AND key_service <> $1`,
      [from.id],
    );
    if ((foreign[0]?.n ?? 0) > 0)
      throw new MasterKeyError(
        `${foreign[0]?.n} patient keys are not wrapped by the current master key ${from.id}`,
      );
    const total = await countWork(tx);
    let done = 0;
    const step = () => opts.onProgress?.(++done, total);
    const patients = await rewrapPatientKeys(tx, opts, step);
    const totpSecrets = await resealTotp(tx, from, to, step);
    const clientSecrets = await resealClientSecrets(tx, from, to, step);
    const delivery = await resealDeliverySecrets(tx, from, to, step);
    await tx.query('DELETE FROM master_key_verifier');
    await tx.query(`INSERT INTO master_key_verifier (key_service, verifier, since) VALUES ($1, $2, $3)`, [
      to.id,
      await newVerifier(to),
      new Date().toISOString(),
    ]);
    return {
      oldKeyId: from.id,
      newKeyId: to.id,
      patientKeys: patients.keys,
      identifierIndexes: patients.indexes,
      totpSecrets,
      clientSecrets,
      ...delivery,
      seconds: (performance.now() - started) / 1000,
    };
  });
}

async function countWork(tx: Queryable): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM patient_keys WHERE wrapped_key IS NOT NULL)
          + (SELECT count(*) FROM users WHERE totp_secret IS NOT NULL)
          + (SELECT count(*) FROM oauth_clients WHERE secret_sealed IS NOT NULL)
          + (SELECT count(*) FROM webhooks WHERE secret_sealed IS NOT NULL)
          + (SELECT count(*) FROM fhir_subscriptions
              WHERE secret_sealed IS NOT NULL OR headers_sealed IS NOT NULL) AS n`,
  );
  return Number(rows[0]?.n ?? 0);
}

/** Re-wraps each live data key and recomputes the patient's blind index, a page at a time. */
async function rewrapPatientKeys(
  tx: Queryable,
  opts: RotationOptions,
  step: () => void,
): Promise<{ keys: number; indexes: number }> {
  const oldVault = new PatientVault(opts.from, { cacheMax: 1 });
  const newVault = new PatientVault(opts.to, { cacheMax: 1 });
  const batch = opts.batchSize ?? 1000;
  let after = '';
  let keys = 0;
  let indexes = 0;
  for (;;) {
    const { rows } = await tx.query<KeyRow>(
      `SELECT k.patient_id, k.wrapped_key, p.identity, p.identifier_index
         FROM patient_keys k JOIN patients p ON p.id = k.patient_id
        WHERE k.wrapped_key IS NOT NULL AND k.patient_id > $1
        ORDER BY k.patient_id LIMIT $2 FOR UPDATE`,
      [after, batch],
    );
    for (const r of rows) {
      const dataKey = await opts.from.unwrap(Buffer.from(r.wrapped_key), r.patient_id);
      await tx.query('UPDATE patient_keys SET wrapped_key = $2, key_service = $3 WHERE patient_id = $1', [
        r.patient_id,
        await opts.to.wrap(dataKey, r.patient_id),
        opts.to.id,
      ]);
      keys++;
      if (r.identity !== null && r.identifier_index !== null) {
        const { identifier } = oldVault.openIdentity(r.patient_id, dataKey, r.identity);
        if (identifier === undefined)
          throw new MasterKeyError(`patient ${r.patient_id} has an identifier index but no identifier`);
        await tx.query('UPDATE patients SET identifier_index = $2 WHERE id = $1', [
          r.patient_id,
          await newVault.identifierIndex(identifier),
        ]);
        indexes++;
      }
      step();
    }
    const last = rows[rows.length - 1];
    if (!last || rows.length < batch) break;
    after = last.patient_id;
  }
  return { keys, indexes };
}

async function resealTotp(tx: Queryable, from: KeyService, to: KeyService, step: () => void) {
  const before = totpSecretSealer(from);
  const after = totpSecretSealer(to);
  const { rows } = await tx.query<{ id: string; totp_secret: string }>(
    'SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL ORDER BY id FOR UPDATE',
  );
  for (const r of rows) {
    const plain = await before.open(r.totp_secret, r.id).catch((e: Error) => {
      throw new MasterKeyError(`the TOTP secret of user ${r.id} does not open with ${from.id}: ${e.message}`);
    });
    await tx.query('UPDATE users SET totp_secret = $2 WHERE id = $1', [r.id, await after.seal(plain, r.id)]);
    step();
  }
  return rows.length;
}

async function resealClientSecrets(tx: Queryable, from: KeyService, to: KeyService, step: () => void) {
  const before = await from.deriveKey(CLIENT_SECRET_PURPOSE);
  const after = await to.deriveKey(CLIENT_SECRET_PURPOSE);
  const { rows } = await tx.query<{ id: string; secret_sealed: string }>(
    'SELECT id, secret_sealed FROM oauth_clients WHERE secret_sealed IS NOT NULL ORDER BY id FOR UPDATE',
  );
  for (const r of rows) {
    let plain: Buffer;
    try {
      plain = open(before, Buffer.from(r.secret_sealed, 'base64'), clientSecretAad(r.id));
    } catch (e) {
      throw new MasterKeyError(
        `the secret of OAuth client ${r.id} does not open with ${from.id}: ${(e as Error).message}`,
      );
    }
    const sealed = seal(after, plain, clientSecretAad(r.id)).toString('base64');
    await tx.query('UPDATE oauth_clients SET secret_sealed = $2 WHERE id = $1', [r.id, sealed]);
    step();
  }
  return rows.length;
}

/** Webhook and rest-hook signing secrets and rest-hook headers, each bound to its row and kind. */
async function resealDeliverySecrets(tx: Queryable, from: KeyService, to: KeyService, step: () => void) {
  const before = deliverySecretSealer(from);
  const after = deliverySecretSealer(to);
  const { rows: hooks } = await tx.query<{ id: string; secret_sealed: string }>(
    'SELECT id, secret_sealed FROM webhooks WHERE secret_sealed IS NOT NULL ORDER BY id FOR UPDATE',
  );
  for (const r of hooks) {
    const sealed = await reseal(before, after, 'webhook-secret', r.id, r.secret_sealed, from);
    await tx.query('UPDATE webhooks SET secret_sealed = $2 WHERE id = $1', [r.id, sealed]);
    step();
  }
  const { rows: subs } = await tx.query<{
    id: string;
    secret_sealed: string | null;
    headers_sealed: string | null;
  }>(
    `SELECT id, secret_sealed, headers_sealed FROM fhir_subscriptions
      WHERE secret_sealed IS NOT NULL OR headers_sealed IS NOT NULL ORDER BY id FOR UPDATE`,
  );
  for (const r of subs) {
    const secret =
      r.secret_sealed && (await reseal(before, after, 'subscription-secret', r.id, r.secret_sealed, from));
    const headers =
      r.headers_sealed && (await reseal(before, after, 'subscription-headers', r.id, r.headers_sealed, from));
    await tx.query('UPDATE fhir_subscriptions SET secret_sealed = $2, headers_sealed = $3 WHERE id = $1', [
      r.id,
      secret,
      headers,
    ]);
    step();
  }
  return { webhookSecrets: hooks.length, subscriptionSecrets: subs.length };
}

async function reseal(
  before: DeliverySecretSealer,
  after: DeliverySecretSealer,
  kind: DeliverySecretKind,
  id: string,
  sealed: string,
  from: KeyService,
): Promise<string> {
  const plain = await before.open(kind, id, sealed).catch((e: Error) => {
    throw new MasterKeyError(`the ${kind} of ${id} does not open with ${from.id}: ${e.message}`);
  });
  return after.seal(kind, id, plain);
}
