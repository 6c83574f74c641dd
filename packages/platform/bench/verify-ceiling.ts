/**
 * The single-core ceiling the ingest rate is compared with: node:crypto Ed25519 verification of the very
 * messages the benchmark sends, in a tight loop on this thread. A second figure adds what the platform must
 * also do per message before any database work (JWS parse with canonical base64url, payload decode).
 */
import { type KeyObject, verify } from 'node:crypto';
import { decodeReading, parseCompactJws } from '@openiomt/core';

export interface VerifyCeiling {
  readonly messages: number;
  readonly messageBytes: number;
  /** crypto.verify only, on already-decoded signing input and signature. */
  readonly verifyPerSecond: number;
  /** parseCompactJws + crypto.verify + decodeReading. */
  readonly parseVerifyDecodePerSecond: number;
}

export function measureVerifyCeiling(
  samples: readonly { jws: string; key: KeyObject }[],
  durationMs = 2_000,
): VerifyCeiling {
  const parsed = samples.map((s) => {
    const p = parseCompactJws(s.jws);
    if (!p.ok) throw new Error(`benchmark message does not parse: ${p.rejection.detail}`);
    if (!verify(null, p.value.signingInput, s.key, p.value.signature))
      throw new Error('benchmark message does not verify');
    return { ...p.value, key: s.key };
  });
  const verifyPerSecond = loop(durationMs, (i) => {
    const m = parsed[i % parsed.length]!;
    if (!verify(null, m.signingInput, m.key, m.signature)) throw new Error('verify failed');
  });
  const parseVerifyDecodePerSecond = loop(durationMs, (i) => {
    const s = samples[i % samples.length]!;
    const p = parseCompactJws(s.jws);
    if (!p.ok || !verify(null, p.value.signingInput, s.key, p.value.signature))
      throw new Error('verify failed');
    if (!decodeReading(p.value.payload).ok) throw new Error('decode failed');
  });
  return {
    messages: samples.length,
    messageBytes: samples[0]?.jws.length ?? 0,
    verifyPerSecond,
    parseVerifyDecodePerSecond,
  };
}

function loop(durationMs: number, body: (i: number) => void): number {
  for (let i = 0; i < 200; i++) body(i); // warm up
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < durationMs) {
    for (let j = 0; j < 100; j++) body(n++);
  }
  return (n / (performance.now() - start)) * 1000;
}
