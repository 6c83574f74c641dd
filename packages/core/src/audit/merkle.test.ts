import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendToFrontier,
  EMPTY_ROOT,
  frontierLength,
  frontierRoot,
  type Hash,
  leafHash,
  MerkleTree,
  nodeHash,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from './merkle.ts';

// --- An independent, literal reading of RFC 9162 §2.1 over the leaf data (no shared code). ---
const sha = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const k = (n: number): number => 2 ** Math.ceil(Math.log2(n) - 1);
const refMth = (d: Uint8Array[]): Buffer => {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(Uint8Array.of(0), d[0]!);
  const s = k(d.length);
  return sha(Uint8Array.of(1), refMth(d.slice(0, s)), refMth(d.slice(s)));
};
const refPath = (m: number, d: Uint8Array[]): Buffer[] => {
  if (d.length === 1) return [];
  const s = k(d.length);
  return m < s
    ? [...refPath(m, d.slice(0, s)), refMth(d.slice(s))]
    : [...refPath(m - s, d.slice(s)), refMth(d.slice(0, s))];
};
const refSubproof = (m: number, d: Uint8Array[], b: boolean): Buffer[] => {
  if (m === d.length) return b ? [] : [refMth(d)];
  const s = k(d.length);
  return m <= s
    ? [...refSubproof(m, d.slice(0, s), b), refMth(d.slice(s))]
    : [...refSubproof(m - s, d.slice(s), false), refMth(d.slice(0, s))];
};

