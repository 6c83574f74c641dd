/**
 * TOTP secrets are kept encrypted: AES-256-GCM envelopes (security/keys/envelope.ts) under a key the key
 * service derives for this one purpose, bound to the account's id, so a database copy alone does not yield
 * anyone's second factor and a sealed secret cannot be moved to another account's row.
 */
import { open, seal } from '../security/keys/envelope.ts';
import type { KeyService } from '../security/keys/key-service.ts';

export interface SecretSealer {
  seal(plain: string, userId: string): Promise<string>;
  open(sealed: string, userId: string): Promise<string>;
}

const PURPOSE = 'totp-secrets';
const aad = (userId: string): Buffer => Buffer.from(`openiomt/totp-secret/v1\u0000${userId}`, 'utf8');

export function totpSecretSealer(keys: KeyService): SecretSealer {
  let key: Promise<Buffer> | undefined;
  const purposeKey = () => {
    key ??= keys.deriveKey(PURPOSE);
    return key;
  };
  return {
    seal: async (plain, userId) =>
      seal(await purposeKey(), Buffer.from(plain, 'utf8'), aad(userId)).toString('base64'),
    open: async (sealed, userId) =>
      open(await purposeKey(), Buffer.from(sealed, 'base64'), aad(userId)).toString('utf8'),
  };
}
