/**
 * Passkeys (WebAuthn, `@simplewebauthn/server`): registering them once fully signed in, and signing in with
 * one alone. A passkey with user verification is both factors at once (something you have, unlocked by
 * something you know or are), and it only answers its own site, so signing in with one gives a full session
 * straight away, for staff too.
 *
 * Challenges are kept server-side, hashed, single-use and short-lived: bound to the session (registration) or
 * to a short-lived cookie (sign-in, where there is no session yet). Sign-in uses discoverable credentials, so
 * nobody types a username and the options reveal nothing about which accounts exist.
 */
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { decodeClientDataJSON, isoBase64URL } from '@simplewebauthn/server/helpers';
import { badRequest, conflict, notFound } from '../http/problem.ts';
import { type PasskeySummary, type PasskeysRepository, passkeysRepository } from '../store/passkeys.ts';
import type { Store } from '../store/types.ts';
import { iso, newToken, signInFailed, tokenHash } from './options.ts';
import type { RelyingParty } from './relying-party.ts';
import type { IdentityService, IssuedSession, RequestContext, SessionState } from './service.ts';

/** How long a person has to answer their authenticator. */
export const PASSKEY_CHALLENGE_TTL_S = 300;
/** Enough for every device a person owns; bounds what one account can store. */
const MAX_PASSKEYS = 20;
const NAME_MAX = 64;
export const PASSKEY_LOGIN_PREFIX = 'oipk_';

export class PasskeyService {
  private readonly passkeys: PasskeysRepository;
  private lastPrune = 0;

  constructor(
    private readonly store: Store,
    private readonly identity: IdentityService,
  ) {
    this.passkeys = passkeysRepository(store.db);
  }

  private now = (): number => this.identity.options.now();

  /** Options for `navigator.credentials.create`, for the signed-in person; the challenge is bound to the session. */
  async registrationOptions(
    state: SessionState,
    rp: RelyingParty,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const { user } = state.record;
    const existing = await this.passkeys.idsOf(user.id);
    if (existing.length >= MAX_PASSKEYS)
      throw conflict(`an account holds at most ${MAX_PASSKEYS} passkeys: remove one first`);
    const options = await generateRegistrationOptions({
      rpName: 'OpenIoMT',
      rpID: rp.rpId,
      userName: user.username,
      userDisplayName: user.displayName ?? user.username,
      // The user handle is the account id (random, not personal): sign-in checks it names the passkey's owner.
      userID: userHandle(user.id),
      attestationType: 'none',
      excludeCredentials: existing,
      authenticatorSelection: {
        residentKey: 'required',
        requireResidentKey: true,
        userVerification: 'required',
      },
      timeout: PASSKEY_CHALLENGE_TTL_S * 1000,
    });
    await this.keepChallenge(options.challenge, 'register', state.session.id, rp, user.id);
    return options;
  }

