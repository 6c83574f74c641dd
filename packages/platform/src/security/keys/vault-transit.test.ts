import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MasterKeyError } from './key-service.ts';
import { openKeyService } from './open-key-service.ts';
import { openVaultTransitKeyService, VaultTransitKeyService } from './vault-transit.ts';

/**
 * A stand-in for Vault's Transit engine (a third-party boundary): versioned AES-256-GCM keys, ciphertexts
 * "vault:v<n>:base64(nonce|ciphertext|tag)", HMAC-SHA256 by key version, rotate and rewrap, X-Vault-Token.
 */
function transitServer(token: string) {
  const versions: Buffer[] = [randomBytes(32)];
  const calls: string[] = [];
  const enc = (v: number, plain: Buffer) => {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', versions[v - 1] as Buffer, nonce);
    const body = Buffer.concat([nonce, c.update(plain), c.final(), c.getAuthTag()]);
    return `vault:v${v}:${body.toString('base64')}`;
  };
  const dec = (ciphertext: string): Buffer => {
    const m = /^vault:v(\d+):(.+)$/.exec(ciphertext);
    const key = m ? versions[Number(m[1]) - 1] : undefined;
    if (!m || !key) throw new Error('invalid ciphertext');
    const b = Buffer.from(m[2] as string, 'base64');
    const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
    d.setAuthTag(b.subarray(b.length - 16));
    return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
  };
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const reply = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      calls.push(`${req.method} ${req.url}`);
      if (req.headers['x-vault-token'] !== token) return reply(403, { errors: ['permission denied'] });
      const body = JSON.parse(raw || '{}');
      const path = (req.url ?? '').replace(/^\/v1\/transit\//, '');
      try {
        const latest = versions.length;
        if (path === 'encrypt/openiomt')
          return reply(200, { data: { ciphertext: enc(latest, Buffer.from(body.plaintext, 'base64')) } });
        if (path === 'decrypt/openiomt')
          return reply(200, { data: { plaintext: dec(body.ciphertext).toString('base64') } });
        if (path === 'rewrap/openiomt')
          return reply(200, { data: { ciphertext: enc(latest, dec(body.ciphertext)) } });
        if (path === 'keys/openiomt/rotate') {
          versions.push(randomBytes(32));
          return reply(200, {});
        }
        if (path === 'hmac/openiomt/sha2-256') {
          const v = body.key_version ?? latest;
          const mac = createHmac('sha256', versions[v - 1] as Buffer).update(
            Buffer.from(body.input, 'base64'),
          );
          return reply(200, { data: { hmac: `vault:v${v}:${mac.digest('base64')}` } });
        }
        return reply(404, { errors: [] });
      } catch {
        return reply(400, { errors: ['cipher: message authentication failed'] });
      }
    });
  });
  return { server, calls, versions };
}

