/**
 * Accounts for people, as an administrator manages them: created without a password (there are no default
 * passwords), with a one-time set-up link valid for a day that the person uses to choose their own password;
 * disabled; second factor reset when an authenticator is lost. Disabling and resetting end every session.
 */
import { ROLES, type Role } from '@openiomt/core';
import { badRequest, conflict, notFound } from '../http/problem.ts';
import type { Store } from '../store/types.ts';
import type { User } from '../store/users.ts';
import { iso, newToken, type ResolvedIdentityOptions, SETUP_TOKEN_PREFIX, tokenHash } from './options.ts';
import type { PasskeyService } from './passkeys.ts';
import { checkPassword } from './password-policy.ts';
import { hashPassword } from './passwords.ts';
import { normaliseUsername, USERNAME_RULE } from './username.ts';

/** A set-up link's secret part; shown once to the administrator, who passes it on. */
export interface SetupLink {
  readonly setupToken: string;
  /** Path of the set-up page with the token in the fragment (fragments are not sent to servers or logged). */
  readonly setupPath: string;
  readonly setupExpiresAt: string;
}

export interface NewAccount {
  readonly username: unknown;
  readonly roles: unknown;
  readonly patientId?: unknown;
  readonly displayName?: unknown;
}

const setupInvalid = () =>
  badRequest('the set-up link is not valid: it was used, replaced or has expired', '/token');

export class AccountAdmin {
  constructor(
    private readonly store: Store,
    private readonly options: Pick<ResolvedIdentityOptions, 'now' | 'setupTtlS'>,
    /** Resetting the second factor removes the account's passkeys too (they may be on the lost device). */
    private readonly passkeys?: Pick<PasskeyService, 'removeAllOf'>,
  ) {}

  async create(input: NewAccount): Promise<{ user: User } & SetupLink> {
    const username = normaliseUsername(input.username);
    if (username === undefined) throw badRequest(`username must be ${USERNAME_RULE}`, '/username');
    const roles = parseRoles(input.roles);
    const patientId = optionalText(input.patientId, 'patientId', 128);
    if (roles.includes('patient') && patientId === undefined)
      throw badRequest('a patient account needs the patientId of its own record', '/patientId');
    if (!roles.includes('patient') && patientId !== undefined)
      throw badRequest('patientId is only for accounts with the patient role', '/patientId');
    const displayName = optionalText(input.displayName, 'displayName', 128);
    const { token, link } = this.newLink();
    const user = await this.store.users.create({
      username,
      roles,
      ...(patientId !== undefined ? { patientId } : {}),
      ...(displayName !== undefined ? { displayName } : {}),
      setupTokenHash: tokenHash(token),
      setupExpiresAt: link.setupExpiresAt,
      at: iso(this.options.now()),
    });
    return { user, ...link };
  }

  /** A fresh set-up link for an existing account (forgotten password); the previous link stops working. */
  async newSetupLink(userId: string): Promise<SetupLink> {
    const user = await this.store.users.get(userId);
    if (user === undefined) throw notFound(`no user ${userId}`);
    if (user.disabledAt !== undefined) throw conflict('the account is disabled');
    const { token, link } = this.newLink();
    await this.store.users.issueSetupToken(userId, tokenHash(token), link.setupExpiresAt);
    return link;
  }

  /** The person chooses their password with the set-up token; every older session of theirs ends. */
  async completeSetup(rawToken: unknown, password: unknown): Promise<User> {
    if (typeof rawToken !== 'string' || !rawToken.startsWith(SETUP_TOKEN_PREFIX) || rawToken.length > 100)
      throw setupInvalid();
    const now = iso(this.options.now());
    const hash = tokenHash(rawToken);
    const rec = await this.store.users.recordBySetupToken(hash, now);
    if (rec === undefined) throw setupInvalid();
    const verdict = checkPassword(password, rec.user.username);
    if (!verdict.ok) throw badRequest(verdict.reason, '/password');
    const user = await this.store.users.completeSetup(hash, await hashPassword(password as string), now);
    if (user === undefined) throw setupInvalid();
    await this.store.sessions.revokeAllOf(user.id, now);
    return user;
  }

  async disable(userId: string): Promise<User> {
    const now = iso(this.options.now());
    const user = await this.store.users.disable(userId, now);
    await this.store.sessions.revokeAllOf(user.id, now);
    return user;
  }

  /** Removes the authenticator and every passkey; the person enrols a new authenticator at their next sign-in. */
  async resetMfa(userId: string): Promise<User> {
    const user = await this.store.users.resetTotp(userId);
    await this.passkeys?.removeAllOf(user.id);
    await this.store.sessions.revokeAllOf(user.id, iso(this.options.now()));
    return user;
  }

  private newLink(): { token: string; link: SetupLink } {
    const token = newToken(SETUP_TOKEN_PREFIX);
    const setupExpiresAt = iso(this.options.now() + this.options.setupTtlS * 1000);
    return { token, link: { setupToken: token, setupPath: `/setup#token=${token}`, setupExpiresAt } };
  }
}

function parseRoles(raw: unknown): Role[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 32)
    throw badRequest(`roles must be a non-empty list of ${ROLES.join(', ')}`, '/roles');
  const roles: Role[] = [];
  for (const [i, r] of raw.entries()) {
    if (typeof r !== 'string' || !(ROLES as readonly string[]).includes(r))
      throw badRequest(`roles/${i} must be one of ${ROLES.join(', ')}`, `/roles/${i}`);
    if (!roles.includes(r as Role)) roles.push(r as Role);
  }
  return roles;
}

function optionalText(v: unknown, field: string, max: number): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.trim().length === 0 || v.length > max)
    throw badRequest(`${field} must be a non-empty string of at most ${max} characters`, `/${field}`);
  return v.trim();
}
