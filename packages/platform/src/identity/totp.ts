/**
 * TOTP (RFC 6238) as authenticator apps expect it: SHA-1, 6 digits, 30-second steps, 160-bit secrets in
 * Base32. A code is accepted one step either side of now (clock drift), and each time step is accepted once
 * per account: the caller stores the step a code matched and passes it back as `afterStep`.
 */
import { generate, generateSecret, generateURI, verify } from 'otplib';

export const TOTP_PERIOD_S = 30;
export const TOTP_DIGITS = 6;
const ISSUER = 'OpenIoMT';

export const newTotpSecret = (): string => generateSecret({ length: 20 });

/** The otpauth:// URI an authenticator app scans (as a QR code) or imports. */
export const totpUri = (secret: string, username: string): string =>
  generateURI({ issuer: ISSUER, label: username, secret, period: TOTP_PERIOD_S, digits: TOTP_DIGITS });

/** Spaces and dashes people type between digit groups are ignored; anything else but 6 digits is refused. */
export function parseTotpCode(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length > 16) return undefined;
  const code = raw.replace(/[\s-]/g, '');
  return /^\d{6}$/.test(code) ? code : undefined;
}

/** The time step the code matches (now ±1 step, after `afterStep`), or undefined. */
export async function verifyTotp(
  secret: string,
  code: string,
  nowMs: number,
  afterStep?: number,
): Promise<number | undefined> {
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(nowMs / 1000),
    period: TOTP_PERIOD_S,
    digits: TOTP_DIGITS,
    epochTolerance: TOTP_PERIOD_S,
    ...(afterStep !== undefined ? { afterTimeStep: afterStep } : {}),
  });
  // The functional verify types both TOTP and HOTP results; a TOTP match carries its time step.
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}

/** The current code for a secret (what an authenticator shows); for tests and the command line. */
export const totpCode = (secret: string, nowMs: number): Promise<string> =>
  generate({ secret, epoch: Math.floor(nowMs / 1000), period: TOTP_PERIOD_S, digits: TOTP_DIGITS });
