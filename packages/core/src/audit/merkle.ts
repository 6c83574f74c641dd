/**
 * Merkle tree hashing, inclusion proofs and consistency proofs exactly as RFC 9162 (Certificate
 * Transparency v2) §2.1 defines them, over SHA-256:
 *   - leaf hash  = SHA-256(0x00 || leaf)
 *   - node hash  = SHA-256(0x01 || left || right)
 *   - MTH({})    = SHA-256() ; MTH of n > 1 leaves splits at k, the largest power of two smaller than n.
 * Pure: hashing only, no I/O.
 */
import { createHash, hash } from 'node:crypto';

/** A SHA-256 digest (32 bytes). */
export type Hash = Uint8Array;

export const HASH_BYTES = 32;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

// crypto.hash (one shot) is about twice as fast as a Hash object for inputs this small.
export function leafHash(leaf: Uint8Array): Hash {
  return hash('sha256', Buffer.concat([LEAF_PREFIX, leaf]), 'buffer');
}

export function nodeHash(left: Hash, right: Hash): Hash {
  return hash('sha256', Buffer.concat([NODE_PREFIX, left, right]), 'buffer');
}

/** MTH of the empty tree: the hash of the empty string. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

export function equalHashes(a: Hash, b: Hash): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const toHex = (h: Hash): string => Buffer.from(h).toString('hex');

/** Parses 64 hex digits; undefined for anything else. */
export function fromHex(hex: string): Hash | undefined {
  return /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

/** The largest power of two strictly smaller than n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/**
 * A tree over leaf hashes already computed. Complete subtrees are hashed once (level by level, 2n hashes
 * in all), so the root of any prefix, an inclusion proof or a consistency proof costs O(log² n) lookups.
 */
export class MerkleTree {
  /** levels[k][i]: the hash of the complete subtree of 2^k leaves starting at leaf i·2^k. */
  private readonly levels: Hash[][];

  constructor(leafHashes: readonly Hash[]) {
    const levels: Hash[][] = [[...leafHashes]];
    for (let below = levels[0] as Hash[]; below.length >= 2; ) {
      const level: Hash[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) level.push(nodeHash(below[i]!, below[i + 1]!));
      levels.push(level);
      below = level;
    }
    this.levels = levels;
  }

  get size(): number {
    return (this.levels[0] as Hash[]).length;
  }

  leafHash(index: number): Hash {
    this.checkSize(index + 1);
    return (this.levels[0] as Hash[])[index]!;
  }

  /** MTH(D[0:size]): the root of the tree of the first `size` leaves. */
  root(size: number = this.size): Hash {
    this.checkSize(size);
    return size === 0 ? EMPTY_ROOT : this.rangeHash(0, size);
  }

  /** PATH(index, D[0:size]) of RFC 9162 §2.1.3.1. */
  inclusionProof(index: number, size: number = this.size): Hash[] {
    this.checkSize(size);
    if (!Number.isInteger(index) || index < 0 || index >= size)
      throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
    return this.path(index, 0, size);
  }

  /** PROOF(first, D[0:second]) of RFC 9162 §2.1.4.1; empty when first is 0 or equals second. */
  consistencyProof(first: number, second: number = this.size): Hash[] {
    this.checkSize(second);
    if (!Number.isInteger(first) || first < 0 || first > second)
      throw new RangeError(`cannot prove size ${first} consistent with size ${second}`);
    if (first === 0 || first === second) return [];
    return this.subproof(first, 0, second, true);
  }

  /** MTH(D[start:end]) for 0 <= start < end <= size. */
  rangeHash(start: number, end: number): Hash {
    const n = end - start;
    if (isPowerOfTwo(n) && start % n === 0) {
      const level = Math.log2(n);
      const h = this.levels[level]?.[start / n];
      if (h) return h;
    }
    const k = splitPoint(n);
    return nodeHash(this.rangeHash(start, start + k), this.rangeHash(start + k, end));
  }

  private path(m: number, start: number, end: number): Hash[] {
    const n = end - start;
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k
      ? [...this.path(m, start, start + k), this.rangeHash(start + k, end)]
      : [...this.path(m - k, start + k, end), this.rangeHash(start, start + k)];
  }

  private subproof(m: number, start: number, end: number, complete: boolean): Hash[] {
    const n = end - start;
    if (m === n) return complete ? [] : [this.rangeHash(start, end)];
    const k = splitPoint(n);
    return m <= k
      ? [...this.subproof(m, start, start + k, complete), this.rangeHash(start + k, end)]
      : [...this.subproof(m - k, start + k, end, false), this.rangeHash(start, start + k)];
  }

  private checkSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > this.size)
      throw new RangeError(`tree size ${size} is outside 0..${this.size}`);
  }
}

