/**
 * Signing people in: password, then (for staff, or anyone who enrolled one) a TOTP code, then a session; or a
 * passkey alone (identity/passkeys.ts), which counts as both factors.
 *
 * A session starts "pending" after the password and only becomes a full sign-in when the second factor is
 * passed (or, for staff without an authenticator yet, enrolled); at that moment the session token is replaced,
 * so a token seen before the second factor is worth nothing after it. Every failure, whichever part failed and
 * whether the account exists, gets the same answer after the same Argon2id work.
 */
import { isStaff, type Subject } from '@openiomt/core';
import { roleOf } from '../audit/http-events.ts';
import { badRequest, conflict, HttpProblem } from '../http/problem.ts';
import type { KeyService } from '../security/keys/key-service.ts';
import type { Session } from '../store/sessions.ts';
import type { SecurityEventKind, Store } from '../store/types.ts';
import type { UserRecord } from '../store/users.ts';
import {
  type IdentityOptions,
  iso,
  newToken,
  type ResolvedIdentityOptions,
  resolveIdentityOptions,
  SESSION_TOKEN_PREFIX,
  signInFailed,
  tokenHash,
} from './options.ts';
import { PASSWORD_MAX } from './password-policy.ts';
import { dummyHash, hashPassword, needsRehash, verifyPassword } from './passwords.ts';
import { type SecretSealer, totpSecretSealer } from './secret-sealer.ts';
import { newTotpSecret, parseTotpCode, totpUri, verifyTotp } from './totp.ts';
import { normaliseUsername } from './username.ts';

/** How a full sign-in was made, as its audit record's `detail.method` says. */
export type SignInMethod = 'password' | 'password+totp' | 'password+totp-enrolment' | 'passkey';

/** Where a session stands: fully signed in, or waiting for the second factor or for authenticator enrolment. */
export type SessionStage = 'full' | 'mfa' | 'totp-enrol';

export interface SessionState {
  readonly session: Session;
  readonly record: UserRecord;
  readonly stage: SessionStage;
}

/** A session just issued: the token goes into the cookie and nowhere else. */
export interface IssuedSession {
  readonly token: string;
  readonly session: Session;
  readonly stage: SessionStage;
}

export interface RequestContext {
  readonly ip?: string;
  readonly userAgent?: string;
}

/** Sliding the idle expiry costs a write; doing it at most this often keeps reads cheap. */
const TOUCH_INTERVAL_MS = 10_000;
/** Ended sessions are kept this long (for an operator's questions), then deleted. */
const SESSION_RETENTION_MS = 7 * 24 * 3600 * 1000;

export class IdentityService {
  readonly options: ResolvedIdentityOptions;
  private readonly secrets: SecretSealer;
  private lastPrune = 0;

  /** `keys` seals the TOTP secrets kept in the database. */
  constructor(
    private readonly store: Store,
    keys: KeyService,
    options: IdentityOptions = {},
  ) {
    this.options = resolveIdentityOptions(options);
    this.secrets = totpSecretSealer(keys);
    void dummyHash(); // warm the dummy hash so the first unknown-account sign-in is not faster
  }

