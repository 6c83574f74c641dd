/**
 * Encryption of patient identity at rest, in memory only: per-patient data keys wrapped by the key service,
 * the identity document sealed under the patient's data key, and the keyed blind index that finds a patient
 * by identifier without decrypting anyone. The database only ever sees envelopes and HMACs.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { EnvelopeError, KEY_BYTES, open, seal } from '../security/keys/envelope.ts';
import { type KeyService, MasterKeyError } from '../security/keys/key-service.ts';
import type { PatientIdentity } from './types.ts';

/** Version of the identity document's layout; part of its AAD, so a document is read as what it was sealed as. */
export const IDENTITY_VERSION = 1;
/** Sealed documents are padded to a multiple of this, so ciphertext lengths say little about names. */
const PAD_TO = 64;

const IDENTITY_FIELDS = ['identifier', 'displayName', 'birthDate', 'phone', 'email', 'address'] as const;

const identityAad = (patientId: string): Buffer =>
  Buffer.from(`openiomt/patient-identity/v${IDENTITY_VERSION}\u0000${patientId}`, 'utf8');

export interface VaultOptions {
  /** How long an unwrapped data key stays in memory (default 5 minutes). */
  readonly cacheTtlMs?: number;
  /** At most this many unwrapped keys in memory (default 10,000). */
  readonly cacheMax?: number;
  readonly now?: () => number;
}

/** Identity has at least one field set. */
export const hasIdentity = (i: PatientIdentity): boolean =>
  IDENTITY_FIELDS.some((f) => i[f] !== undefined && i[f] !== '');

/** The same identifier however it was typed around it: trimmed, Unicode NFC; case is kept (exact match). */
export const normaliseIdentifier = (identifier: string): string => identifier.trim().normalize('NFC');

export class PatientVault {
  readonly #keys: KeyService;
  readonly #cache = new Map<string, { key: Buffer; until: number }>();
  readonly #ttl: number;
  readonly #max: number;
  readonly #now: () => number;
  #indexKey: Promise<Buffer> | undefined;

  constructor(keys: KeyService, opts: VaultOptions = {}) {
    this.#keys = keys;
    this.#ttl = opts.cacheTtlMs ?? 5 * 60_000;
    this.#max = opts.cacheMax ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /** The key service that wraps data keys (the start-up check and rotation use it). */
  get keyService(): KeyService {
    return this.#keys;
  }

  /** Names the master key that wraps new data keys. */
  get keyServiceId(): string {
    return this.#keys.id;
  }

  /** A fresh random data key for a patient, and its wrapped form to store. */
  async newDataKey(patientId: string): Promise<{ dataKey: Buffer; wrapped: Buffer }> {
    const dataKey = randomBytes(KEY_BYTES);
    const wrapped = await this.#keys.wrap(dataKey, patientId);
    return { dataKey, wrapped };
  }

  /** The patient's data key from its wrapped form (cached for a while). */
  async dataKey(patientId: string, wrapped: Uint8Array, keyServiceId: string): Promise<Buffer> {
    const hit = this.#cache.get(patientId);
    if (hit && hit.until > this.#now()) return hit.key;
    if (keyServiceId !== this.#keys.id)
      throw new MasterKeyError(
        `the key of patient ${patientId} was wrapped by master key ${keyServiceId}, this platform holds ${this.#keys.id}`,
      );
    const key = await this.#keys.unwrap(Buffer.from(wrapped), patientId);
    this.remember(patientId, key);
    return key;
  }

  /** Keeps an unwrapped data key in memory for the cache lifetime (oldest dropped when full). */
  remember(patientId: string, key: Buffer): void {
    this.#cache.delete(patientId);
    if (this.#cache.size >= this.#max) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(patientId, { key, until: this.#now() + this.#ttl });
  }

  /** Drops a patient's key from memory (erasure). */
  forget(patientId: string): void {
    this.#cache.delete(patientId);
  }

  /** Seals the identity document (only the fields that are set). */
  sealIdentity(patientId: string, dataKey: Buffer, identity: PatientIdentity): Buffer {
    const doc: Record<string, string> = { v: String(IDENTITY_VERSION) };
    for (const f of IDENTITY_FIELDS) {
      const value = identity[f];
      if (value !== undefined && value !== '') doc[f] = value;
    }
    const json = JSON.stringify(doc);
    const length = Buffer.byteLength(json, 'utf8');
    const padded = json + ' '.repeat(Math.ceil((length + 1) / PAD_TO) * PAD_TO - length);
    return seal(dataKey, Buffer.from(padded, 'utf8'), identityAad(patientId));
  }

  /** Opens a sealed identity; throws MasterKeyError when it does not authenticate for this patient. */
  openIdentity(patientId: string, dataKey: Buffer, envelope: Uint8Array): PatientIdentity {
    let plain: Buffer;
    try {
      plain = open(dataKey, envelope, identityAad(patientId));
    } catch (e) {
      if (e instanceof EnvelopeError)
        throw new MasterKeyError(`the identity of patient ${patientId} cannot be decrypted: ${e.message}`);
      throw e;
    }
    const doc = JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
    const identity: Record<string, string> = {};
    for (const f of IDENTITY_FIELDS) if (typeof doc[f] === 'string') identity[f] = doc[f] as string;
    return identity as PatientIdentity;
  }

  /** The blind index of an identifier: HMAC-SHA256 under the "identifier-index" key. */
  async identifierIndex(identifier: string): Promise<Buffer> {
    this.#indexKey ??= this.#keys.deriveKey('identifier-index');
    return createHmac('sha256', await this.#indexKey)
      .update(normaliseIdentifier(identifier), 'utf8')
      .digest();
  }
}
