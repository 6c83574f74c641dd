/**
 * The audit key history (<dataDir>/audit/key-history.jsonl): every Ed25519 key that has signed tree heads,
 * one JSON object per line, appended at each rotation. The first line is the original key (trusted as the
 * public key file was before any rotation); each later line names the new key, the tree size from which it
 * signs, and is signed by the key it replaces:
 *
 *   openiomt-audit-key-rotation/v1\n<previous key id>\n<new key id>\n<from tree size>\n<rotated at>\n
 *
 * so `audit verify` follows the chain from the first key to the current one and accepts a tree head only
 * when signed by a key of the chain within its validity: the old key up to the size it was retired at, the
 * new one from there on. A head signed by a key not in the chain is forged.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { auditKeyId } from '@openiomt/core';
import { type AuditFiles, AuditKeyError, lastExportedTreeSize, readTreeHeadFile } from './audit-files.ts';

export const KEY_ROTATION_CONTEXT = 'openiomt-audit-key-rotation/v1';

export interface KeyHistoryEntry {
  readonly keyId: string;
  /** SPKI DER, base64url. */
  readonly publicKey: string;
  /** Tree heads of this size and larger are signed by this key (up to the next entry's fromTreeSize). */
  readonly fromTreeSize: number;
  readonly addedAt: string;
  /** Absent on the first entry. */
  readonly previousKeyId?: string;
  /** By the previous key over the rotation input, base64url; absent on the first entry. */
  readonly signature?: string;
}

/** A key verify trusts, and the tree sizes it may sign. */
export interface TrustedAuditKey {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  readonly fromTreeSize: number;
  /** Retired at this size: it signs no larger tree (undefined: the current key). */
  readonly untilTreeSize?: number;
}

const rotationInput = (e: Pick<KeyHistoryEntry, 'previousKeyId' | 'keyId' | 'fromTreeSize' | 'addedAt'>) =>
  Buffer.from(
    `${KEY_ROTATION_CONTEXT}\n${e.previousKeyId}\n${e.keyId}\n${e.fromTreeSize}\n${e.addedAt}\n`,
    'utf8',
  );

const spki = (key: KeyObject): string => key.export({ format: 'der', type: 'spki' }).toString('base64url');

/** The history's entries; [] when there is no file (no rotation yet). Throws on a line that is not an entry. */
export async function readKeyHistory(file: string): Promise<KeyHistoryEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return text
    .split('\n')
    .map((line, i) => ({ line, n: i + 1 }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, n }) => {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (
        typeof o.keyId !== 'string' ||
        typeof o.publicKey !== 'string' ||
        !Number.isSafeInteger(o.fromTreeSize) ||
        typeof o.addedAt !== 'string'
      )
        throw new AuditKeyError(`${file} line ${n} is not an audit key history entry`);
      return o as unknown as KeyHistoryEntry;
    });
}

/**
 * The keys verify may trust: the chain of the history, checked link by link, ending at the current public
 * key. Each broken link is a problem, and no key after it is trusted.
 */
export function trustedKeys(
  current: KeyObject,
  history: readonly KeyHistoryEntry[],
  problems: string[],
): TrustedAuditKey[] {
  const currentId = auditKeyId(current);
  if (history.length === 0) return [{ keyId: currentId, publicKey: current, fromTreeSize: 0 }];
  const ring: TrustedAuditKey[] = [];
  for (const [i, e] of history.entries()) {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: Buffer.from(e.publicKey, 'base64url'), format: 'der', type: 'spki' });
    } catch {
      problems.push(`the audit key history entry ${i + 1} holds no public key: the history was altered`);
      break;
    }
    if (auditKeyId(key) !== e.keyId) {
      problems.push(`the audit key history entry ${i + 1} names key ${e.keyId} but holds another: altered`);
      break;
    }
    const prev = ring[ring.length - 1];
    if (prev) {
      const signed =
        e.previousKeyId === prev.keyId &&
        e.signature !== undefined &&
        e.fromTreeSize >= prev.fromTreeSize &&
        verify(null, rotationInput(e), prev.publicKey, Buffer.from(e.signature, 'base64url'));
      if (!signed) {
        problems.push(
          `the rotation to audit key ${e.keyId} (key history entry ${i + 1}) is not signed by the key before it, ${prev.keyId}: forged`,
        );
        break;
      }
      ring[ring.length - 1] = { ...prev, untilTreeSize: e.fromTreeSize };
    }
    ring.push({ keyId: e.keyId, publicKey: key, fromTreeSize: e.fromTreeSize });
  }
  const last = ring[ring.length - 1];
  if (last && last.keyId !== currentId && problems.length === 0)
    problems.push(
      `the audit key history ends at key ${last.keyId}, but the audit public key is ${currentId}: the public key was replaced`,
    );
  return ring;
}