  /** Checks username and password; on success starts a session (full or pending a second factor). */
  async login(rawUsername: unknown, rawPassword: unknown, ctx: RequestContext): Promise<IssuedSession> {
    const now = this.options.now();
    const username = normaliseUsername(rawUsername);
    const password =
      typeof rawPassword === 'string' && rawPassword.length <= 4 * PASSWORD_MAX ? rawPassword : undefined;
    const rec = username === undefined ? undefined : await this.store.users.recordByUsername(username);
    // Always one Argon2id verification, against the dummy hash when there is nothing real to check.
    const matches = await verifyPassword(rec?.passwordHash ?? (await dummyHash()), password ?? '');
    if (rec === undefined || rec.passwordHash === undefined || password === undefined) {
      await this.event('login-failed', ctx, rec ? `user ${rec.user.id}: no password set` : 'unknown account');
      throw signInFailed();
    }
    const { user } = rec;
    if (user.disabledAt !== undefined) {
      await this.event('login-failed', ctx, `user ${user.id}: account disabled`);
      throw signInFailed();
    }
    if (user.lockedUntil !== undefined && Date.parse(user.lockedUntil) > now) {
      await this.event('login-failed', ctx, `user ${user.id}: locked until ${user.lockedUntil}`);
      throw signInFailed();
    }
    if (!matches) {
      await this.failure(rec, now, ctx, 'wrong password');
      throw signInFailed();
    }
    if (needsRehash(rec.passwordHash))
      await this.store.users.rehashPassword(user.id, await hashPassword(password));
    const stage = this.stageAfterPassword(rec);
    // Failures are forgiven only at a full sign-in, so a known password does not reset the TOTP guess count.
    if (stage === 'full') await this.store.users.clearFailures(user.id);
    await this.pruneNowAndThen(now);
    return this.issue(rec, stage, now, ctx, { mfa: false, method: 'password' });
  }

  /** The second factor of a pending session; returns the replacement (full) session. */
  async completeMfa(state: SessionState, rawCode: unknown, ctx: RequestContext): Promise<IssuedSession> {
    if (state.stage !== 'mfa') throw conflict('this session is not waiting for a second factor');
    const code = parseTotpCode(rawCode);
    if (code === undefined) throw badRequest('code must be the 6 digits the authenticator shows', '/code');
    const now = this.options.now();
    const { record } = state;
    const secret = await this.openSecret(record);
    if (record.user.lockedUntil !== undefined && Date.parse(record.user.lockedUntil) > now) {
      // Locked meanwhile (failures elsewhere): this pending sign-in ends too.
      await this.store.sessions.revoke(state.session.id, iso(now));
      await this.event('login-failed', ctx, `user ${record.user.id}: second factor while locked`);
      throw mfaRefused();
    }
    const step = secret === undefined ? undefined : await verifyTotp(secret, code, now, record.totpLastStep);
    // The conditional update refuses a step already used, even by a request racing this one.
    if (step === undefined || !(await this.store.users.useTotpStep(record.user.id, step))) {
      const r = await this.failure(record, now, ctx, 'wrong or reused second-factor code');
      if (r.lockedNow) await this.store.sessions.revoke(state.session.id, iso(now));
      throw mfaRefused();
    }
    await this.store.users.clearFailures(record.user.id);
    return this.replace(state, now, ctx, 'password+totp');
  }

  /**
   * Starts (or restarts) authenticator enrolment: a new secret, shown once. Allowed to a staff session
   * pending enrolment and to a signed-in person without an authenticator yet.
   */
  async startTotp(state: SessionState): Promise<{ secret: string; uri: string }> {
    this.requireEnrolable(state);
    const secret = newTotpSecret();
    const sealed = await this.secrets.seal(secret, state.record.user.id);
    if (!(await this.store.users.startTotp(state.record.user.id, sealed))) throw alreadyEnrolled();
    return { secret, uri: totpUri(secret, state.record.user.username) };
  }

  /** Confirms enrolment with a first code; the session becomes a full, second-factor sign-in. */
  async confirmTotp(state: SessionState, rawCode: unknown, ctx: RequestContext): Promise<IssuedSession> {
    this.requireEnrolable(state);
    const code = parseTotpCode(rawCode);
    if (code === undefined) throw badRequest('code must be the 6 digits the authenticator shows', '/code');
    const now = this.options.now();
    const record = await this.store.users.record(state.record.user.id);
    if (record?.totpSecret === undefined)
      throw conflict('start enrolment first (POST /api/v1/auth/totp/enrol)');
    const secret = await this.openSecret(record);
    const step = secret === undefined ? undefined : await verifyTotp(secret, code, now);
    if (step === undefined)
      throw badRequest(
        "the code does not match: check the authenticator's clock and try the next code",
        '/code',
      );
    if (!(await this.store.users.confirmTotp(record.user.id, step, iso(now)))) throw alreadyEnrolled();
    await this.store.users.clearFailures(record.user.id);
    return this.replace({ ...state, record }, now, ctx, 'password+totp-enrolment');
  }

