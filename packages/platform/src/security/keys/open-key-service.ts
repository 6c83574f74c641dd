/**
 * Chooses the key service the configuration names: the master key file (embedded mode, the default) or
 * Vault Transit (production). The Vault token is read from VAULT_TOKEN here and nowhere else: never a flag
 * (flags show in process lists), never in the configuration, never logged.
 */
import type { KeyService } from './key-service.ts';
import { MasterKeyError } from './key-service.ts';
import { openMasterKeyService } from './master-key-file.ts';
import { openVaultTransitKeyService } from './vault-transit.ts';

export interface KeyServiceConfig {
  readonly dataDir: string;
  readonly masterKeyFile?: string;
  readonly keyService?: string;
  readonly vaultAddr?: string;
  readonly vaultKey?: string;
}

export const KEY_SERVICES = ['file', 'vault-transit'] as const;

export async function openKeyService(
  c: KeyServiceConfig,
  env: Record<string, string | undefined> = process.env,
): Promise<KeyService> {
  if (c.keyService === undefined || c.keyService === 'file')
    return openMasterKeyService({
      dataDir: c.dataDir,
      ...(c.masterKeyFile ? { masterKeyFile: c.masterKeyFile } : {}),
    });
  if (c.keyService !== 'vault-transit')
    throw new MasterKeyError(`--key-service must be one of ${KEY_SERVICES.join(', ')}, got ${c.keyService}`);
  if (!c.vaultAddr || !c.vaultKey)
    throw new MasterKeyError('--key-service vault-transit needs --vault-addr and --vault-key');
  const token = env.VAULT_TOKEN;
  if (!token) throw new MasterKeyError('--key-service vault-transit needs the Vault token in VAULT_TOKEN');
  return openVaultTransitKeyService({ addr: c.vaultAddr, key: c.vaultKey, token });
}
