/**
 * The audit log's files outside the database: the Ed25519 key that signs tree heads, its public half, and
 * the exported tree heads (one JSON object per line, appended, never rewritten).
 *
 * The private key is made at the first start (PKCS#8 PEM, mode 0600, in a 0700 folder) unless a key file
 * is configured; it never belongs in version control or in the database.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { auditKeyId, parseTreeHead, type SignedTreeHead } from '@openiomt/core';

export interface AuditFiles {
  /** The exported tree heads (JSON lines). */
  readonly treeHeadsFile: string;
  /** The private signing key (PKCS#8 PEM). */
  readonly keyFile: string;
  /** Its public key (SPKI PEM), which `audit verify` checks tree heads with. */
  readonly publicKeyFile: string;
  /** Every key that has signed tree heads, each rotation signed by the key before (key-history.ts). */
  readonly keyHistoryFile: string;
}

/** Default places under the data folder; each can be given instead. */
export function auditFiles(dataDir: string, given: Partial<AuditFiles> = {}): AuditFiles {
  const dir = join(dataDir, 'audit');
  const keyFile = given.keyFile ?? join(dir, 'tree-head-key.pem');
  return {
    treeHeadsFile: given.treeHeadsFile ?? join(dir, 'tree-heads.jsonl'),
    keyFile,
    publicKeyFile: given.publicKeyFile ?? keyFile.replace(/(\.pem)?$/, '.pub.pem'),
    keyHistoryFile: given.keyHistoryFile ?? join(dir, 'key-history.jsonl'),
  };
}

export interface AuditKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;
}

export class AuditKeyError extends Error {
  override name = 'AuditKeyError';
}

/** Reads the signing key, making it at the first start; refuses a key file others may read. */
export async function loadOrCreateAuditKey(files: AuditFiles): Promise<AuditKey> {
  await mkdir(dirname(files.keyFile), { recursive: true, mode: 0o700 });
  let pem: string;
  try {
    const { privateKey } = generateKeyPairSync('ed25519');
    pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    // 'wx': only when absent, so two processes starting at once cannot overwrite each other's key.
    await writeFile(files.keyFile, pem, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const mode = (await stat(files.keyFile)).mode;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0)
      throw new AuditKeyError(
        `the audit signing key ${files.keyFile} may be read by other users (mode ${(mode & 0o777).toString(8)}): run chmod 600 on it`,
      );
    pem = await readFile(files.keyFile, 'utf8');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (e) {
    throw new AuditKeyError(`${files.keyFile} is not a PEM private key: ${(e as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new AuditKeyError(`${files.keyFile} must be an Ed25519 key, not ${privateKey.asymmetricKeyType}`);
  const publicKey = createPublicKey(privateKey);
  await mkdir(dirname(files.publicKeyFile), { recursive: true, mode: 0o700 });
  await writeFile(files.publicKeyFile, publicKey.export({ format: 'pem', type: 'spki' }).toString());
  await chmod(files.publicKeyFile, 0o644);
  return { privateKey, publicKey, keyId: auditKeyId(publicKey) };
}

export async function readAuditPublicKey(file: string): Promise<KeyObject> {
  const pem = await readFile(file, 'utf8');
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new AuditKeyError(`${file} is not an Ed25519 public key`);
  return key;
}

/** Appends tree heads as JSON lines and forces them to disk before returning. */
export async function appendTreeHeads(file: string, heads: readonly SignedTreeHead[]): Promise<void> {
  if (heads.length === 0) return;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const fh = await open(file, 'a', 0o644);
  try {
    await fh.write(heads.map((h) => `${JSON.stringify(h)}\n`).join(''));
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** The size of the last tree head in the file (0 when there is none), from its tail alone. */
export async function lastExportedTreeSize(file: string): Promise<number> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  try {
    const { size } = await fh.stat();
    const length = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    const lines = buf
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    for (let i = lines.length - 1; i >= 0; i--) {
      const head = parseLine(lines[i] as string);
      if (typeof head !== 'string') return head.treeSize;
    }
    return 0;
  } finally {
    await fh.close();
  }
}

export interface TreeHeadLine {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly head?: SignedTreeHead;
  /** What is wrong with the line when it is not a tree head. */
  readonly error?: string;
}

/** Every line of the exported file; undefined when there is no file. */
export async function readTreeHeadFile(file: string): Promise<TreeHeadLine[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const out: TreeHeadLine[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    const head = parseLine(raw);
    out.push(typeof head === 'string' ? { line: i + 1, error: head } : { line: i + 1, head });
  });
  return out;
}

function parseLine(line: string): SignedTreeHead | string {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  return parseTreeHead(json);
}