const TOKEN = `hvs.${randomBytes(12).toString('hex')}`;
let vault: ReturnType<typeof transitServer>;
let addr: string;
beforeAll(async () => {
  vault = transitServer(TOKEN);
  await new Promise<void>((r) => vault.server.listen(0, '127.0.0.1', r));
  addr = `http://127.0.0.1:${(vault.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => (vault.server as Server).close(r));
});

describe('Vault Transit key service', () => {
  it('wraps and unwraps data keys in Vault, bound to their context; the same id in every process', async () => {
    const keys = await openVaultTransitKeyService({ addr, key: 'openiomt', token: TOKEN });
    expect(keys.id).toMatch(/^vault-transit:[0-9a-f]{16}$/);
    const dataKey = randomBytes(32);
    const wrapped = await keys.wrap(dataKey, 'patient-1');
    expect(wrapped.toString()).toMatch(/^vault:v1:/);
    expect((await keys.unwrap(wrapped, 'patient-1')).equals(dataKey)).toBe(true);
    await expect(keys.unwrap(wrapped, 'patient-2')).rejects.toThrow(/does not belong to it: .*moved/);
    const altered = Buffer.from(wrapped.toString().replace(/.(.)$/, 'AA'));
    await expect(keys.unwrap(altered, 'patient-1')).rejects.toThrow(MasterKeyError);
    const other = await openVaultTransitKeyService({ addr, key: 'openiomt', token: TOKEN });
    expect(other.id).toBe(keys.id);
    expect((await other.deriveKey('totp-secrets')).equals(await keys.deriveKey('totp-secrets'))).toBe(true);
    expect((await keys.deriveKey('totp-secrets')).equals(await keys.deriveKey('identifier-index'))).toBe(
      false,
    );
    await expect(keys.deriveKey('key-id')).rejects.toThrow(MasterKeyError);
    expect(vault.calls.some((c) => c === 'POST /v1/transit/encrypt/openiomt')).toBe(true);
  });

  it('after a key rotation in Vault: old ciphertexts decrypt, new ones use the latest version, rewrap moves old ones; derived keys stay', async () => {
    const keys = await openVaultTransitKeyService({ addr, key: 'openiomt', token: TOKEN });
    const dataKey = randomBytes(32);
    const before = await keys.wrap(dataKey, 'p-9');
    const derived = await keys.deriveKey('oauth-client-secrets');
    const id = keys.id;
    await keys.rotateVaultKey();
    const v = vault.versions.length;
    expect((await keys.unwrap(before, 'p-9')).equals(dataKey)).toBe(true);
    expect((await keys.wrap(dataKey, 'p-9')).toString()).toMatch(new RegExp(`^vault:v${v}:`));
    const rewrapped = await keys.rewrap(before);
    expect(rewrapped.toString()).toMatch(new RegExp(`^vault:v${v}:`));
    expect((await keys.unwrap(rewrapped, 'p-9')).equals(dataKey)).toBe(true);
    const reopened = await openVaultTransitKeyService({ addr, key: 'openiomt', token: TOKEN });
    expect(reopened.id).toBe(id);
    expect((await reopened.deriveKey('oauth-client-secrets')).equals(derived)).toBe(true);
  });

  it('refuses plain http except to loopback, a wrong token (without showing it), and keeps the token out of logs', async () => {
    expect(
      () => new VaultTransitKeyService({ addr: 'http://vault.example:8200', key: 'k', token: 't' }),
    ).toThrow(/must be https:\/\//);
    expect(
      () => new VaultTransitKeyService({ addr: 'https://vault.example:8200', key: 'k', token: 't' }),
    ).not.toThrow();
    const wrong = openVaultTransitKeyService({ addr, key: 'openiomt', token: 'hvs.wrong' });
    await expect(wrong).rejects.toThrow(/HTTP 403 \(permission denied\)/);
    await wrong.catch((e: Error) => expect(e.message).not.toContain('hvs.wrong'));
    const keys = await openVaultTransitKeyService({ addr, key: 'openiomt', token: TOKEN });
    expect(`${JSON.stringify(keys)} ${inspect(keys)} ${String(keys)}`).not.toContain(TOKEN);
  });

  it('is chosen by --key-service vault-transit with the token from VAULT_TOKEN only', async () => {
    const c = { dataDir: '/nonexistent', keyService: 'vault-transit', vaultAddr: addr, vaultKey: 'openiomt' };
    await expect(openKeyService(c, {})).rejects.toThrow(/needs the Vault token in VAULT_TOKEN/);
    const keys = await openKeyService(c, { VAULT_TOKEN: TOKEN });
    expect(keys.id).toMatch(/^vault-transit:/);
    await expect(openKeyService({ ...c, vaultKey: undefined }, { VAULT_TOKEN: TOKEN })).rejects.toThrow(
      /needs --vault-addr and --vault-key/,
    );
    await expect(openKeyService({ ...c, keyService: 'kms' }, {})).rejects.toThrow(
      /must be one of file, vault-transit/,
    );
  });
});