export interface AuditRotation {
  readonly oldKeyId: string;
  readonly newKeyId: string;
  readonly fromTreeSize: number;
  readonly retiredKeyFile: string;
}

/**
 * A new signing key; the old one signs the rotation into the history and is kept as
 * <key file>.retired-<date>. The platform must be stopped (its last tree heads exported).
 */
export async function rotateAuditKey(
  files: AuditFiles,
  oldKey: { privateKey: KeyObject; publicKey: KeyObject },
  now = new Date(),
): Promise<AuditRotation> {
  const oldKeyId = auditKeyId(oldKey.publicKey);
  const heads = (await readTreeHeadFile(files.treeHeadsFile)) ?? [];
  const lastHead = [...heads].reverse().find((l) => l.head)?.head;
  if (lastHead && lastHead.keyId !== oldKeyId)
    throw new AuditKeyError(
      `the last exported tree head is signed by ${lastHead.keyId}, not the audit key ${oldKeyId}: run openiomt audit verify`,
    );
  const fromTreeSize = await lastExportedTreeSize(files.treeHeadsFile);
  const history = await readKeyHistory(files.keyHistoryFile);
  const lines: KeyHistoryEntry[] = [];
  if (history.length === 0)
    lines.push({
      keyId: oldKeyId,
      publicKey: spki(oldKey.publicKey),
      fromTreeSize: 0,
      addedAt: now.toISOString(),
    });
  else if (history[history.length - 1]?.keyId !== oldKeyId)
    throw new AuditKeyError(`${files.keyHistoryFile} does not end at the audit key ${oldKeyId}`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const newKeyId = auditKeyId(publicKey);
  const link = { previousKeyId: oldKeyId, keyId: newKeyId, fromTreeSize, addedAt: now.toISOString() };
  lines.push({
    ...link,
    publicKey: spki(publicKey),
    signature: sign(null, rotationInput(link), oldKey.privateKey).toString('base64url'),
  });
  // The new key is staged before the history names it, and put in place only after.
  const staged = `${files.keyFile}.new`;
  await writeFile(staged, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), {
    mode: 0o600,
    flag: 'wx',
  }).catch((e: NodeJS.ErrnoException) => {
    throw new AuditKeyError(
      e.code === 'EEXIST'
        ? `${staged} exists: an earlier rotation did not finish; check ${files.keyHistoryFile} and remove it`
        : `cannot write ${staged}: ${e.message}`,
    );
  });
  const fh = await open(files.keyHistoryFile, 'a', 0o644);
  try {
    await fh.write(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    await fh.datasync();
  } finally {
    await fh.close();
  }
  const retiredKeyFile = await retiredName(files.keyFile, now);
  await rename(files.keyFile, retiredKeyFile);
  await rename(staged, files.keyFile);
  await writeFile(files.publicKeyFile, publicKey.export({ format: 'pem', type: 'spki' }).toString(), {
    mode: 0o644,
  });
  return { oldKeyId, newKeyId, fromTreeSize, retiredKeyFile };
}

/** <file>.retired-<YYYY-MM-DD>, or with the time when that exists already. */
export async function retiredName(file: string, now: Date): Promise<string> {
  const day = `${file}.retired-${now.toISOString().slice(0, 10)}`;
  try {
    await stat(day);
  } catch {
    return day;
  }
  return `${file}.retired-${now.toISOString().replace(/[:.]/g, '-')}`;
}
