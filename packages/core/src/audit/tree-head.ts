/**
 * Signed tree heads of the audit log: the size of the log, its RFC 9162 root hash and the time, signed with
 * the platform's Ed25519 audit key. The signed bytes are a fixed text layout (documented in docs/audit.md):
 *
 *   openiomt-audit-tree-head/v1\n<tree size, decimal>\n<root hash, 64 lower-case hex>\n<timestamp, ISO 8601 UTC ms>\n
 *
 * A tree head travels as one JSON object (one line of the exported tree-heads file).
 */
import { type KeyObject, sign, verify } from 'node:crypto';
import { isEd25519PublicJwk, jwkThumbprint } from '../message/jws.ts';

export const TREE_HEAD_CONTEXT = 'openiomt-audit-tree-head/v1';

export interface TreeHead {
  readonly treeSize: number;
  /** MTH of the first treeSize leaves, lower-case hex. */
  readonly rootHash: string;
  /** When it was signed: ISO 8601 UTC with milliseconds. */
  readonly timestamp: string;
}

export interface SignedTreeHead extends TreeHead {
  /** RFC 7638 thumbprint of the signing key's public JWK. */
  readonly keyId: string;
  /** Ed25519 signature over treeHeadSigningInput, base64url. */
  readonly signature: string;
}

const ROOT_HEX = /^[0-9a-f]{64}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

export function treeHeadSigningInput(h: TreeHead): Uint8Array {
  return Buffer.from(`${TREE_HEAD_CONTEXT}\n${h.treeSize}\n${h.rootHash}\n${h.timestamp}\n`, 'utf8');
}

/** The key id of an Ed25519 public key: its RFC 7638 JWK thumbprint. */
export function auditKeyId(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (!isEd25519PublicJwk(jwk)) throw new Error('the audit key must be an Ed25519 key');
  return jwkThumbprint(jwk);
}

export function signTreeHead(head: TreeHead, privateKey: KeyObject, publicKey: KeyObject): SignedTreeHead {
  const signature = sign(null, treeHeadSigningInput(head), privateKey).toString('base64url');
  return {
    treeSize: head.treeSize,
    rootHash: head.rootHash,
    timestamp: head.timestamp,
    keyId: auditKeyId(publicKey),
    signature,
  };
}

/** True when the head is signed by this public key (its key id and its signature). */
export function verifyTreeHead(head: SignedTreeHead, publicKey: KeyObject): boolean {
  if (head.keyId !== auditKeyId(publicKey)) return false;
  try {
    return verify(null, treeHeadSigningInput(head), publicKey, Buffer.from(head.signature, 'base64url'));
  } catch {
    return false;
  }
}

/** Reads a tree head from parsed JSON; a string says what is wrong with it. */
export function parseTreeHead(v: unknown): SignedTreeHead | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  if (!Number.isSafeInteger(o.treeSize) || (o.treeSize as number) < 0)
    return 'treeSize is not a non-negative integer';
  if (typeof o.rootHash !== 'string' || !ROOT_HEX.test(o.rootHash))
    return 'rootHash is not 64 lower-case hex digits';
  if (typeof o.timestamp !== 'string' || !ISO_MS.test(o.timestamp) || Number.isNaN(Date.parse(o.timestamp)))
    return 'timestamp is not an ISO 8601 UTC instant with milliseconds';
  if (typeof o.keyId !== 'string' || !B64URL.test(o.keyId)) return 'keyId is missing';
  if (typeof o.signature !== 'string' || !B64URL.test(o.signature)) return 'signature is not base64url';
  return {
    treeSize: o.treeSize as number,
    rootHash: o.rootHash,
    timestamp: o.timestamp,
    keyId: o.keyId,
    signature: o.signature,
  };
}
