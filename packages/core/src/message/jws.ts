import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { fail, ok, type Result, reject } from './rejection.ts';

/**
 * Compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037). Parsing is separate from verifying so the
 * platform can find the key (by kid) before it spends a signature check.
 */
export interface CompactJws {
  readonly header: JwsHeader;
  /** The decoded payload text (UTF-8). */
  readonly payload: string;
  /** ASCII bytes of `base64url(header).base64url(payload)`: what was signed. */
  readonly signingInput: Buffer;
  readonly signature: Buffer;
  /** The compact serialisation as received, kept for Provenance. */
  readonly compact: string;
}

export interface JwsHeader {
  readonly alg: string;
  readonly kid: string;
  readonly typ?: string;
}

export interface Ed25519PublicJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes one base64url part, accepting only the canonical encoding. Node's decoder ignores the unused
 * low bits of the last character, so without this check 'A' and 'B' at the end of the signature decode
 * to the same bytes: a changed message that still verifies (signature malleability).
 */
function canonicalBase64url(part: string): Buffer | undefined {
  if (!B64URL.test(part)) return undefined;
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : undefined;
}

export function parseCompactJws(compact: string): Result<CompactJws> {
  const parts = compact.split('.');
  if (parts.length !== 3)
    return fail(reject('malformed-jws', 'compact JWS must have three dot-separated parts'));
  const [h, p, s] = parts as [string, string, string];
  const headerBytes = canonicalBase64url(h);
  const payloadBytes = canonicalBase64url(p);
  const signature = canonicalBase64url(s);
  if (headerBytes === undefined || payloadBytes === undefined || signature === undefined)
    return fail(reject('malformed-jws', 'JWS parts must be canonical base64url without padding'));
  let header: unknown;
  try {
    header = JSON.parse(headerBytes.toString('utf8'));
  } catch {
    return fail(reject('malformed-jws', 'JWS header is not JSON'));
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    return fail(reject('malformed-jws', 'JWS header must be a JSON object'));
  const { alg, kid, typ, crit } = header as Record<string, unknown>;
  if (crit !== undefined) return fail(reject('malformed-jws', 'JWS crit header is not supported'));
  if (alg !== 'EdDSA')
    return fail(reject('unsupported-algorithm', `JWS alg ${JSON.stringify(alg)} is not EdDSA`));
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 128)
    return fail(reject('malformed-jws', 'JWS header needs a kid (the device key id)'));
  if (typ !== undefined && typeof typ !== 'string')
    return fail(reject('malformed-jws', 'JWS typ must be a string'));
  if (signature.length !== 64) return fail(reject('bad-signature', 'Ed25519 signature must be 64 bytes'));
  const payload = payloadBytes.toString('utf8');
  // Refuse payloads that are not valid UTF-8 rather than silently replacing bytes.
  if (!Buffer.from(payload, 'utf8').equals(payloadBytes))
    return fail(reject('malformed-jws', 'JWS payload is not valid UTF-8'));
  const hdr: JwsHeader = typ === undefined ? { alg, kid } : { alg, kid, typ: typ as string };
  return ok({ header: hdr, payload, signingInput: Buffer.from(`${h}.${p}`, 'ascii'), signature, compact });
}

export function verifyJws(jws: CompactJws, key: KeyObject): boolean {
  return verify(null, jws.signingInput, key, jws.signature);
}

/**
 * The same check on libuv's thread pool, so signature checks run beside the event loop instead of on it:
 * on a busy ingest path this is what lets a second core do the cryptography.
 */
export function verifyJwsAsync(jws: CompactJws, key: KeyObject): Promise<boolean> {
  return new Promise((resolve) => {
    verify(null, jws.signingInput, key, jws.signature, (err, ok) => resolve(!err && ok));
  });
}

export function importEd25519(jwk: Ed25519PublicJwk): KeyObject {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string')
    throw new Error('key must be an Ed25519 public JWK (kty OKP, crv Ed25519)');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url): the key id devices put in `kid`. */
export function jwkThumbprint(jwk: Ed25519PublicJwk): string {
  const canonical = `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}"}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

export function isEd25519PublicJwk(v: unknown): v is Ed25519PublicJwk {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return o.kty === 'OKP' && o.crv === 'Ed25519' && typeof o.x === 'string' && /^[A-Za-z0-9_-]{43}$/.test(o.x);
}

/** Signs a JSON payload as a compact JWS with EdDSA. Used by the device SDK and by tests. */
export function signCompactJws(payload: unknown, privateKey: KeyObject, kid: string, typ?: string): string {
  const header = typ === undefined ? { alg: 'EdDSA', kid } : { alg: 'EdDSA', kid, typ };
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const p = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)).toString(
    'base64url',
  );
  const sig = sign(null, Buffer.from(`${h}.${p}`, 'ascii'), privateKey).toString('base64url');
  return `${h}.${p}.${sig}`;
}
