/**
 * The sign-in API under /api/v1/auth (set-up, login, second factor, authenticator enrolment, passkeys, sign-out, me)
 * and account management under /api/v1/admin/users. `identityRoutes` registers both and hands back
 * `authenticate` for every other route.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bodyObject } from '../http/body.ts';
import { HttpProblem, unauthorized } from '../http/problem.ts';
import type { KeyService } from '../security/keys/key-service.ts';
import type { Store } from '../store/types.ts';
import { AccountAdmin } from './accounts.ts';
import { adminUserRoutes } from './admin-routes.ts';
import {
  type AccessTokenCheck,
  type Authenticate,
  createAuthenticate,
  csrfRefused,
  passesCsrfCheck,
  sessionResolver,
} from './authenticate.ts';
import { clearSessionCookie, sessionCookie } from './cookies.ts';
import type { IdentityOptions } from './options.ts';
import { passkeyRoutes } from './passkey-routes.ts';
import { PasskeyService } from './passkeys.ts';
import { relyingPartyOf } from './relying-party.ts';
import { IdentityService, type IssuedSession, type RequestContext, type SessionState } from './service.ts';

export interface IdentityDeps {
  readonly store: Store;
  /** The key service: TOTP secrets are stored sealed under a key derived from it. */
  readonly keys: KeyService;
  readonly options?: IdentityOptions;
  /** Per client address, on each sign-in endpoint (login, mfa, set-up, TOTP confirm); default 20 a minute. */
  readonly authRateLimit?: { readonly max: number; readonly timeWindowMs: number };
  /** OAuth access tokens (src/oauth/): Bearer JWTs are verified here. */
  readonly accessTokens?: AccessTokenCheck;
  /**
   * The platform's public address (`--public-url`), naming the passkey relying party. Without it passkeys
   * work only on a localhost address (identity/relying-party.ts).
   */
  readonly publicUrl?: string;
}

export interface IdentityHandle {
  readonly authenticate: Authenticate;
  readonly identity: IdentityService;
  readonly accounts: AccountAdmin;
  readonly passkeys: PasskeyService;
}

/**
 * Session cookies always carry Secure. Browsers treat http://localhost and http://127.0.0.1 as secure
 * contexts and keep Secure cookies there (checked with Chromium 156), so local development over plain HTTP
 * still signs in; anywhere else a session cookie never travels unencrypted.
 */
const SECURE_COOKIE = true;

