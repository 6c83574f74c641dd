import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Ed25519PublicJwk, jwkThumbprint } from '@openiomt/core';
import { writeFileAtomic } from './fs-util.ts';

/** A device's Ed25519 signing key with its public JWK and key id (RFC 7638 thumbprint). */
export interface DeviceKeyPair {
  readonly privateKey: KeyObject;
  readonly publicJwk: Ed25519PublicJwk;
  readonly kid: string;
}

export function generateDeviceKey(): DeviceKeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  return deviceKeyFromPrivate(privateKey);
}

/** Derives the public JWK and kid of an Ed25519 private key. */
export function deviceKeyFromPrivate(privateKey: KeyObject): DeviceKeyPair {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error('device key must be an Ed25519 private key');
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('Ed25519 public key export lacks x');
  const publicJwk: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
  return { privateKey, publicJwk, kid: jwkThumbprint(publicJwk) };
}

export class KeyFileExistsError extends Error {
  constructor(readonly path: string) {
    super(
      `${path} exists: not replacing a device key (the platform may know only that one); pass { overwrite: true } to replace it`,
    );
    this.name = 'KeyFileExistsError';
  }
}

/**
 * Writes the private key as PKCS#8 PEM, readable by the owner only (0600), atomically, creating the folder
 * (0700) if needed. An existing file is not replaced unless `overwrite`: it may hold the enrolled key, and
 * losing it locks the device out.
 */
export async function saveDeviceKey(
  path: string,
  key: DeviceKeyPair,
  opts: { overwrite?: boolean } = {},
): Promise<void> {
  const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' });
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await writeFileAtomic(path, pem, 0o600, { exclusive: !opts.overwrite });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyFileExistsError(path);
    throw e;
  }
  // The mode given to open() is reduced by the umask; make sure no group/other bits remain.
  await chmod(path, 0o600);
}

export async function loadDeviceKey(path: string): Promise<DeviceKeyPair> {
  const pem = await readFile(path, 'utf8');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new Error(`device key file ${path} is not a PEM private key: ${(e as Error).message}`);
  }
  return deviceKeyFromPrivate(privateKey);
}
