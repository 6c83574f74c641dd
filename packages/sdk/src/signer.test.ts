import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  checkDeviceToken,
  decodeReading,
  importEd25519,
  parseCompactJws,
  readingsTopic,
  verifyJws,
} from '@openiomt/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateDeviceKey, loadDeviceKey, saveDeviceKey } from './keys.ts';
import { FileSequenceStore, MemorySequenceStore } from './sequence.ts';
import { READING_JWS_TYPE, ReadingSigner } from './signer.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'signer-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('device keys', () => {
  it('saves owner-only PKCS#8 and loads the same key back', async () => {
    const key = generateDeviceKey();
    const path = join(dir, 'device.key');
    await saveDeviceKey(path, key);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const loaded = await loadDeviceKey(path);
    expect(loaded.kid).toBe(key.kid);
    expect(loaded.publicJwk).toEqual(key.publicJwk);
    expect(key.publicJwk.x).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('does not replace an existing key file unless asked to, and creates a missing folder', async () => {
    const first = generateDeviceKey();
    const path = join(dir, 'new', 'folder', 'device.key');
    await saveDeviceKey(path, first);
    expect((await stat(join(dir, 'new'))).mode & 0o777).toBe(0o700);
    await expect(saveDeviceKey(path, generateDeviceKey())).rejects.toThrow(
      new RegExp(`${path} exists: not replacing`),
    );
    expect((await loadDeviceKey(path)).kid).toBe(first.kid);
    expect((await readdir(dirname(path))).sort()).toEqual(['device.key']); // no temporary file left
    const second = generateDeviceKey();
    await saveDeviceKey(path, second, { overwrite: true });
    expect((await loadDeviceKey(path)).kid).toBe(second.kid);
  });

  it('names the real path, not a temporary file, when it cannot be written', async () => {
    await writeFile(join(dir, 'file'), 'a file where a folder should be');
    const failure = saveDeviceKey(join(dir, 'file', 'device.key'), generateDeviceKey());
    await expect(failure).rejects.toThrow(new RegExp(join(dir, 'file')));
    await expect(failure).rejects.not.toThrow(/\.tmp/);
  });

  it('refuses a file that is not a PEM key', async () => {
    const path = join(dir, 'bad.key');
    await writeFile(path, 'not a key');
    await expect(loadDeviceKey(path)).rejects.toThrow(/not a PEM private key/);
  });
});

describe('FileSequenceStore', () => {
  it('never reuses a number after reopening, even if the process died mid-block', async () => {
    const path = join(dir, 'seq');
    const a = new FileSequenceStore(path, { blockSize: 10 });
    const first = [await a.next(), await a.next(), await a.next()];
    expect(first).toEqual([1, 2, 3]);
    // "Crash": abandon a without any shutdown; a new store continues above the reserved block.
    const b = new FileSequenceStore(path, { blockSize: 10 });
    const next = await b.next();
    expect(next).toBe(11);
    const many = await Promise.all(Array.from({ length: 25 }, () => b.next()));
    expect(new Set(many).size).toBe(25);
    expect(Math.min(...many)).toBeGreaterThan(next);
    const c = new FileSequenceStore(path, { blockSize: 10 });
    expect(await c.next()).toBeGreaterThan(Math.max(...many));
  });

  it('stops on a damaged sequence file rather than guessing', async () => {
    const path = join(dir, 'seq');
    await writeFile(path, 'garbage');
    await expect(new FileSequenceStore(path).next()).rejects.toThrow(/damaged/);
  });
});

describe('ReadingSigner', () => {
  const key = generateDeviceKey();
  const signer = new ReadingSigner({
    deviceId: 'oxi-7',
    key,
    sequence: new MemorySequenceStore(),
    clock: () => Date.parse('2025-03-01T10:00:00Z'),
  });

  it('produces JWS that the platform parser, verifier and decoder accept', async () => {
    const { seq, jws } = await signer.sign({
      vitals: [{ code: 'spo2', value: 97 }],
      status: { battery: 80 },
    });
    const parsed = parseCompactJws(jws);
    if (!parsed.ok) throw new Error(parsed.rejection.detail);
    expect(parsed.value.header).toEqual({ alg: 'EdDSA', kid: key.kid, typ: READING_JWS_TYPE });
    expect(verifyJws(parsed.value, importEd25519(key.publicJwk))).toBe(true);
    const msg = decodeReading(parsed.value.payload);
    if (!msg.ok) throw new Error(msg.rejection.detail);
    expect(msg.value).toMatchObject({ device: 'oxi-7', seq, ts: '2025-03-01T10:00:00.000Z' });
    expect(msg.value.vitals[0]).toEqual({ code: 'spo2', value: 97 });
    expect((await signer.sign({ status: { battery: 79 } })).seq).toBe(seq + 1);
  });

  it('refuses content the platform would reject, naming the field', async () => {
    await expect(signer.sign({ vitals: [{ code: 'spo2', value: 140 }] })).rejects.toThrow(
      /\/vitals\/0\/value/,
    );
    await expect(signer.sign({})).rejects.toThrow(/vitals, waveforms or status/);
  });

  it('issues device tokens the platform accepts', () => {
    const token = signer.token(120);
    const parsed = parseCompactJws(token);
    if (!parsed.ok) throw new Error(parsed.rejection.detail);
    expect(parsed.value.header.typ).toBe('JWT');
    expect(verifyJws(parsed.value, importEd25519(key.publicJwk))).toBe(true);
    const claims = checkDeviceToken(parsed.value, 'oxi-7', Date.parse('2025-03-01T10:01:00Z'));
    expect(claims.ok).toBe(true);
    expect(readingsTopic('oxi-7')).toContain('oxi-7');
    expect(() => signer.token(99_999)).toThrow(/lifetime/);
  });
});
