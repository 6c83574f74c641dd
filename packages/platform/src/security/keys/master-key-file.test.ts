import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalKeyService, MasterKeyError } from './key-service.ts';
import {
  decodeMasterKey,
  defaultMasterKeyPath,
  memoryKeyService,
  openMasterKeyService,
  readMasterKeyFile,
} from './master-key-file.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openiomt-keys-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('master key file', () => {
  it('is created at first start, private (folder 0700, file 0600), and the same key afterwards', async () => {
    const first = await openMasterKeyService({ dataDir: dir });
    const path = defaultMasterKeyPath(dir);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'keys'))).mode & 0o777).toBe(0o700);
    expect(decodeMasterKey(await readFile(path))?.length).toBe(32);
    const second = await openMasterKeyService({ dataDir: dir });
    expect(second.id).toBe(first.id);
    const wrapped = await first.wrap(randomBytes(32), 'p-1');
    await expect(second.unwrap(wrapped, 'p-1')).resolves.toHaveLength(32);
  });

  it('two processes racing at first start end up with one key', async () => {
    const services = await Promise.all([1, 2, 3, 4].map(() => openMasterKeyService({ dataDir: dir })));
    expect(new Set(services.map((s) => s.id)).size).toBe(1);
  });

  it('the key id names the key without revealing it, and the key never shows in JSON or inspection', async () => {
    const key = randomBytes(32);
    const s = new LocalKeyService(key, 'file');
    expect(s.id).toMatch(/^file:[0-9a-f]{16}$/);
    const shown = `${JSON.stringify(s)} ${String(s)} ${inspect(s)}`;
    expect(shown).not.toContain(key.toString('hex').slice(0, 16));
    expect(shown).not.toContain(key.toString('base64').slice(0, 16));
  });

  it('refuses a key file others can read, naming the fix', async () => {
    await openMasterKeyService({ dataDir: dir });
    const path = defaultMasterKeyPath(dir);
    await chmod(path, 0o644);
    await expect(openMasterKeyService({ dataDir: dir })).rejects.toThrow(
      new RegExp(`readable by every user \\(mode 644\\): run chmod 600 ${path}`),
    );
    await chmod(path, 0o620);
    await expect(openMasterKeyService({ dataDir: dir })).rejects.toThrow(MasterKeyError);
    await chmod(path, 0o440);
    await expect(openMasterKeyService({ dataDir: dir })).resolves.toBeDefined();
  });

  it('refuses a key of the wrong length, or text that is not a key', async () => {
    const path = join(dir, 'other.key');
    for (const content of [
      randomBytes(16),
      randomBytes(33),
      Buffer.from(`${randomBytes(16).toString('base64')}\n`),
      Buffer.from('0123456789abcdef0123456789abcdef'), // 32 characters: a password, not 256 random bits
      Buffer.from(''),
    ]) {
      await writeFile(path, content, { mode: 0o600 });
      await expect(readMasterKeyFile(path)).rejects.toThrow(/must hold a 256-bit key/);
    }
  });

  it('accepts 32 raw bytes, base64 and base64url; a named file must exist (it is never created)', async () => {
    const key = randomBytes(32);
    const path = join(dir, 'secret-mount.key');
    const ids = [];
    for (const content of [key, `${key.toString('base64')}\n`, key.toString('base64url')]) {
      await writeFile(path, content, { mode: 0o600 });
      ids.push((await openMasterKeyService({ dataDir: dir, masterKeyFile: path })).id);
    }
    expect(new Set(ids).size).toBe(1);
    await expect(
      openMasterKeyService({ dataDir: dir, masterKeyFile: join(dir, 'missing.key') }),
    ).rejects.toThrow(/does not exist: check --master-key-file/);
  });

  it('a wrong master key cannot unwrap, and says so clearly; nor can another context', async () => {
    const right = memoryKeyService();
    const wrong = memoryKeyService();
    const dataKey = randomBytes(32);
    const wrapped = await right.wrap(dataKey, 'p-1');
    expect((await right.unwrap(wrapped, 'p-1')).equals(dataKey)).toBe(true);
    await expect(wrong.unwrap(wrapped, 'p-1')).rejects.toThrow(
      /cannot unwrap the data key of p-1 with master key memory:[0-9a-f]{16}: wrong master key/,
    );
    await expect(right.unwrap(wrapped, 'p-2')).rejects.toThrow(MasterKeyError);
  });

  it('derives independent purpose keys, the same for the same master key', async () => {
    const key = randomBytes(32);
    const a = new LocalKeyService(key, 'file');
    const b = new LocalKeyService(key, 'file');
    expect((await a.deriveKey('identifier-index')).equals(await b.deriveKey('identifier-index'))).toBe(true);
    expect((await a.deriveKey('identifier-index')).equals(await a.deriveKey('other'))).toBe(false);
    expect((await a.deriveKey('identifier-index')).equals(key)).toBe(false);
    await expect(a.deriveKey('key-id')).rejects.toThrow(MasterKeyError);
  });

  it('decodeMasterKey: arbitrary file contents never crash it; only 32-byte keys come out', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const key = decodeMasterKey(Buffer.from(bytes));
        if (key !== undefined) expect(key.length).toBe(32);
      }),
      { numRuns: 2000 },
    );
  });
});
