/**
 * Passkey routes under /api/v1/auth/passkeys (docs/identity.md#passkeys). Registered inside the auth routes'
 * scope, so the same no-store and X-Requested-With rules apply; every POST here is rate-limited per address.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bodyObject } from '../http/body.ts';
import {
  clearPasskeyLoginCookie,
  PASSKEY_LOGIN_COOKIE,
  parseCookies,
  passkeyLoginCookie,
} from './cookies.ts';
import { PASSKEY_CHALLENGE_TTL_S, type PasskeyService } from './passkeys.ts';
import { type RelyingParty, relyingPartyFor } from './relying-party.ts';
import type { IssuedSession, RequestContext, SessionState } from './service.ts';

export interface PasskeyRouteDeps {
  readonly passkeys: PasskeyService;
  /** From `--public-url`; without it only a localhost address works (relying-party.ts). */
  readonly relyingParty?: RelyingParty;
  readonly limited: object;
  readonly secureCookies: boolean;
  readonly ctx: (req: FastifyRequest) => RequestContext;
  readonly sessionOf: (req: FastifyRequest) => Promise<SessionState | undefined>;
  readonly fullSession: (req: FastifyRequest) => Promise<SessionState>;
  readonly signedIn: (reply: FastifyReply, issued: IssuedSession) => unknown;
  /** Ends a session (a pending password sign-in left behind when the person chose a passkey instead). */
  readonly logout: (state: SessionState, req: FastifyRequest) => Promise<unknown>;
}

export function passkeyRoutes(auth: FastifyInstance, d: PasskeyRouteDeps): void {
  const rp = (req: FastifyRequest) => relyingPartyFor(req, d.relyingParty);

  auth.post('/api/v1/auth/passkeys/register/options', d.limited, async (req) => {
    const state = await d.fullSession(req);
    return d.passkeys.registrationOptions(state, rp(req));
  });

  auth.post('/api/v1/auth/passkeys/register/verify', d.limited, async (req, reply) => {
    const state = await d.fullSession(req);
    const b = bodyObject(req.body);
    const added = await d.passkeys.register(state, rp(req), b.response, b.name, d.ctx(req));
    return reply.code(201).send({ id: added.id, name: added.name, createdAt: added.createdAt });
  });

  auth.get('/api/v1/auth/passkeys', async (req) => {
    const state = await d.fullSession(req);
    return { passkeys: await d.passkeys.list(state) };
  });

  auth.delete<{ Params: { id: string } }>('/api/v1/auth/passkeys/:id', async (req, reply) => {
    const state = await d.fullSession(req);
    await d.passkeys.remove(state, req.params.id, d.ctx(req));
    return reply.code(204).send();
  });

  auth.post('/api/v1/auth/passkeys/login/options', d.limited, async (req, reply) => {
    const { options, token } = await d.passkeys.loginOptions(rp(req));
    reply.header(
      'set-cookie',
      passkeyLoginCookie(token, { maxAgeS: PASSKEY_CHALLENGE_TTL_S, secure: d.secureCookies }),
    );
    return options;
  });

  auth.post('/api/v1/auth/passkeys/login/verify', d.limited, async (req, reply) => {
    const token = parseCookies(req.headers.cookie).get(PASSKEY_LOGIN_COOKIE);
    // The challenge is spent whatever the outcome, so the cookie that names it goes too.
    reply.header('set-cookie', clearPasskeyLoginCookie(d.secureCookies));
    const issued = await d.passkeys.login(rp(req), token, bodyObject(req.body).response, d.ctx(req));
    const pending = await d.sessionOf(req);
    if (pending !== undefined) await d.logout(pending, req);
    // Fastify adds a second set-cookie header: the spent challenge's removal and the new session.
    return d.signedIn(reply, issued);
  });
}
