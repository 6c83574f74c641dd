/**
 * The pure, CPU-heavy part of checking one signed reading: JWS parse, EdDSA verify, payload decode and the
 * Observation index. It needs no database and no shared state, so it runs on verify worker threads
 * (verify-worker.ts) and gives the main thread back only what it still has to judge.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  type DeviceStatus,
  decodeReading,
  type ObservationIndexEntry,
  observationIndex,
  parseCompactJws,
  parseInstant,
  type ReadingMessage,
  type Rejection,
  reject,
  verifyJws,
} from '@openiomt/core';

/** What the main thread needs of a decoded reading to judge and store it. */
export interface ReadingSummary {
  readonly device: string;
  readonly seq: number;
  readonly ts: string;
  readonly tsMs: number;
  readonly status?: DeviceStatus;
}

export type WorkVerdict =
  | {
      readonly ok: true;
      readonly reading: ReadingSummary;
      readonly observations: ObservationIndexEntry[];
    }
  | {
      readonly ok: false;
      readonly rejection: Rejection;
      /** The JWS itself did not parse: reported without a device, as before the key was known. */
      readonly atParse?: true;
    };

export const refused = (rejection: Rejection): WorkVerdict => ({ ok: false, rejection });

export function summarize(m: ReadingMessage): ReadingSummary {
  const base = { device: m.device, seq: m.seq, ts: m.ts, tsMs: parseInstant(m.ts) as number };
  return m.status ? { ...base, status: m.status } : base;
}

/** Parse, verify and decode, in that order (the order verifyMessage reports rejections in). */
export function checkSignedReading(compact: string, key: KeyObject, maxBytes: number): WorkVerdict {
  const parsed = parseCompactJws(compact);
  if (!parsed.ok) return { ...parsed, atParse: true };
  if (!verifyJws(parsed.value, key))
    return refused(reject('bad-signature', 'EdDSA signature does not verify'));
  const decoded = decodeReading(parsed.value.payload, { maxBytes });
  if (!decoded.ok) return decoded;
  return { ok: true, reading: summarize(decoded.value), observations: observationIndex(decoded.value) };
}

const MAX_CACHED_KEYS = 50_000;

/** Ed25519 public keys by their JWK `x`, imported once per thread. */
export class KeyCache {
  private readonly keys = new Map<string, KeyObject>();

  get(x: string): KeyObject {
    let k = this.keys.get(x);
    if (!k) {
      if (this.keys.size >= MAX_CACHED_KEYS) this.keys.clear();
      k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
      this.keys.set(x, k);
    }
    return k;
  }
}

/** One batch sent to a verify worker: parallel arrays of compact JWS, its key's JWK `x` and size limit. */
export interface VerifyBatch {
  readonly id: number;
  readonly maxBytes: number[];
  readonly compacts: string[];
  readonly keys: string[];
}

export interface VerifyBatchResult {
  readonly id: number;
  readonly verdicts: WorkVerdict[];
}

export function checkBatch(batch: VerifyBatch, cache: KeyCache): VerifyBatchResult {
  const verdicts = batch.compacts.map((compact, i): WorkVerdict => {
    try {
      return checkSignedReading(compact, cache.get(batch.keys[i] as string), batch.maxBytes[i] as number);
    } catch (e) {
      // A key that does not import cannot verify anything; never let one message sink the batch.
      return refused(reject('bad-signature', `signature check failed: ${(e as Error).message}`));
    }
  });
  return { id: batch.id, verdicts };
}