  /**
   * A full session for a person whose passkey assertion (with user verification) the caller has verified:
   * a passkey is both factors, so there is no pending stage. Like any completed sign-in it forgives failures.
   */
  async passkeySession(record: UserRecord, ctx: RequestContext): Promise<IssuedSession> {
    const now = this.options.now();
    await this.store.users.clearFailures(record.user.id);
    await this.pruneNowAndThen(now);
    return this.issue(record, 'full', now, ctx, { mfa: true, method: 'passkey' });
  }

  /** The live session a token names, with where it stands; undefined when missing, ended or expired. */
  async resolve(token: string): Promise<SessionState | undefined> {
    if (!token.startsWith(SESSION_TOKEN_PREFIX) || token.length > 100) return undefined;
    const session = await this.store.sessions.get(tokenHash(token));
    const now = this.options.now();
    if (
      session === undefined ||
      session.revokedAt !== undefined ||
      now >= Date.parse(session.idleExpiresAt) ||
      now >= Date.parse(session.absoluteExpiresAt)
    )
      return undefined;
    const record = await this.store.users.record(session.userId);
    if (record === undefined || record.user.disabledAt !== undefined) return undefined;
    const stage = session.mfaAt !== undefined ? 'full' : this.stageAfterPassword(record);
    if (stage !== 'full' && now >= Date.parse(session.createdAt) + this.options.pendingTimeoutS * 1000)
      return undefined;
    if (now - Date.parse(session.lastSeenAt) >= TOUCH_INTERVAL_MS) {
      const idle = Math.min(now + this.options.idleTimeoutS * 1000, Date.parse(session.absoluteExpiresAt));
      await this.store.sessions.touch(session.id, iso(now), iso(idle));
      return { session: { ...session, lastSeenAt: iso(now), idleExpiresAt: iso(idle) }, record, stage };
    }
    return { session, record, stage };
  }

  /**
   * Ends the session. Ending a full sign-in is audited (`logout`); a pending one, which was never signed in
   * (no `login` record), is not.
   */
  async logout(state: SessionState, ctx: RequestContext = {}): Promise<boolean> {
    const ended = await this.store.sessions.revoke(state.session.id, iso(this.options.now()));
    if (ended && state.stage === 'full') await this.audit('logout', state.record, ctx);
    return ended;
  }

  /** Ends every session of the person, on every device (audited as one `logout` with the count). */
  async logoutEverywhere(state: SessionState, ctx: RequestContext = {}): Promise<number> {
    const revoked = await this.store.sessions.revokeAllOf(state.record.user.id, iso(this.options.now()));
    await this.audit('logout', state.record, ctx, { everywhere: true, sessions: revoked });
    return revoked;
  }

  /** The subject of a fully signed-in session. */
  static subjectOf(state: SessionState): Subject {
    const { user } = state.record;
    return {
      kind: 'user',
      userId: user.id,
      roles: user.roles,
      ...(user.patientId !== undefined ? { patientId: user.patientId } : {}),
      mfa: state.session.mfaAt !== undefined,
      sessionId: state.session.id,
    };
  }

  private stageAfterPassword(rec: UserRecord): SessionStage {
    if (rec.user.totpEnrolledAt !== undefined) return 'mfa';
    if (this.options.requireMfaForStaff && isStaff(rec.user.roles)) return 'totp-enrol';
    return 'full';
  }

  private requireEnrolable(state: SessionState): void {
    if (state.record.user.totpEnrolledAt !== undefined) throw alreadyEnrolled();
    if (state.stage !== 'totp-enrol' && state.stage !== 'full')
      throw conflict('this session is not waiting for authenticator enrolment');
  }

