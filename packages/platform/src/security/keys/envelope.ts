/**
 * The one ciphertext format used for data at rest: AES-256-GCM (node:crypto) in a versioned envelope.
 *
 *   byte 0        version (0x01)
 *   bytes 1..12   nonce: 96 random bits, fresh for every seal
 *   bytes 13..n-16 ciphertext (as long as the plaintext)
 *   last 16 bytes GCM authentication tag (128 bits)
 *
 * The additional authenticated data (AAD) is not stored: the caller supplies it on both sides, and it binds
 * the ciphertext to its place (a patient id, a purpose). Opening with another AAD, key or altered byte
 * fails. A new version byte, not a changed layout, is how the format evolves.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const ENVELOPE_VERSION = 0x01;
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const ENVELOPE_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;
/** Nothing kept at rest comes near this; a longer "envelope" is refused before any work. */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;

/** A refused envelope: malformed, or it does not authenticate. Never carries plaintext or keys. */
export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
}

export interface ParsedEnvelope {
  readonly version: typeof ENVELOPE_VERSION;
  readonly nonce: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/** Splits an envelope into its parts, refusing anything that is not a well-formed version 1 envelope. */
export function parseEnvelope(bytes: Uint8Array): ParsedEnvelope {
  if (!(bytes instanceof Uint8Array)) throw new EnvelopeError('envelope must be bytes');
  if (bytes.length < ENVELOPE_OVERHEAD)
    throw new EnvelopeError(`envelope too short: ${bytes.length} bytes, at least ${ENVELOPE_OVERHEAD}`);
  if (bytes.length > MAX_ENVELOPE_BYTES) throw new EnvelopeError('envelope too long');
  if (bytes[0] !== ENVELOPE_VERSION)
    throw new EnvelopeError(`unknown envelope version ${bytes[0]} (this platform reads version 1)`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    version: ENVELOPE_VERSION,
    nonce: b.subarray(1, 1 + NONCE_BYTES),
    ciphertext: b.subarray(1 + NONCE_BYTES, b.length - TAG_BYTES),
    tag: b.subarray(b.length - TAG_BYTES),
  };
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new EnvelopeError(`key must be ${KEY_BYTES} bytes`);
}

/** Encrypts and authenticates plaintext under key, bound to aad. */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  checkKey(key);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(ENVELOPE_VERSION), nonce, ciphertext, cipher.getAuthTag()]);
}

/** Decrypts an envelope; throws EnvelopeError when it is malformed or does not authenticate. */
export function open(key: Uint8Array, envelope: Uint8Array, aad: Uint8Array): Buffer {
  checkKey(key);
  const e = parseEnvelope(envelope);
  const decipher = createDecipheriv('aes-256-gcm', key, e.nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(e.tag);
  try {
    return Buffer.concat([decipher.update(e.ciphertext), decipher.final()]);
  } catch {
    throw new EnvelopeError('envelope does not authenticate: wrong key, wrong context or altered bytes');
  }
}
