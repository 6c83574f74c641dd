/**
 * The master key verifier (migration 014): one random key wrapped by the current master key. Checked at
 * every start, it refuses a database another master key encrypted even when no patient holds a key yet, and
 * it names the master key that the secrets sealed under derived keys (TOTP, OAuth client secrets) are under.
 */
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../store/types.ts';
import { KEY_BYTES } from './envelope.ts';
import { type KeyService, MasterKeyError } from './key-service.ts';

/** The wrap context of the verifier: no patient id can take this form. */
export const VERIFIER_CONTEXT = 'openiomt/master-key-verifier';

interface VerifierRow {
  key_service: string;
  verifier: Uint8Array;
}

/** A new verifier for `keys`, to store. */
export async function newVerifier(keys: KeyService): Promise<Buffer> {
  return keys.wrap(randomBytes(KEY_BYTES), VERIFIER_CONTEXT);
}

/**
 * Refuses a database whose verifier another master key wrapped (or that does not unwrap); stores one for
 * `keys` when there is none yet. Without a key service there is nothing to check.
 */
export async function checkMasterKeyVerifier(db: Queryable, keys: KeyService | undefined): Promise<void> {
  if (!keys) return;
  const { rows } = await db.query<VerifierRow>('SELECT key_service, verifier FROM master_key_verifier');
  const row = rows[0];
  if (row === undefined) {
    await db.query(
      `INSERT INTO master_key_verifier (key_service, verifier, since) VALUES ($1, $2, $3)
       ON CONFLICT (singleton) DO NOTHING`,
      [keys.id, await newVerifier(keys), new Date().toISOString()],
    );
    return;
  }
  const fix =
    'start with the master key this database was created with (--master-key-file or OPENIOMT_MASTER_KEY_FILE), or the new one if it was rotated (openiomt keys rotate-master)';
  if (row.key_service !== keys.id)
    throw new MasterKeyError(
      `this database is encrypted under master key ${row.key_service}; the configured master key is ${keys.id}: ${fix}`,
    );
  try {
    await keys.unwrap(Buffer.from(row.verifier), VERIFIER_CONTEXT);
  } catch (e) {
    if (e instanceof MasterKeyError)
      throw new MasterKeyError(
        `the configured master key ${keys.id} does not open this database's key verifier: ${fix}`,
      );
    throw e;
  }
}
