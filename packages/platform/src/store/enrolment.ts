/**
 * One-time enrolment codes: what an administrator hands to whoever sets up a device, so the device can
 * register its public key once. Only a SHA-256 hash is stored.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 symbols without 0/O and 1/I: 5 bits each, easy to read aloud and type. */
const SYMBOLS = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
const CODE_LENGTH = 10; // 50 bits

export const DEFAULT_ENROLMENT_TTL_S = 24 * 60 * 60;

/** A fresh code grouped for reading, e.g. `K7QF-9MZP-2D`. */
export function newEnrolmentCode(): string {
  const bytes = randomBytes(CODE_LENGTH);
  // 32 divides 256, so taking the low 5 bits is unbiased.
  const chars = Array.from(bytes, (b) => SYMBOLS[b & 31]).join('');
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
}

/** Accepts the code as people type it: any case, with or without dashes and spaces. */
export function normaliseEnrolmentCode(code: string): string {
  return code.replace(/[\s-]/g, '').toUpperCase();
}

export function hashEnrolmentCode(code: string): Buffer {
  return createHash('sha256').update(normaliseEnrolmentCode(code), 'utf8').digest();
}

/** Compares a presented code with a stored hash in constant time. */
export function enrolmentCodeMatches(code: string, storedHash: Uint8Array): boolean {
  const presented = hashEnrolmentCode(code);
  return storedHash.length === presented.length && timingSafeEqual(presented, storedHash);
}
