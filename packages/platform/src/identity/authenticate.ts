/**
 * Who is asking, for any route: `authenticate(req)` gives the Subject of a fully signed-in browser session
 * (cookie) or of the administrator API token (Bearer), or undefined.
 *
 * CSRF: session cookies are SameSite=Strict, and a state-changing request (anything but GET, HEAD, OPTIONS)
 * that is authenticated by the cookie must also carry the `X-Requested-With` header. A cross-site page can
 * neither read nor set custom headers on a request to us without a CORS preflight, which this server never
 * grants, so the header proves the request came from our own pages or a deliberate API client.
 */
import type { Subject } from '@openiomt/core';
import type { FastifyRequest } from 'fastify';
import { HttpProblem } from '../http/problem.ts';
import { checkAdminToken } from '../security/admin-credential.ts';
import type { Store } from '../store/types.ts';
import { parseCookies, SESSION_COOKIE } from './cookies.ts';
import { IdentityService, type SessionState } from './service.ts';

export type Authenticate = (req: FastifyRequest) => Promise<Subject | undefined>;

/** Verifies an OAuth access token (a JWT): the subject it stands for, or why it is refused. */
export interface AccessTokenCheck {
  verify(token: string): Promise<{ ok: true; subject: Subject } | { ok: false; reason: string }>;
}

export const CSRF_HEADER = 'x-requested-with';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const csrfRefused = (): HttpProblem =>
  new HttpProblem({
    status: 403,
    title: 'Forbidden',
    detail: 'state-changing requests made with the session cookie must carry the X-Requested-With header',
  });

/** True when the request may change state: a safe method, or the anti-CSRF header is present. */
export const passesCsrfCheck = (req: FastifyRequest): boolean =>
  SAFE_METHODS.has(req.method) || (req.headers[CSRF_HEADER] ?? '').length > 0;

/** The session the request's cookie names (at any stage), resolved once per request. */
export function sessionResolver(identity: IdentityService) {
  const cache = new WeakMap<FastifyRequest, Promise<SessionState | undefined>>();
  return (req: FastifyRequest): Promise<SessionState | undefined> => {
    let found = cache.get(req);
    if (found === undefined) {
      const token = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
      found = token === undefined ? Promise.resolve(undefined) : identity.resolve(token);
      cache.set(req, found);
    }
    return found;
  };
}

/**
 * Builds `authenticate`. A Bearer JWT is an OAuth access token (checked by `accessTokens`). Any other Bearer
 * header is the administrator API token (a service with scope system/*.*:
 * the token is a credential of its own, for scripts and the CLI); a wrong one is refused and recorded, never
 * retried as a cookie. Otherwise the session cookie, only when fully signed in. Throws 403 (CSRF) for a
 * cookie-authenticated state-changing request without the X-Requested-With header.
 */
export function createAuthenticate(deps: {
  store: Store;
  identity: IdentityService;
  sessionOf?: (req: FastifyRequest) => Promise<SessionState | undefined>;
  /** OAuth access tokens (src/oauth/verify.ts): a Bearer that is a JWT goes here, never to the admin check. */
  accessTokens?: AccessTokenCheck;
}): Authenticate {
  const sessionOf = deps.sessionOf ?? sessionResolver(deps.identity);
  return async (req) => {
    const authorization = req.headers.authorization;
    const jwt =
      deps.accessTokens &&
      /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization ?? '')?.[1];
    if (jwt && deps.accessTokens) {
      const check = await deps.accessTokens.verify(jwt);
      if (check.ok) return check.subject;
      await deps.store.securityEvents.add({
        kind: 'auth-failed',
        source: req.ip,
        detail: `access token refused (${check.reason}): ${req.method} ${req.routeOptions.url ?? ''}`,
      });
      return undefined;
    }
    if (authorization !== undefined) {
      const name = await checkAdminToken(deps.store, authorization);
      if (name === undefined) {
        await deps.store.securityEvents.add({
          kind: 'admin-auth-failed',
          source: req.ip,
          detail: `${req.method} ${req.routeOptions.url ?? ''}`,
        });
        return undefined;
      }
      // The first-start administrator token is a service credential holding every scope (docs/access-policy.md).
      return { kind: 'service', userId: name, roles: [], mfa: true, scopes: ['system/*.*'] };
    }
    const state = await sessionOf(req);
    if (state === undefined || state.stage !== 'full') return undefined;
    if (!passesCsrfCheck(req)) throw csrfRefused();
    return IdentityService.subjectOf(state);
  };
}