  /** Verifies a new passkey's attestation (format "none") and keeps its public key. */
  async register(
    state: SessionState,
    rp: RelyingParty,
    rawResponse: unknown,
    rawName: unknown,
    ctx: RequestContext,
  ): Promise<PasskeySummary> {
    const { user } = state.record;
    const name = passkeyName(rawName) ?? `Passkey ${new Date(this.now()).toISOString().slice(0, 10)}`;
    const response = asCredential<RegistrationResponseJSON>(rawResponse);
    const expired = () =>
      badRequest('the passkey request was used or has expired: start adding the passkey again', '/response');
    const challenge = challengeOf(response);
    if (response === undefined || challenge === undefined)
      throw badRequest('response must be the credential the browser returned', '/response');
    const taken = await this.passkeys.takeChallenge(
      tokenHash(challenge),
      'register',
      state.session.id,
      iso(this.now()),
    );
    if (taken === undefined || taken.userId !== user.id || taken.rpId !== rp.rpId) throw expired();
    let info: Awaited<ReturnType<typeof verifyRegistrationResponse>>['registrationInfo'];
    try {
      const v = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.rpId,
        requireUserVerification: true,
      });
      info = v.verified ? v.registrationInfo : undefined;
    } catch (e) {
      throw badRequest(`the passkey was not accepted: ${reason(e)}`, '/response');
    }
    if (info === undefined) throw badRequest('the passkey was not accepted', '/response');
    const added = await this.passkeys.add({
      id: info.credential.id,
      userId: user.id,
      name,
      publicKey: isoBase64URL.fromBuffer(info.credential.publicKey),
      signCount: info.credential.counter,
      transports: (info.credential.transports ?? []).filter((t) => typeof t === 'string').slice(0, 8),
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      rpId: rp.rpId,
      aaguid: info.aaguid,
      createdAt: iso(this.now()),
    });
    await this.event('passkey-added', ctx, `user ${user.id}: passkey ${shortId(added.id)} added`);
    return summary(added);
  }

  list(state: SessionState): Promise<PasskeySummary[]> {
    return this.passkeys.listOf(state.record.user.id);
  }

  async remove(state: SessionState, id: string, ctx: RequestContext): Promise<void> {
    const userId = state.record.user.id;
    if (!(await this.passkeys.remove(userId, id))) throw notFound('you have no passkey with this id');
    await this.event('passkey-removed', ctx, `user ${userId}: passkey ${shortId(id)} removed`);
  }

  /** Removes every passkey of an account (second factor reset by an administrator). */
  removeAllOf(userId: string): Promise<number> {
    return this.passkeys.removeAllOf(userId);
  }

  /**
   * Options for `navigator.credentials.get` with no allowed list (the authenticator offers the site's
   * discoverable passkeys). The challenge is bound to the returned token, which goes in a short-lived cookie.
   */
  async loginOptions(
    rp: RelyingParty,
  ): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; token: string }> {
    const options = await generateAuthenticationOptions({
      rpID: rp.rpId,
      userVerification: 'required',
      timeout: PASSKEY_CHALLENGE_TTL_S * 1000,
    });
    const token = newToken(PASSKEY_LOGIN_PREFIX);
    await this.keepChallenge(options.challenge, 'login', tokenHash(token), rp);
    return { options, token };
  }

  /**
   * Signs in with a passkey's assertion: a full session. Every refusal is the one generic sign-in failure;
   * the security event says what went wrong (by account id once the passkey is known).
   */
  async login(
    rp: RelyingParty,
    token: string | undefined,
    rawResponse: unknown,
    ctx: RequestContext,
  ): Promise<IssuedSession> {
    const now = this.now();
    const refuse = async (why: string): Promise<never> => {
      await this.event('login-failed', ctx, why);
      throw signInFailed();
    };
    const response = asCredential<AuthenticationResponseJSON>(rawResponse);
    const challenge = challengeOf(response);
    if (response === undefined || challenge === undefined) return refuse('passkey: malformed response');
    if (token === undefined || !token.startsWith(PASSKEY_LOGIN_PREFIX) || token.length > 100)
      return refuse('passkey: no sign-in challenge cookie');
    const taken = await this.passkeys.takeChallenge(
      tokenHash(challenge),
      'login',
      tokenHash(token),
      iso(now),
    );
    if (taken === undefined || taken.rpId !== rp.rpId)
      return refuse('passkey: challenge unknown, used, expired or from another browser');
    const passkey = await this.passkeys.get(response.id);
    if (passkey === undefined || passkey.rpId !== rp.rpId) return refuse('passkey: unknown passkey');
    const who = `user ${passkey.userId}: passkey ${shortId(passkey.id)}`;
    const record = await this.store.users.record(passkey.userId);
    if (record === undefined) return refuse(`${who}: no such account`);
    if (record.user.disabledAt !== undefined) return refuse(`${who}: account disabled`);
    if (record.user.lockedUntil !== undefined && Date.parse(record.user.lockedUntil) > now)
      return refuse(`${who}: locked until ${record.user.lockedUntil}`);
    const handle = response.response.userHandle;
    if (handle !== undefined && handle !== isoBase64URL.fromBuffer(userHandle(passkey.userId)))
      return refuse(`${who}: user handle does not match`);
    let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.rpId,
        credential: {
          id: passkey.id,
          publicKey: isoBase64URL.toBuffer(passkey.publicKey),
          counter: passkey.signCount,
          transports: passkey.transports as never,
        },
        requireUserVerification: true,
      });
    } catch (e) {
      return refuse(`${who}: ${reason(e)}`);
    }
    if (!verified.verified) return refuse(`${who}: signature not verified`);
    const { newCounter, credentialBackedUp } = verified.authenticationInfo;
    // The conditional update refuses a counter that did not move on, even for a request racing this one.
    if (!(await this.passkeys.recordUse(passkey.id, newCounter, credentialBackedUp, iso(now))))
      return refuse(`${who}: signature counter did not advance (cloned authenticator or replay)`);
    return this.identity.passkeySession(record, ctx);
  }

  private async keepChallenge(
    challenge: string,
    purpose: 'register' | 'login',
    binding: string,
    rp: RelyingParty,
    userId?: string,
  ): Promise<void> {
    const now = this.now();
    if (now - this.lastPrune >= 60_000) {
      this.lastPrune = now;
      await this.passkeys.pruneChallenges(iso(now));
    }
    await this.passkeys.addChallenge({
      id: tokenHash(challenge),
      purpose,
      binding,
      ...(userId !== undefined ? { userId } : {}),
      rpId: rp.rpId,
      origin: rp.origin,
      expiresAt: iso(now + PASSKEY_CHALLENGE_TTL_S * 1000),
    });
  }

  private async event(
    kind: 'login-failed' | 'passkey-added' | 'passkey-removed',
    ctx: RequestContext,
    detail: string,
  ): Promise<void> {
    await this.store.securityEvents.add({
      kind,
      detail,
      ...(ctx.ip !== undefined ? { source: ctx.ip } : {}),
      at: iso(this.now()),
    });
  }
}

