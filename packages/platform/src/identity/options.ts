/**
 * Identity settings and the small pieces shared by the account and session services: the clock, token
 * hashing, and the one refusal every failed sign-in gets.
 */
import { createHash, randomBytes } from 'node:crypto';
import { HttpProblem } from '../http/problem.ts';
import type { LockoutPolicy } from '../store/users.ts';

export interface IdentityOptions {
  /** A session unused for this long ends (default 15 minutes). */
  readonly idleTimeoutS?: number;
  /** A session ends this long after sign-in, however active (default 12 hours). */
  readonly absoluteTimeoutS?: number;
  /** Time allowed between the password and the second factor (or authenticator enrolment), default 10 min. */
  readonly pendingTimeoutS?: number;
  /** Staff (STAFF_ROLES) must pass TOTP; default true. */
  readonly requireMfaForStaff?: boolean;
  readonly lockout?: Partial<LockoutPolicy>;
  /** How long an administrator's set-up link stays valid (default 24 hours). */
  readonly setupTtlS?: number;
  /** Milliseconds since the epoch; injected by tests. */
  readonly now?: () => number;
}

export interface ResolvedIdentityOptions {
  readonly idleTimeoutS: number;
  readonly absoluteTimeoutS: number;
  readonly pendingTimeoutS: number;
  readonly requireMfaForStaff: boolean;
  readonly lockout: LockoutPolicy;
  readonly setupTtlS: number;
  readonly now: () => number;
}

export function resolveIdentityOptions(o: IdentityOptions = {}): ResolvedIdentityOptions {
  const positive = (v: number | undefined, fallback: number, name: string): number => {
    const n = v ?? fallback;
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number`);
    return n;
  };
  const r = {
    idleTimeoutS: positive(o.idleTimeoutS, 15 * 60, 'idleTimeoutS'),
    absoluteTimeoutS: positive(o.absoluteTimeoutS, 12 * 3600, 'absoluteTimeoutS'),
    pendingTimeoutS: positive(o.pendingTimeoutS, 10 * 60, 'pendingTimeoutS'),
    requireMfaForStaff: o.requireMfaForStaff ?? true,
    lockout: {
      threshold: positive(o.lockout?.threshold, 5, 'lockout.threshold'),
      baseS: positive(o.lockout?.baseS, 15 * 60, 'lockout.baseS'),
      maxS: positive(o.lockout?.maxS, 24 * 3600, 'lockout.maxS'),
    },
    setupTtlS: positive(o.setupTtlS, 24 * 3600, 'setupTtlS'),
    now: o.now ?? Date.now,
  };
  if (r.idleTimeoutS > r.absoluteTimeoutS) throw new Error('idleTimeoutS must not exceed absoluteTimeoutS');
  return r;
}

/** 256 random bits, base64url, with a prefix that says what the token is (and helps secret scanners). */
export const newToken = (prefix: string): string => `${prefix}${randomBytes(32).toString('base64url')}`;

/** Tokens are 256 random bits: a fast hash is enough to keep them safely (nothing to brute-force). */
export const tokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export const SESSION_TOKEN_PREFIX = 'oiss_';
export const SETUP_TOKEN_PREFIX = 'oisu_';

/** The one answer to every failed sign-in, whichever part failed and whether the account exists. */
export const signInFailed = (): HttpProblem =>
  new HttpProblem({
    status: 401,
    title: 'Sign-in failed',
    detail: 'the username or password is wrong, or the account is locked for a while after failed attempts',
  });

export const iso = (ms: number): string => new Date(ms).toISOString();
