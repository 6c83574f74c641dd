/**
 * The patient's own data key for what the patient wrote (messages, an erasure request's reason): the same
 * key that seals their identity (patient-vault.ts), wrapped by the master key in patient_keys. A patient
 * registered without identity has no key yet; the first thing sealed for them makes one. Erasure destroys
 * it, and with it every envelope sealed under it.
 */
import { EnvelopeError, open, seal } from '../security/keys/envelope.ts';
import { MasterKeyError } from '../security/keys/key-service.ts';
import type { PatientVault } from './patient-vault.ts';
import { nowIso } from './sql.ts';
import { type Database, StoreError } from './types.ts';

/** The patient was erased: their key is destroyed, so nothing sealed under it can be read or written. */
export class PatientErasedError extends Error {
  override name = 'PatientErasedError';
  constructor(readonly patientId: string) {
    super(`patient ${patientId} was erased: their data key is destroyed`);
  }
}

/** Sealed texts are padded to a multiple of this, so ciphertext lengths say little about what was written. */
const PAD_TO = 64;

/** Seals a text as `{"t": text}` plus padding (JSON ignores trailing blanks), bound to `aad`. */
export function sealText(key: Buffer, text: string, aad: string): Buffer {
  const json = JSON.stringify({ t: text });
  const length = Buffer.byteLength(json, 'utf8');
  const padded = json + ' '.repeat(Math.ceil((length + 1) / PAD_TO) * PAD_TO - length);
  return seal(key, Buffer.from(padded, 'utf8'), Buffer.from(aad, 'utf8'));
}

export function openText(key: Buffer, envelope: Uint8Array, aad: string): string {
  try {
    const doc = JSON.parse(open(key, envelope, Buffer.from(aad, 'utf8')).toString('utf8')) as { t?: unknown };
    if (typeof doc.t !== 'string') throw new MasterKeyError('a sealed text has no text');
    return doc.t;
  } catch (e) {
    if (e instanceof EnvelopeError)
      throw new MasterKeyError(`a sealed text cannot be decrypted: ${e.message}`);
    throw e;
  }
}

interface KeyRow {
  erased_at: string | null;
  wrapped_key: Uint8Array | null;
  key_service: string | null;
  destroyed_at: string | null;
}

/**
 * The patient's data key: StoreError('not-found') for an unknown patient, PatientErasedError once erased,
 * undefined when they have none yet and `create` is false (nothing can have been sealed for them).
 */
export async function patientDataKey(
  db: Database,
  vault: PatientVault | undefined,
  patientId: string,
  create: boolean,
): Promise<Buffer | undefined> {
  if (!vault) throw new MasterKeyError('no key service is configured: patient data cannot be sealed or read');
  const { rows } = await db.query<KeyRow>(
    `SELECT p.erased_at, k.wrapped_key, k.key_service, k.destroyed_at
       FROM patients p LEFT JOIN patient_keys k ON k.patient_id = p.id WHERE p.id = $1`,
    [patientId],
  );
  const row = rows[0];
  if (row === undefined) throw new StoreError('not-found', `no patient ${patientId}`, 'patientId');
  if (row.erased_at !== null || row.destroyed_at !== null) throw new PatientErasedError(patientId);
  if (row.wrapped_key !== null && row.key_service !== null)
    return vault.dataKey(patientId, row.wrapped_key, row.key_service);
  if (!create) return undefined;
  const { dataKey, wrapped } = await vault.newDataKey(patientId);
  const made = await db.transaction(async (tx) => {
    // Shares the lock erasure takes for update: an erasure either finished before, or waits for this.
    const { rows: p } = await tx.query<{ erased_at: string | null }>(
      'SELECT erased_at FROM patients WHERE id = $1 FOR SHARE',
      [patientId],
    );
    if (p[0] === undefined || p[0].erased_at !== null) return 'erased' as const;
    const { rows: inserted } = await tx.query(
      `INSERT INTO patient_keys (patient_id, wrapped_key, key_service, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (patient_id) DO NOTHING RETURNING patient_id`,
      [patientId, wrapped, vault.keyServiceId, nowIso()],
    );
    return inserted.length > 0;
  });
  if (made === 'erased') throw new PatientErasedError(patientId);
  if (!made) return patientDataKey(db, vault, patientId, false); // someone made it at the same moment
  vault.remember(patientId, dataKey);
  return dataKey;
}

/** Whether the patient was erased (undefined: no such patient). */
export async function isErased(db: Database, patientId: string): Promise<boolean | undefined> {
  const { rows } = await db.query<{ erased_at: string | null }>(
    'SELECT erased_at FROM patients WHERE id = $1',
    [patientId],
  );
  return rows[0] === undefined ? undefined : rows[0].erased_at !== null;
}