  /**
   * Starts a session. A full one is a completed sign-in and is audited (`login`, docs/audit.md) before its
   * token is handed out: if the record cannot be written, the sign-in fails.
   */
  private async issue(
    rec: UserRecord,
    stage: SessionStage,
    now: number,
    ctx: RequestContext,
    how: { mfa: boolean; method: SignInMethod },
  ): Promise<IssuedSession> {
    const userId = rec.user.id;
    const token = newToken(SESSION_TOKEN_PREFIX);
    const absolute = now + this.options.absoluteTimeoutS * 1000;
    const session = await this.store.sessions.create({
      id: tokenHash(token),
      userId,
      createdAt: iso(now),
      idleExpiresAt: iso(Math.min(now + this.options.idleTimeoutS * 1000, absolute)),
      absoluteExpiresAt: iso(absolute),
      ...(how.mfa ? { mfaAt: iso(now) } : {}),
      ...(ctx.userAgent !== undefined ? { userAgent: ctx.userAgent } : {}),
      ...(ctx.ip !== undefined ? { ip: ctx.ip } : {}),
    });
    if (stage === 'full') await this.audit('login', rec, ctx, { method: how.method });
    return { token, session, stage };
  }

  /** Ends the pending session and issues a full one with a new token (no session fixation across MFA). */
  private async replace(
    state: SessionState,
    now: number,
    ctx: RequestContext,
    method: SignInMethod,
  ): Promise<IssuedSession> {
    await this.store.sessions.revoke(state.session.id, iso(now));
    return this.issue(state.record, 'full', now, ctx, { mfa: true, method });
  }

  /** A sign-in or sign-out in the audit log: the person (by id, with their roles) and the client's address. */
  private async audit(
    action: 'login' | 'logout',
    rec: UserRecord,
    ctx: RequestContext,
    detail?: { readonly [key: string]: string | number | boolean },
  ): Promise<void> {
    await this.store.audit.record({
      action,
      actor: rec.user.id,
      actorRole: roleOf({ kind: 'user', roles: rec.user.roles }),
      ...(ctx.ip !== undefined ? { source: ctx.ip } : {}),
      ...(detail !== undefined ? { detail } : {}),
      at: iso(this.options.now()),
    });
  }

  private async failure(rec: UserRecord, now: number, ctx: RequestContext, what: string) {
    const r = await this.store.users.recordFailure(rec.user.id, iso(now), this.options.lockout);
    await this.event('login-failed', ctx, `user ${rec.user.id}: ${what} (${r.failedLogins} in a row)`);
    if (r.lockedNow)
      await this.event('account-locked', ctx, `user ${rec.user.id}: locked until ${r.lockedUntil}`);
    return r;
  }

  private async openSecret(rec: UserRecord): Promise<string | undefined> {
    if (rec.totpSecret === undefined) return undefined;
    return this.secrets.open(rec.totpSecret, rec.user.id);
  }

  /** Security events name the account by id (never a typed username: it may be a mistyped password). */
  private async event(kind: SecurityEventKind, ctx: RequestContext, detail: string): Promise<void> {
    await this.store.securityEvents.add({
      kind,
      detail,
      ...(ctx.ip !== undefined ? { source: ctx.ip } : {}),
      at: iso(this.options.now()),
    });
  }

  private async pruneNowAndThen(now: number): Promise<void> {
    if (now - this.lastPrune < 3600_000) return;
    this.lastPrune = now;
    await this.store.sessions.prune(iso(now - SESSION_RETENTION_MS));
  }
}

const mfaRefused = () =>
  new HttpProblem({
    status: 401,
    title: 'Second factor refused',
    detail: 'the code is wrong or was already used; wait for the next code',
  });
const alreadyEnrolled = () =>
  conflict('an authenticator is already enrolled; an administrator can reset it if it is lost');
