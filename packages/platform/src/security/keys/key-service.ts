/**
 * The key service port: the one place that holds the master key (key-encryption key). Everything else
 * sees only per-patient data keys, wrapped by it, and keys derived from it for a named purpose.
 *
 * Implementations: LocalKeyService (the master key in this process: a key file in embedded mode, see
 * master-key-file.ts; or random in memory for tests). A production deployment can plug in a key
 * management service (an HTTP KMS, Vault Transit, a cloud KMS or an HSM) behind the same three calls: wrap
 * and unwrap become remote calls where the master key never leaves the service, and deriveKey becomes the
 * service's HMAC/derive operation, or a purpose key kept wrapped in the database. See docs/privacy.md.
 */
import { createHash, hkdfSync } from 'node:crypto';
import { EnvelopeError, KEY_BYTES, open, seal } from './envelope.ts';

export interface KeyService {
  /**
   * Names the master key (never reveals it): stored beside every wrapped key, so a database opened with
   * another master key is recognised at start instead of failing patient by patient.
   */
  readonly id: string;
  /** Encrypts a data key under the master key, bound to context (the patient id). */
  wrap(dataKey: Buffer, context: string): Promise<Buffer>;
  /** Recovers a data key; throws MasterKeyError when the master key or context is wrong, or bytes changed. */
  unwrap(wrapped: Buffer, context: string): Promise<Buffer>;
  /** A 256-bit key for one purpose (e.g. "identifier-index"), the same in every process sharing the master key. */
  deriveKey(purpose: string): Promise<Buffer>;
}

/** A problem with the master key or with what it protects; says what to do, never shows key material. */
export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

/** AAD of a wrapped data key: a domain label and the context, so a wrapped key cannot be moved. */
const wrapAad = (context: string): Buffer => Buffer.from(`openiomt/data-key/v1\u0000${context}`, 'utf8');

/** HKDF-SHA256 with a fixed salt; the purpose is the info, so each purpose gets an independent key. */
function derive(master: Buffer, purpose: string): Buffer {
  const salt = Buffer.from('openiomt/master-key/v1', 'utf8');
  return Buffer.from(hkdfSync('sha256', master, salt, Buffer.from(purpose, 'utf8'), KEY_BYTES));
}

/** A key service holding the 256-bit master key in this process. */
export class LocalKeyService implements KeyService {
  readonly id: string;
  readonly #master: Buffer;

  /** kind names where the key lives ("file", "memory"); it prefixes the id. */
  constructor(masterKey: Buffer, kind: string) {
    if (masterKey.length !== KEY_BYTES) throw new MasterKeyError(`master key must be ${KEY_BYTES} bytes`);
    this.#master = Buffer.from(masterKey);
    // A one-way fingerprint from its own derived key: recognises the key, reveals nothing about it.
    const fingerprint = createHash('sha256').update(derive(this.#master, 'key-id')).digest('hex');
    this.id = `${kind}:${fingerprint.slice(0, 16)}`;
  }

  async wrap(dataKey: Buffer, context: string): Promise<Buffer> {
    if (dataKey.length !== KEY_BYTES) throw new MasterKeyError(`data keys are ${KEY_BYTES} bytes`);
    return seal(this.#master, dataKey, wrapAad(context));
  }

  async unwrap(wrapped: Buffer, context: string): Promise<Buffer> {
    let key: Buffer;
    try {
      key = open(this.#master, wrapped, wrapAad(context));
    } catch (e) {
      if (e instanceof EnvelopeError)
        throw new MasterKeyError(
          `cannot unwrap the data key of ${context} with master key ${this.id}: wrong master key, or the stored key was altered or moved (${e.message})`,
        );
      throw e;
    }
    if (key.length !== KEY_BYTES) throw new MasterKeyError(`the data key of ${context} has a wrong length`);
    return key;
  }

  async deriveKey(purpose: string): Promise<Buffer> {
    if (purpose.length === 0 || purpose === 'key-id')
      throw new MasterKeyError(`invalid key purpose "${purpose}"`);
    return derive(this.#master, purpose);
  }

  /** Keeps the key out of logs and inspection. */
  toJSON(): { id: string } {
    return { id: this.id };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `LocalKeyService(${this.id})`;
  }
}
