import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../store/types.ts';

/**
 * Administrator API tokens. A token is 256 random bits, so a fast hash (SHA-256) is enough to store it
 * safely: there is nothing to brute-force that a slow password hash would protect. Only the hash is kept.
 */
export const TOKEN_PREFIX = 'oiat_';

export const newAdminToken = (): string => `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** On first start, creates the administrator credential and returns the token (to print once). */
export async function ensureAdminCredential(store: Store): Promise<string | undefined> {
  if (!(await store.credentials.isEmpty())) return undefined;
  const token = newAdminToken();
  await store.credentials.add({ name: 'admin', tokenHash: hashToken(token) });
  return token;
}

/** The credential name for a presented token, or undefined. */
export async function checkAdminToken(
  store: Store,
  authorization: string | undefined,
): Promise<string | undefined> {
  if (!authorization?.startsWith('Bearer ')) return undefined;
  const token = authorization.slice(7).trim();
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined;
  return store.credentials.findByHash(hashToken(token));
}