/** The WebAuthn user handle of an account: the 16 bytes of its UUID. */
export function userHandle(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(userId.replace(/-/g, ''), 'hex'));
}

function passkeyName(raw: unknown): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const name = typeof raw === 'string' ? raw.trim() : '';
  if (name.length === 0 || name.length > NAME_MAX || /\p{Cc}/u.test(name))
    throw badRequest(`name must be 1 to ${NAME_MAX} characters of text`, '/name');
  return name;
}

/** The credential JSON the browser library returns, checked only as far as picking its parts out is safe. */
function asCredential<T extends { id: string; response: { clientDataJSON: string } }>(
  raw: unknown,
): T | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as { id?: unknown; rawId?: unknown; response?: { clientDataJSON?: unknown } };
  if (typeof r.id !== 'string' || !/^[A-Za-z0-9_-]{1,1400}$/.test(r.id)) return undefined;
  if (typeof r.response !== 'object' || r.response === null) return undefined;
  if (typeof r.response.clientDataJSON !== 'string' || r.response.clientDataJSON.length > 8192)
    return undefined;
  return raw as T;
}

/** The challenge the client data echoes (not yet trusted: it only names which stored challenge to take). */
function challengeOf(response: { response: { clientDataJSON: string } } | undefined): string | undefined {
  if (response === undefined) return undefined;
  try {
    const c = decodeClientDataJSON(response.response.clientDataJSON).challenge;
    return typeof c === 'string' && /^[A-Za-z0-9_-]{16,256}$/.test(c) ? c : undefined;
  } catch {
    return undefined;
  }
}

const summary = (p: PasskeySummary): PasskeySummary => ({
  id: p.id,
  name: p.name,
  createdAt: p.createdAt,
  ...(p.lastUsedAt !== undefined ? { lastUsedAt: p.lastUsedAt } : {}),
  deviceType: p.deviceType,
  backedUp: p.backedUp,
});

/** Enough of a credential id to tell passkeys apart in the security log. */
const shortId = (id: string): string => id.slice(0, 12);

/** The library's reason, kept short for the log and the answer (it names origins and flags, no secrets). */
const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e)).slice(0, 200);