// --- Test vectors of the Certificate Transparency reference code (transparency-dev/merkle testonly). ---
const hex = (s: string) => Buffer.from(s, 'hex');
const CT_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hex);
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION: [number, number, string[]][] = [
  [0, 1, []],
  [0, 2, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7']],
  [1, 2, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d']],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];
const CT_CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];
/** compact/range_test.go golden roots: leaf i is its index as two little-endian bytes. */
const GOLDEN_ROOTS: [number, string][] = [
  [10, 'VjWMPSYNtCuCNlF/RLnQy6HcwSk6CIipfxm+hettA+4='],
  [15, 'j4SulYmocFuxdeyp12xXCIgK6PekBcxzAIj4zbQzNEI='],
  [16, 'c+4Uc6BCMOZf/v3NZK1kqTUJe+bBoFtOhP+P3SayKRE='],
  [100, 'dUh9hYH88p0CMoHkdr1wC2szbhcLAXOejWpINIooKUY='],
  [255, 'SmdsuKUqiod3RX2jyF2M6JnbdE4QuTwwipfAowI4/i0='],
];

const treeOf = (leaves: Uint8Array[]) => new MerkleTree(leaves.map(leafHash));
const hexes = (hs: Hash[]) => hs.map(toHex);

/** Distinct leaves: a proof for one leaf can then never happen to fit another. */
const distinctLeaves = (min: number, max: number) =>
  fc
    .array(fc.uint8Array({ maxLength: 24 }), { minLength: min, maxLength: max })
    .map((ls) => ls.map((l, i) => Uint8Array.from([i & 0xff, i >> 8, ...l])));

const flipBit = (hs: Hash[], i: number, bit: number): Hash[] =>
  hs.map((h, j) => (j === i ? Uint8Array.from(h, (b, n) => (n === bit >> 3 ? b ^ (1 << (bit & 7)) : b)) : h));

describe('RFC 9162 Merkle tree hashing', () => {
  it('matches the Certificate Transparency reference vectors for hashes and roots', () => {
    expect(toHex(EMPTY_ROOT)).toBe(CT_ROOTS[0]);
    expect(toHex(leafHash(new Uint8Array()))).toBe(CT_ROOTS[1]);
    expect(toHex(leafHash(Buffer.from('L123456')))).toBe(
      '395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56',
    );
    expect(toHex(nodeHash(Buffer.from('N123'), Buffer.from('N456')))).toBe(
      'aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb',
    );
    const tree = treeOf(CT_LEAVES);
    for (let n = 0; n <= 8; n++) expect(toHex(tree.root(n))).toBe(CT_ROOTS[n]);
    for (const [size, root] of GOLDEN_ROOTS) {
      const leaves = Array.from({ length: size }, (_, i) => Uint8Array.of(i & 0xff, i >> 8));
      expect(Buffer.from(treeOf(leaves).root()).toString('base64')).toBe(root);
    }
  });

  it('makes the reference inclusion and consistency proofs, and they verify', () => {
    const tree = treeOf(CT_LEAVES);
    for (const [index, size, proof] of CT_INCLUSION) {
      expect(hexes(tree.inclusionProof(index, size))).toEqual(proof);
      expect(verifyInclusion(index, size, tree.leafHash(index), proof.map(hex), hex(CT_ROOTS[size]!))).toBe(
        true,
      );
    }
    for (const [first, second, proof] of CT_CONSISTENCY) {
      expect(hexes(tree.consistencyProof(first, second))).toEqual(proof);
      expect(
        verifyConsistency(first, second, hex(CT_ROOTS[first]!), hex(CT_ROOTS[second]!), proof.map(hex)),
      ).toBe(true);
    }
  });

  it('refuses the reference edge cases: index outside the tree, empty proofs where one is needed', () => {
    const tree = treeOf(CT_LEAVES);
    for (const [index, size] of [
      [0, 0],
      [1, 1],
      [2, 1],
    ] as const)
      expect(verifyInclusion(index, size, tree.leafHash(0), [], tree.root(1))).toBe(false);
    expect(verifyConsistency(2, 5, tree.root(2), tree.root(5), [])).toBe(false);
    expect(verifyConsistency(5, 2, tree.root(5), tree.root(2), [])).toBe(false);
    expect(verifyConsistency(3, 3, tree.root(3), tree.root(4), [])).toBe(false);
    expect(verifyConsistency(0, 4, EMPTY_ROOT, tree.root(4), [])).toBe(true);
    expect(verifyConsistency(0, 4, tree.root(1), tree.root(4), [])).toBe(false);
    expect(() => tree.inclusionProof(8, 8)).toThrow(RangeError);
    expect(() => tree.consistencyProof(3, 9)).toThrow(RangeError);
  });

  it('computes MTH, PATH and PROOF as a literal recursive reading of the RFC does', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 70 }), (leaves) => {
        const tree = treeOf(leaves);
        for (let n = 0; n <= leaves.length; n++) {
          const prefix = leaves.slice(0, n);
          expect(toHex(tree.root(n))).toBe(toHex(refMth(prefix)));
          for (let m = 0; m < n; m++)
            expect(hexes(tree.inclusionProof(m, n))).toEqual(hexes(refPath(m, prefix)));
          for (let m = 1; m < n; m++)
            expect(hexes(tree.consistencyProof(m, n))).toEqual(hexes(refSubproof(m, prefix, true)));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('every inclusion proof verifies, and any tampering with it fails', () => {
    fc.assert(
      fc.property(distinctLeaves(1, 80), fc.nat(), fc.nat(255), (leaves, pick, bit) => {
        const tree = treeOf(leaves);
        const size = 1 + (pick % leaves.length);
        const root = tree.root(size);
        for (let i = 0; i < size; i++) {
          const proof = tree.inclusionProof(i, size);
          const leaf = tree.leafHash(i);
          expect(verifyInclusion(i, size, leaf, proof, root)).toBe(true);
          // Another leaf, index or size, a flipped bit, a missing or extra element: all refused.
          if (size > 1) {
            expect(verifyInclusion((i + 1) % size, size, leaf, proof, root)).toBe(false);
            expect(verifyInclusion(i, size, tree.leafHash((i + 1) % size), proof, root)).toBe(false);
          }
          expect(verifyInclusion(i, size * 2, leaf, proof, root)).toBe(false);
          expect(verifyInclusion(i, Math.floor(size / 2), leaf, proof, root)).toBe(false);
          expect(verifyInclusion(i, size, leaf, proof, nodeHash(root, root))).toBe(false);
          for (let j = 0; j < proof.length; j++)
            expect(verifyInclusion(i, size, leaf, flipBit(proof, j, bit), root)).toBe(false);
          if (proof.length > 0) expect(verifyInclusion(i, size, leaf, proof.slice(1), root)).toBe(false);
          expect(verifyInclusion(i, size, leaf, [...proof, root], root)).toBe(false);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('every consistency proof verifies, and any tampering with it fails', () => {
    fc.assert(
      fc.property(distinctLeaves(2, 80), fc.nat(255), (leaves, bit) => {
        const tree = treeOf(leaves);
        const n = leaves.length;
        for (let m = 1; m < n; m++) {
          const proof = tree.consistencyProof(m, n);
          const [r1, r2] = [tree.root(m), tree.root(n)];
          expect(verifyConsistency(m, n, r1, r2, proof)).toBe(true);
          if (m > 1) expect(verifyConsistency(m, n, tree.root(m - 1), r2, proof)).toBe(false);
          expect(verifyConsistency(m, n, r1, tree.root(n - 1), proof)).toBe(false);
          expect(verifyConsistency(m + 1, n, r1, r2, proof)).toBe(false);
          for (let j = 0; j < proof.length; j++)
            expect(verifyConsistency(m, n, r1, r2, flipBit(proof, j, bit))).toBe(false);
          expect(verifyConsistency(m, n, r1, r2, proof.slice(0, -1))).toBe(false);
          expect(verifyConsistency(m, n, r1, r2, [...proof, r2])).toBe(false);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('a frontier of complete subtrees gives the same root as the whole tree, leaf by leaf', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 150 }), (leaves) => {
        const tree = treeOf(leaves);
        let frontier: Hash[] = [];
        expect(toHex(frontierRoot(frontier))).toBe(toHex(EMPTY_ROOT));
        leaves.forEach((leaf, i) => {
          frontier = appendToFrontier(frontier, i, leafHash(leaf));
          expect(frontier.length).toBe(frontierLength(i + 1));
          expect(toHex(frontierRoot(frontier))).toBe(toHex(tree.root(i + 1)));
        });
      }),
    );
  });
});
