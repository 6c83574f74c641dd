/**
 * The session cookie: reading the Cookie request header (RFC 6265 section 5.4 shape, tolerant of what
 * browsers send, never throwing on what an attacker sends) and writing Set-Cookie for the session.
 */

export const SESSION_COOKIE = 'openiomt_session';

const MAX_HEADER = 8192;
/** A cookie name is an RFC 7230 token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Cookie header → name/value pairs. The first occurrence of a name wins (browsers send the most specific
 * path first). Values keep their bytes as sent except for surrounding double quotes; no percent-decoding,
 * since our own values are base64url. Pairs that do not parse are skipped.
 */
export function parseCookies(header: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const text = Array.isArray(header) ? header.join('; ') : header;
  if (text === undefined || text.length > MAX_HEADER) return out;
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!TOKEN.test(name) || out.has(name)) continue;
    out.set(name, value);
  }
  return out;
}

export interface SessionCookieOptions {
  /** Seconds until the browser drops it: the session's absolute lifetime (the server enforces idle expiry). */
  readonly maxAgeS: number;
  /** Send the Secure attribute (see docs/identity.md for the one case it is left out). */
  readonly secure: boolean;
}

/** Set-Cookie for a session token: HttpOnly (no script access), SameSite=Strict, whole site. */
export function sessionCookie(token: string, o: SessionCookieOptions): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('session token must be base64url');
  const attrs = [`${SESSION_COOKIE}=${token}`, 'Path=/', `Max-Age=${Math.max(0, Math.floor(o.maxAgeS))}`];
  attrs.push('HttpOnly', 'SameSite=Strict');
  if (o.secure) attrs.push('Secure');
  return attrs.join('; ');
}

/** Set-Cookie that removes the session cookie. */
export const clearSessionCookie = (secure: boolean): string =>
  `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;

/** Binds an anonymous passkey sign-in's challenge to this browser; sent only to the passkey sign-in routes. */
export const PASSKEY_LOGIN_COOKIE = 'openiomt_passkey';
const PASSKEY_LOGIN_PATH = '/api/v1/auth/passkeys/login';

export function passkeyLoginCookie(token: string, o: SessionCookieOptions): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('passkey sign-in token must be base64url');
  const attrs = [`${PASSKEY_LOGIN_COOKIE}=${token}`, `Path=${PASSKEY_LOGIN_PATH}`];
  attrs.push(`Max-Age=${Math.max(0, Math.floor(o.maxAgeS))}`, 'HttpOnly', 'SameSite=Strict');
  if (o.secure) attrs.push('Secure');
  return attrs.join('; ');
}

export const clearPasskeyLoginCookie = (secure: boolean): string =>
  `${PASSKEY_LOGIN_COOKIE}=; Path=${PASSKEY_LOGIN_PATH}; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
