/**
 * The authorization server's keys, kept beside the data like the audit key: an Ed25519 key that signs
 * access and ID tokens (a JWKS, `<dataDir>/keys/oauth-jwks.json`) and the keys that sign oidc-provider's
 * cookies (`<dataDir>/keys/oauth-cookie-keys.json`). Both are made at the first start, mode 0600, never
 * hard-coded; a file others may read is refused.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Ed25519PublicJwk, jwkThumbprint } from '@openiomt/core';

/** The one algorithm our tokens are signed with; a token naming another is refused. */
export const TOKEN_ALG = 'EdDSA';

export interface SigningJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly d: string;
  readonly kid: string;
  readonly alg: typeof TOKEN_ALG;
  readonly use: 'sig';
}

export interface OAuthKeys {
  /** Private JWKS for oidc-provider. */
  readonly jwks: { keys: SigningJwk[] };
  /** Public keys by kid, for verifying tokens at our API. */
  readonly publicKeys: ReadonlyMap<string, KeyObject>;
  readonly cookieKeys: string[];
}

export class OAuthKeyError extends Error {
  override name = 'OAuthKeyError';
}

export const oauthKeyFiles = (dataDir: string) => ({
  jwksFile: join(dataDir, 'keys', 'oauth-jwks.json'),
  cookieKeysFile: join(dataDir, 'keys', 'oauth-cookie-keys.json'),
});

function newSigningJwk(): SigningJwk {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as { x: string; d: string };
  const pub: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
  return { ...pub, d: jwk.d, kid: jwkThumbprint(pub), alg: TOKEN_ALG, use: 'sig' };
}

/** Reads a private JSON file, writing `make()` first when it is absent ('wx': never overwrites). */
async function privateJson<T>(file: string, make: () => T): Promise<T> {
  try {
    await writeFile(file, `${JSON.stringify(make())}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const mode = (await stat(file)).mode;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0)
      throw new OAuthKeyError(
        `${file} may be read by other users (mode ${(mode & 0o777).toString(8)}): run chmod 600 on it`,
      );
  }
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (e) {
    throw new OAuthKeyError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

export async function loadOrCreateOAuthKeys(dataDir: string): Promise<OAuthKeys> {
  const files = oauthKeyFiles(dataDir);
  await mkdir(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  const jwks = await privateJson(files.jwksFile, () => ({ keys: [newSigningJwk()] }));
  const cookies = await privateJson(files.cookieKeysFile, () => ({
    keys: [randomBytes(32).toString('base64url')],
  }));
  if (!Array.isArray(jwks.keys) || jwks.keys.length === 0)
    throw new OAuthKeyError(`${files.jwksFile} must hold {"keys": [...]} with an Ed25519 key`);
  const publicKeys = new Map<string, KeyObject>();
  for (const k of jwks.keys) {
    if (k.kty !== 'OKP' || k.crv !== 'Ed25519' || typeof k.kid !== 'string' || k.alg !== TOKEN_ALG)
      throw new OAuthKeyError(`${files.jwksFile}: every key must be an Ed25519 (EdDSA) key with a kid`);
    publicKeys.set(k.kid, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: k.x }, format: 'jwk' }));
  }
  if (!Array.isArray(cookies.keys) || cookies.keys.some((k) => typeof k !== 'string' || k.length < 32))
    throw new OAuthKeyError(`${files.cookieKeysFile} must hold {"keys": ["<at least 32 characters>"]}`);
  return { jwks, publicKeys, cookieKeys: cookies.keys };
}
