import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditRecord } from './arbitrary.ts';
import { type AuditRecord, auditLeaf } from './record.ts';
import {
  auditKeyId,
  parseTreeHead,
  type SignedTreeHead,
  signTreeHead,
  treeHeadSigningInput,
  verifyTreeHead,
} from './tree-head.ts';

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** The same record with its keys (at every depth) in another order. */
function shuffled<T>(v: T, seed: number): T {
  if (Array.isArray(v)) return v.map((x) => shuffled(x, seed)) as T;
  if (v === null || typeof v !== 'object') return v;
  const entries = Object.entries(v as Record<string, unknown>);
  const order = entries.map((e, i) => [((i + 1) * (seed + 7919)) % 104729, e] as const);
  order.sort((a, b) => a[0] - b[0]);
  return Object.fromEntries(order.map(([, [k, x]]) => [k, shuffled(x, seed)])) as T;
}

describe('the leaf encoding of an audit record', () => {
  it('is documented canonical JSON: version, index, fields, sorted keys, no white space', () => {
    const r: AuditRecord = {
      id: '0b7e2f1c-1d2e-4f3a-9b8c-7d6e5f4a3b2c',
      at: '2026-01-02T03:04:05.678Z',
      actor: 'nurse-7',
      action: 'read',
      outcome: 'success',
      resourceType: 'Observation',
      resourceId: 'obs-1',
      patientId: 'p-1',
      detail: { z: 1, a: ['x', 2] },
    };
    expect(decode(auditLeaf(r, 42))).toBe(
      '{"action":"read","actor":"nurse-7","at":"2026-01-02T03:04:05.678Z","detail":{"a":["x",2],"z":1},' +
        '"id":"0b7e2f1c-1d2e-4f3a-9b8c-7d6e5f4a3b2c","leafIndex":42,"outcome":"success","patientId":"p-1",' +
        '"resourceId":"obs-1","resourceType":"Observation","v":1}',
    );
  });

  it('does not depend on key order, round-trips through JSON, and differs by position and by any field', () => {
    fc.assert(
      fc.property(auditRecord, fc.nat(1000), fc.nat(1_000_000), (r, seed, index) => {
        const leaf = auditLeaf(r, index);
        expect(decode(auditLeaf(shuffled(r, seed), index))).toBe(decode(leaf));
        // A store that parses and re-serialises the JSON (jsonb) gives back the same leaf.
        expect(decode(auditLeaf(JSON.parse(JSON.stringify(shuffled(r, seed))), index))).toBe(decode(leaf));
        expect(decode(auditLeaf(r, index + 1))).not.toBe(decode(leaf));
        expect(decode(auditLeaf({ ...r, actor: `${r.actor}x` }, index))).not.toBe(decode(leaf));
        expect(decode(auditLeaf({ ...r, patientId: `${r.patientId ?? ''}x` }, index))).not.toBe(decode(leaf));
      }),
    );
  });
});

describe('signed tree heads', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const head = { treeSize: 12, rootHash: 'ab'.repeat(32), timestamp: '2026-01-02T03:04:05.678Z' };

  it('sign the documented byte layout and verify with the key they name', () => {
    expect(decode(treeHeadSigningInput(head))).toBe(
      `openiomt-audit-tree-head/v1\n12\n${'ab'.repeat(32)}\n2026-01-02T03:04:05.678Z\n`,
    );
    const signed = signTreeHead(head, privateKey, publicKey);
    expect(signed.keyId).toBe(auditKeyId(publicKey));
    expect(verifyTreeHead(signed, publicKey)).toBe(true);
    expect(parseTreeHead(JSON.parse(JSON.stringify(signed)))).toEqual(signed);
  });

  it('refuse any change to size, root, time, key or signature', () => {
    const signed = signTreeHead(head, privateKey, publicKey);
    const other = generateKeyPairSync('ed25519');
    const forged = signTreeHead({ ...head, treeSize: 11 }, other.privateKey, other.publicKey);
    const changed: SignedTreeHead[] = [
      { ...signed, treeSize: 13 },
      { ...signed, rootHash: 'cd'.repeat(32) },
      { ...signed, timestamp: '2026-01-02T03:04:05.679Z' },
      { ...signed, signature: forged.signature },
      { ...forged, keyId: signed.keyId },
      forged,
    ];
    for (const h of changed) expect(verifyTreeHead(h, publicKey)).toBe(false);
  });

  it('say what is wrong with a malformed tree head', () => {
    const signed = signTreeHead(head, privateKey, publicKey);
    expect(parseTreeHead([])).toBe('not a JSON object');
    expect(parseTreeHead({ ...signed, treeSize: -1 })).toMatch(/treeSize/);
    expect(parseTreeHead({ ...signed, rootHash: 'AB'.repeat(32) })).toMatch(/rootHash/);
    expect(parseTreeHead({ ...signed, timestamp: '2026-01-02' })).toMatch(/timestamp/);
    expect(parseTreeHead({ ...signed, signature: 'a+b/' })).toMatch(/signature/);
  });
});
