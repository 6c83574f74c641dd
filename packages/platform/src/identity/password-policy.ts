/**
 * Password rules in the style of NIST SP 800-63B (memorised secrets): long enough (12 to 256 characters,
 * counted as Unicode code points after NFKC normalisation), no composition rules (no "one digit, one
 * symbol"), no expiry, and refused when the password is a known-common one, one character repeated, a plain
 * ascending or descending run, or contains the username or the product's name.
 */
import { COMMON_PASSWORDS } from './common-passwords.ts';

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

/** The form that is hashed and compared: NFKC, as 800-63B asks for when any Unicode is accepted. */
export const normalisePassword = (password: string): string => password.normalize('NFKC');

export type PasswordVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const CONTEXT_WORDS = ['openiomt'];

/** Checks a new password for the account `username` (already normalised). */
export function checkPassword(password: unknown, username: string): PasswordVerdict {
  if (typeof password !== 'string') return refuse('password must be a string');
  const normal = normalisePassword(password);
  const length = [...normal].length;
  if (length < PASSWORD_MIN) return refuse(`password must be at least ${PASSWORD_MIN} characters`);
  if (length > PASSWORD_MAX) return refuse(`password must be at most ${PASSWORD_MAX} characters`);
  const lower = normal.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return refuse('password is one of the most common passwords');
  if (isRepetitionOrRun(lower)) return refuse('password is a repeated character or a simple sequence');
  if (username.length >= 3 && lower.includes(username))
    return refuse('password must not contain the username');
  const local = username.split('@')[0] ?? '';
  if (local.length >= 4 && lower.includes(local)) return refuse('password must not contain the username');
  if (CONTEXT_WORDS.some((w) => lower.includes(w)))
    return refuse('password must not contain the product name');
  return { ok: true };
}

const refuse = (reason: string): PasswordVerdict => ({ ok: false, reason });

/**
 * One character throughout, or every step +1 or every step -1; within digits or within letters the run may
 * wrap around (…7890123…, …xyzabc…).
 */
function isRepetitionOrRun(s: string): boolean {
  const cps = [...s].map((c) => c.codePointAt(0) as number);
  const cycle = /^\d+$/.test(s) ? 10 : /^[a-z]+$/.test(s) ? 26 : 0;
  const steps = new Set(
    cps.slice(1).map((c, i) => {
      const d = c - (cps[i] as number);
      return cycle === 0 ? d : (((d % cycle) + cycle + 1) % cycle) - 1; // -1, 0 or +1 as -1, 0, 1
    }),
  );
  return steps.size === 1 && [0, 1, -1].some((d) => steps.has(d));
}