/** Verifies an inclusion proof as RFC 9162 §2.1.3.2 says, step by step. */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leaf: Hash,
  proof: readonly Hash[],
  root: Hash,
): boolean {
  // 1. The index must be inside the tree.
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0) return false;
  if (leafIndex >= treeSize) return false;
  // 2.–3.
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leaf;
  // 4.
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      r = nodeHash(r, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  // 5.
  return sn === 0 && equalHashes(r, root);
}

/**
 * Verifies that the tree of `first` leaves with root `firstRoot` is a prefix of the tree of `second`
 * leaves with root `secondRoot`, as RFC 9162 §2.1.4.2 says for 0 < first < second. The RFC leaves the
 * edges to the caller; here first == second holds with an empty proof and equal roots, and the empty
 * tree (first == 0) is a prefix of every tree, with an empty proof.
 */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Hash,
  secondRoot: Hash,
  proof: readonly Hash[],
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second)
    return false;
  if (first === 0) return proof.length === 0 && equalHashes(firstRoot, EMPTY_ROOT);
  if (first === second) return proof.length === 0 && equalHashes(firstRoot, secondRoot);
  // 1.
  if (proof.length === 0) return false;
  // 2.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  // 3.
  let fn = first - 1;
  let sn = second - 1;
  // 4.
  while (fn % 2 === 1) [fn, sn] = [half(fn), half(sn)];
  // 5.
  let fr = path[0] as Hash;
  let sr = path[0] as Hash;
  // 6.
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      sr = nodeHash(sr, c);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  // 7.
  return equalHashes(fr, firstRoot) && equalHashes(sr, secondRoot) && sn === 0;
}

/** Right shift by one for numbers beyond 32 bits (tree sizes are safe integers, not int32). */
const half = (n: number): number => Math.floor(n / 2);

/**
 * The compact form of a tree of `size` leaves: the roots of its complete subtrees from left to right,
 * one per set bit of size, largest first. Enough to append leaves and compute the new root without the
 * earlier leaves (what the sequencer keeps with each tree head).
 */
export function appendToFrontier(frontier: readonly Hash[], size: number, leaf: Hash): Hash[] {
  const next = [...frontier];
  let carry = leaf;
  // Each trailing set bit of size is a complete subtree the new leaf's subtree now merges with.
  for (let s = size; s % 2 === 1; s = half(s)) carry = nodeHash(next.pop() as Hash, carry);
  next.push(carry);
  return next;
}

/** MTH of the tree a frontier describes: fold its subtrees from the right. */
export function frontierRoot(frontier: readonly Hash[]): Hash {
  if (frontier.length === 0) return EMPTY_ROOT;
  let r = frontier[frontier.length - 1] as Hash;
  for (let i = frontier.length - 2; i >= 0; i--) r = nodeHash(frontier[i] as Hash, r);
  return r;
}

/** The number of subtrees a frontier of a tree of `size` leaves holds (its population count). */
export function frontierLength(size: number): number {
  let count = 0;
  for (let s = size; s > 0; s = half(s)) count += s % 2;
  return count;
}
