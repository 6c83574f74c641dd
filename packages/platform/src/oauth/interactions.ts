/**
 * Sign-in and consent for the authorization code flow, with the platform's own sign-in: a browser fully
 * signed in (session cookie; second factor done for staff) sees the consent page; otherwise it is sent to
 * the web app's sign-in with `next` pointing back here. Allow finishes the interaction with the person's
 * user id and a grant of the scopes the client may have; Deny answers the app access_denied.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { InteractionDetails } from 'oidc-provider';
import type { SessionState } from '../identity/service.ts';
import { consentPage, problemPage } from './consent-page.ts';
import { resourceScopeOf } from './provider.ts';
import { describeScope, isStaticScope, resourceScopesAllowed, splitScope } from './scopes.ts';

export interface InteractionDeps {
  readonly provider: () => Provider | undefined;
  readonly fhirBase: () => string;
  /** The platform sign-in the request carries (any stage). */
  readonly sessionOf: (req: FastifyRequest) => Promise<SessionState | undefined>;
  /** Signs the CSRF token (one of the cookie keys). */
  readonly csrfKey: string;
}

const HTML = 'text/html; charset=utf-8';

export function interactionRoutes(app: FastifyInstance, deps: InteractionDeps): void {
  const csrfFor = (uid: string, sessionId: string) =>
    createHmac('sha256', deps.csrfKey)
      .update(`openiomt/oauth-consent/v1\u0000${uid}\u0000${sessionId}`)
      .digest('base64url');

  /** The interaction, the provider and the client's allowed scopes; or a page saying why not. */
  async function load(req: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply) {
    const provider = deps.provider();
    if (!provider) {
      await reply.code(503).type(HTML).send(problemPage('Not ready', 'The sign-in service is starting.'));
      return undefined;
    }
    let details: InteractionDetails;
    try {
      details = await provider.interactionDetails(req.raw, reply.raw);
    } catch {
      await reply
        .code(400)
        .type(HTML)
        .send(problemPage('This request has expired', 'Go back to the app and start again.'));
      return undefined;
    }
    if (details.uid !== req.params.uid) {
      await reply
        .code(400)
        .type(HTML)
        .send(problemPage('Wrong request', 'Go back to the app and start again.'));
      return undefined;
    }
    const client = await provider.Client.find(details.params.client_id);
    if (!client) {
      await reply.code(400).type(HTML).send(problemPage('Unknown app', 'This app is no longer registered.'));
      return undefined;
    }
    const allowedResource = new Set(resourceScopesAllowed(resourceScopeOf(client)));
    const registered = new Set(splitScope(client.scope));
    const requested = splitScope(details.params.scope);
    const oidc = requested.filter((s) => isStaticScope(s) && registered.has(s));
    const resource = requested.filter((s) => allowedResource.has(s));
    return { provider, details, client, oidc, resource };
  }

  app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    scope.addHook('onRequest', async (_req, reply) => {
      reply.header('cache-control', 'no-store');
    });

    scope.get<{ Params: { uid: string } }>('/oauth/interaction/:uid', async (req, reply) => {
      const loaded = await load(req, reply);
      if (!loaded) return reply;
      const state = await deps.sessionOf(req);
      if (state === undefined || state.stage !== 'full') {
        // Sign in first (the web app returns to `next` afterwards).
        return reply.redirect(`/?next=${encodeURIComponent(`/oauth/interaction/${req.params.uid}`)}`, 303);
      }
      const { client, details, oidc, resource } = loaded;
      // The form's answer ends in a redirect to the app: the CSP must let the form go there.
      const redirect = details.params.redirect_uri;
      const appOrigin = typeof redirect === 'string' ? safeOrigin(redirect) : undefined;
      reply.header(
        'content-security-policy',
        `default-src 'self'; form-action 'self'${appOrigin ? ` ${appOrigin}` : ''}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'`,
      );
      return reply.type(HTML).send(
        consentPage({
          uid: req.params.uid,
          appName: client.clientName ?? client.clientId,
          personName: state.record.user.displayName ?? state.record.user.username,
          scopes: [...oidc, ...resource].map(describeScope),
          csrf: csrfFor(req.params.uid, state.session.id),
        }),
      );
    });

    scope.post<{ Params: { uid: string }; Body: Record<string, string> | undefined }>(
      '/oauth/interaction/:uid/confirm',
      async (req, reply) => {
        const state = await deps.sessionOf(req);
        if (state === undefined || state.stage !== 'full')
          return reply
            .code(401)
            .type(HTML)
            .send(problemPage('Signed out', 'Sign in and start again from the app.'));
        const given = Buffer.from(String(req.body?.csrf ?? ''));
        const expected = Buffer.from(csrfFor(req.params.uid, state.session.id));
        if (given.length !== expected.length || !timingSafeEqual(given, expected))
          return reply
            .code(403)
            .type(HTML)
            .send(problemPage('Refused', 'This form did not come from this page.'));
        const loaded = await load(req, reply);
        if (!loaded) return reply;
        const { provider, details, oidc, resource } = loaded;
        const userId = state.record.user.id;
        let result: Record<string, unknown>;
        if (req.body?.decision === 'allow') {
          const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
          const grant =
            existing && existing.accountId === userId
              ? existing
              : new provider.Grant({ accountId: userId, clientId: details.params.client_id });
          if (oidc.length > 0) grant.addOIDCScope(oidc.join(' '));
          if (resource.length > 0) grant.addResourceScope(deps.fhirBase(), resource.join(' '));
          result = { login: { accountId: userId }, consent: { grantId: await grant.save() } };
        } else {
          result = { error: 'access_denied', error_description: 'the person did not allow this app' };
        }
        const to = await provider.interactionResult(req.raw, reply.raw, result, {
          mergeWithLastSubmission: false,
        });
        return reply.redirect(to, 303);
      },
    );
  });
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
