/**
 * A production key service: HashiCorp Vault's Transit secrets engine. The master key never leaves Vault:
 * wrap and unwrap are Vault's encrypt and decrypt (its "vault:v<n>:..." ciphertext is what the database
 * keeps), so a key rotated in Vault (`POST /v1/transit/keys/<key>/rotate`) wraps new data keys with its
 * latest version while older ciphertexts still decrypt; rewrap() moves one to the latest version.
 *
 * The context (the patient id) is bound inside the encrypted plaintext, which Vault authenticates, so a
 * wrapped key moved to another row does not unwrap. deriveKey is Vault's HMAC-SHA256 of the purpose under
 * key version 1, pinned so that Vault-side rotations leave derived keys (TOTP and OAuth client secrets,
 * the blind index) as they are. The token comes from VAULT_TOKEN only and never shows in logs or errors.
 * Plain HTTP is refused except to a loopback address (a local Vault agent).
 */
import { createHash } from 'node:crypto';
import { KEY_BYTES } from './envelope.ts';
import { type KeyService, MasterKeyError } from './key-service.ts';

export interface VaultTransitOptions {
  /** Vault's address, e.g. https://vault.example:8200. */
  readonly addr: string;
  /** The Transit key's name. */
  readonly key: string;
  readonly token: string;
  /** Where the Transit engine is mounted (default "transit"). */
  readonly mount?: string;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;
const NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const prefix = (context: string) => Buffer.from(`openiomt/data-key/v1\u0000${context}\u0000`, 'utf8');

/** Opens the service, checking the address and reaching Vault once (the key id comes from it). */
export async function openVaultTransitKeyService(opts: VaultTransitOptions): Promise<VaultTransitKeyService> {
  const service = new VaultTransitKeyService(opts);
  await service.init();
  return service;
}

export class VaultTransitKeyService implements KeyService {
  #id: string | undefined;
  readonly #token: string;
  readonly #base: string;
  readonly #key: string;
  readonly #timeoutMs: number;

  constructor(opts: VaultTransitOptions) {
    let url: URL;
    try {
      url = new URL(opts.addr);
    } catch {
      throw new MasterKeyError(`--vault-addr ${opts.addr} is not a URL`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname)))
      throw new MasterKeyError(
        `--vault-addr must be https:// (plain http only to a loopback address such as a local Vault agent), got ${url.protocol}//${url.host}`,
      );
    const mount = opts.mount ?? 'transit';
    if (!NAME.test(opts.key)) throw new MasterKeyError('--vault-key must be a Transit key name');
    if (!/^[A-Za-z0-9_./-]{1,128}$/.test(mount))
      throw new MasterKeyError('the Transit mount path is invalid');
    if (!opts.token) throw new MasterKeyError('the Vault token is missing: set VAULT_TOKEN');
    this.#token = opts.token;
    this.#base = `${url.origin}${url.pathname.replace(/\/$/, '')}/v1/${mount}`;
    this.#key = opts.key;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  get id(): string {
    if (this.#id === undefined) throw new MasterKeyError('the Vault key service is not opened yet');
    return this.#id;
  }

  /** The id: a fingerprint of the pinned HMAC key, the same for every process using this Transit key. */
  async init(): Promise<void> {
    const fingerprint = createHash('sha256')
      .update(await this.#hmac('key-id'))
      .digest('hex');
    this.#id = `vault-transit:${fingerprint.slice(0, 16)}`;
  }

  async wrap(dataKey: Buffer, context: string): Promise<Buffer> {
    if (dataKey.length !== KEY_BYTES) throw new MasterKeyError(`data keys are ${KEY_BYTES} bytes`);
    const plaintext = Buffer.concat([prefix(context), dataKey]).toString('base64');
    const data = await this.#call(`encrypt/${this.#key}`, { plaintext });
    if (typeof data.ciphertext !== 'string') throw new MasterKeyError('Vault returned no ciphertext');
    return Buffer.from(data.ciphertext, 'utf8');
  }

  async unwrap(wrapped: Buffer, context: string): Promise<Buffer> {
    const ciphertext = wrapped.toString('utf8');
    if (!/^vault:v\d+:[A-Za-z0-9+/=]+$/.test(ciphertext))
      throw new MasterKeyError(`the data key of ${context} is not a Vault Transit ciphertext`);
    const data = await this.#call(`decrypt/${this.#key}`, { ciphertext }, context);
    const plain = Buffer.from(typeof data.plaintext === 'string' ? data.plaintext : '', 'base64');
    const p = prefix(context);
    if (plain.length !== p.length + KEY_BYTES || !plain.subarray(0, p.length).equals(p))
      throw new MasterKeyError(
        `the data key of ${context} does not belong to it: the stored key was altered or moved`,
      );
    return Buffer.from(plain.subarray(p.length));
  }

  async deriveKey(purpose: string): Promise<Buffer> {
    if (purpose.length === 0 || purpose === 'key-id')
      throw new MasterKeyError(`invalid key purpose "${purpose}"`);
    return this.#hmac(purpose);
  }

  /** Re-encrypts a wrapped key under the Transit key's latest version (Vault never shows the plaintext). */
  async rewrap(wrapped: Buffer): Promise<Buffer> {
    const data = await this.#call(`rewrap/${this.#key}`, { ciphertext: wrapped.toString('utf8') });
    if (typeof data.ciphertext !== 'string') throw new MasterKeyError('Vault returned no ciphertext');
    return Buffer.from(data.ciphertext, 'utf8');
  }

  /** A new version of the Transit key (needs a token allowed to update transit/keys/<key>/rotate). */
  async rotateVaultKey(): Promise<void> {
    await this.#call(`keys/${this.#key}/rotate`, {});
  }

  async #hmac(purpose: string): Promise<Buffer> {
    const input = Buffer.from(`openiomt/derive/v1\u0000${purpose}`, 'utf8').toString('base64');
    const data = await this.#call(`hmac/${this.#key}/sha2-256`, { input, key_version: 1 });
    const m = typeof data.hmac === 'string' ? /^vault:v\d+:(.+)$/.exec(data.hmac) : null;
    const mac = m ? Buffer.from(m[1] as string, 'base64') : Buffer.alloc(0);
    if (mac.length !== KEY_BYTES) throw new MasterKeyError('Vault returned no HMAC-SHA256');
    return mac;
  }

  async #call(path: string, body: object, context?: string): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await fetch(`${this.#base}/${path}`, {
        method: 'POST',
        headers: { 'X-Vault-Token': this.#token, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (e) {
      throw new MasterKeyError(`Vault Transit cannot be reached: ${(e as Error).message}`);
    }
    const json = (await res.json().catch(() => ({}))) as { data?: Record<string, unknown>; errors?: unknown };
    if (!res.ok) {
      const errors = Array.isArray(json.errors) ? json.errors.map(String).join('; ').slice(0, 300) : '';
      const what = path.split('/')[0];
      throw new MasterKeyError(
        `Vault Transit ${what}${context ? ` of the data key of ${context}` : ''} failed: HTTP ${res.status}${errors ? ` (${errors})` : ''}`,
      );
    }
    return json.data ?? {};
  }

  /** Keeps the token out of logs and inspection. */
  toJSON(): { id: string | undefined } {
    return { id: this.#id };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `VaultTransitKeyService(${this.#id ?? 'not opened'})`;
  }
}