export function identityRoutes(app: FastifyInstance, deps: IdentityDeps): IdentityHandle {
  const identity = new IdentityService(deps.store, deps.keys, deps.options);
  const passkeys = new PasskeyService(deps.store, identity);
  const accounts = new AccountAdmin(deps.store, identity.options, passkeys);
  const relyingParty = deps.publicUrl !== undefined ? relyingPartyOf(deps.publicUrl) : undefined;
  const sessionOf = sessionResolver(identity);
  const authenticate = createAuthenticate({
    store: deps.store,
    identity,
    sessionOf,
    ...(deps.accessTokens ? { accessTokens: deps.accessTokens } : {}),
  });
  const limit = deps.authRateLimit ?? { max: 20, timeWindowMs: 60_000 };
  const limited = { config: { rateLimit: { max: limit.max, timeWindow: limit.timeWindowMs } } };
  const now = identity.options.now;

  const ctx = (req: FastifyRequest): RequestContext => ({
    ip: req.ip,
    ...(typeof req.headers['user-agent'] === 'string' ? { userAgent: req.headers['user-agent'] } : {}),
  });
  const signedIn = (reply: FastifyReply, issued: IssuedSession) => {
    const maxAgeS = (Date.parse(issued.session.absoluteExpiresAt) - now()) / 1000;
    reply.header('set-cookie', sessionCookie(issued.token, { maxAgeS, secure: SECURE_COOKIE }));
    return {
      signedIn: issued.stage === 'full',
      ...(issued.stage !== 'full' ? { next: issued.stage } : {}),
      idleExpiresAt: issued.session.idleExpiresAt,
      absoluteExpiresAt: issued.session.absoluteExpiresAt,
    };
  };
  /** The session at any stage; 401 without one. */
  const anySession = async (req: FastifyRequest): Promise<SessionState> => {
    const state = await sessionOf(req);
    if (state === undefined) throw unauthorized();
    return state;
  };
  const fullSession = async (req: FastifyRequest): Promise<SessionState> => {
    const state = await anySession(req);
    if (state.stage !== 'full') throw pendingSecondFactor(state.stage);
    return state;
  };

  app.register(async (auth) => {
    auth.addHook('onRequest', async (req, reply) => {
      reply.header('cache-control', 'no-store');
      // Login and set-up carry no cookie yet, so the header rule covers every POST here (no login CSRF).
      if (!passesCsrfCheck(req)) throw csrfRefused();
    });

    auth.post('/api/v1/auth/setup', limited, async (req) => {
      const b = bodyObject(req.body);
      const user = await accounts.completeSetup(b.token, b.password);
      return { userId: user.id, username: user.username, next: 'login' };
    });

    auth.post('/api/v1/auth/login', limited, async (req, reply) => {
      const b = bodyObject(req.body);
      return signedIn(reply, await identity.login(b.username, b.password, ctx(req)));
    });

    auth.post('/api/v1/auth/mfa', limited, async (req, reply) => {
      const state = await anySession(req);
      return signedIn(reply, await identity.completeMfa(state, bodyObject(req.body).code, ctx(req)));
    });

    auth.post('/api/v1/auth/totp/enrol', limited, async (req, reply) => {
      const state = await anySession(req);
      return reply.code(201).send(await identity.startTotp(state));
    });

    auth.post('/api/v1/auth/totp/confirm', limited, async (req, reply) => {
      const state = await anySession(req);
      return signedIn(reply, await identity.confirmTotp(state, bodyObject(req.body).code, ctx(req)));
    });

    auth.post('/api/v1/auth/logout', async (req, reply) => {
      const state = await sessionOf(req);
      if (state !== undefined) await identity.logout(state, ctx(req));
      return reply.header('set-cookie', clearSessionCookie(SECURE_COOKIE)).code(204).send();
    });

    auth.post('/api/v1/auth/logout-everywhere', async (req, reply) => {
      const state = await fullSession(req);
      const revoked = await identity.logoutEverywhere(state, ctx(req));
      reply.header('set-cookie', clearSessionCookie(SECURE_COOKIE));
      return { revoked };
    });

    passkeyRoutes(auth, {
      passkeys,
      ...(relyingParty ? { relyingParty } : {}),
      limited,
      secureCookies: SECURE_COOKIE,
      ctx,
      sessionOf,
      fullSession,
      signedIn,
      logout: (state, req) => identity.logout(state, ctx(req)),
    });

    auth.get('/api/v1/auth/me', async (req) => {
      const subject = await authenticate(req);
      if (subject === undefined) {
        const state = await sessionOf(req);
        if (state !== undefined) throw pendingSecondFactor(state.stage);
        throw unauthorized();
      }
      const { sessionId, ...shown } = subject;
      const state = sessionId === undefined ? undefined : await sessionOf(req);
      if (state === undefined) return shown; // the administrator token
      const { user } = state.record;
      return {
        ...shown,
        username: user.username,
        ...(user.displayName !== undefined ? { displayName: user.displayName } : {}),
        totpEnrolled: user.totpEnrolledAt !== undefined,
        idleExpiresAt: state.session.idleExpiresAt,
        absoluteExpiresAt: state.session.absoluteExpiresAt,
      };
    });
  });

  adminUserRoutes(app, { store: deps.store, accounts, authenticate });
  return { authenticate, identity, accounts, passkeys };
}

/** 401 with what is still missing, so a client knows where to send the person. */
const pendingSecondFactor = (stage: string): HttpProblem =>
  new HttpProblem({
    status: 401,
    title: 'Unauthorized',
    detail:
      stage === 'mfa'
        ? 'sign-in is not complete: send the authenticator code to POST /api/v1/auth/mfa'
        : 'sign-in is not complete: enrol an authenticator (POST /api/v1/auth/totp/enrol, then /totp/confirm)',
    type: `urn:openiomt:auth:${stage}`,
  });
