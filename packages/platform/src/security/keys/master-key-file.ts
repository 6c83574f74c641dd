/**
 * The master key file of embedded mode: 256 random bits, base64 on one line, in <dataDir>/keys/master.key
 * (folder 0700, file 0600), created at the first start. --master-key-file / OPENIOMT_MASTER_KEY_FILE
 * points elsewhere, e.g. a secrets mount; a file named that way must already exist, since creating a new
 * key there would silently make every stored identity unreadable.
 *
 * Refused at start, with what to do: a file others can read or anyone but its owner can write, or one that
 * does not hold exactly 32 bytes (raw, or base64/base64url text).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KEY_BYTES } from './envelope.ts';
import { type KeyService, LocalKeyService, MasterKeyError } from './key-service.ts';

export const MASTER_KEY_FILE_ENV = 'OPENIOMT_MASTER_KEY_FILE';

export interface MasterKeyOptions {
  /** The platform's data folder; the default key lives in its keys/ folder. */
  readonly dataDir: string;
  /** An existing key file elsewhere (a secrets mount); never created. */
  readonly masterKeyFile?: string;
}

export const defaultMasterKeyPath = (dataDir: string): string => join(dataDir, 'keys', 'master.key');

/** Opens the master key named by the options (creating the default one at first start). */
export async function openMasterKeyService(opts: MasterKeyOptions): Promise<KeyService> {
  const explicit = opts.masterKeyFile !== undefined && opts.masterKeyFile !== '';
  const path = explicit ? (opts.masterKeyFile as string) : defaultMasterKeyPath(opts.dataDir);
  if (!explicit) await createDefaultKeyFile(opts.dataDir, path);
  return new LocalKeyService(await readMasterKeyFile(path), 'file');
}

/** A random master key that lives and dies with the process: tests and throwaway in-memory stores. */
export function memoryKeyService(): KeyService {
  return new LocalKeyService(randomBytes(KEY_BYTES), 'memory');
}

/** Creates keys/ (0700) and master.key (0600) unless it exists; safe when processes race to create it. */
async function createDefaultKeyFile(dataDir: string, path: string): Promise<void> {
  const folder = join(dataDir, 'keys');
  await mkdir(folder, { recursive: true, mode: 0o700 });
  await chmod(folder, 0o700);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw new MasterKeyError(`cannot create the master key file ${path}: ${(e as Error).message}`);
  }
  try {
    await handle.writeFile(`${randomBytes(KEY_BYTES).toString('base64')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads and checks a master key file: private, and exactly 256 bits. */
export async function readMasterKeyFile(path: string): Promise<Buffer> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new MasterKeyError(
      code === 'ENOENT'
        ? `master key file ${path} does not exist: check --master-key-file / ${MASTER_KEY_FILE_ENV} (the key this database was created with is needed to read patient identities)`
        : `cannot read master key file ${path}: ${(e as Error).message}`,
    );
  }
  checkPermissions(path, mode);
  const content = await readFile(path);
  const key = decodeMasterKey(content);
  if (!key)
    throw new MasterKeyError(
      `master key file ${path} must hold a 256-bit key: ${KEY_BYTES} raw bytes or their base64 on one line (found ${content.length} bytes)`,
    );
  return key;
}

/** Others may not read it; only its owner may write it. Group read is allowed for secrets mounts. */
export function checkPermissions(path: string, mode: number): void {
  const loose = mode & 0o027;
  if (loose === 0) return;
  const octal = (mode & 0o777).toString(8).padStart(3, '0');
  const what = mode & 0o004 ? 'readable by every user' : 'writable or usable by users other than its owner';
  throw new MasterKeyError(
    `master key file ${path} is ${what} (mode ${octal}): run chmod 600 ${path} and restrict who can read it`,
  );
}

/** 32 raw (binary) bytes, or base64 / base64url text of 32 bytes with optional surrounding whitespace. */
export function decodeMasterKey(content: Buffer): Buffer | undefined {
  // 32 printable characters are a password or a hex string, not 256 random bits (random bytes are that by chance 1 time in 2^45).
  if (content.length === KEY_BYTES && !/^[\x20-\x7e]*$/.test(content.toString('latin1')))
    return Buffer.from(content);
  const text = content.toString('latin1').trim();
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return undefined;
  const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return key.length === KEY_BYTES ? key : undefined;
}
