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

/**
 * The secrets the platform keeps to reach out to others: the signing secret of each webhook and of each
 * FHIR rest-hook Subscription, and a rest-hook's own headers (they may carry a bearer token). One key is
 * derived for them all; the AAD names what the value is and the row it belongs to, so a sealed value
 * copied to another row, or from a secret column to a headers column, does not open.
 */
export const DELIVERY_SECRET_PURPOSE = 'delivery-secrets';

export type DeliverySecretKind = 'webhook-secret' | 'subscription-secret' | 'subscription-headers';

export const deliverySecretAad = (kind: DeliverySecretKind, rowId: string): Buffer =>
  Buffer.from(`openiomt/${kind}/v1\u0000${rowId}`, 'utf8');

export interface DeliverySecretSealer {
  seal(kind: DeliverySecretKind, rowId: string, plain: string): Promise<string>;
  /** Throws EnvelopeError when the value was sealed for another row or kind, another key, or altered. */
  open(kind: DeliverySecretKind, rowId: string, sealed: string): Promise<string>;
}

export function deliverySecretSealer(keys: KeyService): DeliverySecretSealer {
  let key: Promise<Buffer> | undefined;
  const purposeKey = () => {
    // A failed derivation (a key service briefly unreachable) is not remembered.
    key ??= keys.deriveKey(DELIVERY_SECRET_PURPOSE).catch((e: unknown) => {
      key = undefined;
      throw e;
    });
    return key;
  };
  return {
    seal: async (kind, rowId, plain) =>
      seal(await purposeKey(), Buffer.from(plain, 'utf8'), deliverySecretAad(kind, rowId)).toString('base64'),
    open: async (kind, rowId, sealed) =>
      open(await purposeKey(), Buffer.from(sealed, 'base64'), deliverySecretAad(kind, rowId)).toString(
        'utf8',
      ),
  };
}
