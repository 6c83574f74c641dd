/**
 * HTTP for OAuth: oidc-provider mounted at /oauth (its own routes, bodies and cookies: Fastify hands it the
 * raw request), the SMART configuration beside the FHIR base, and the administrator's client registry
 * under /api/v1/admin/oauth-clients.
 */
import type { FastifyInstance } from 'fastify';
import type Provider from 'oidc-provider';
import { requireAdministrator } from '../access/administrator.ts';
import type { SubjectResolver } from '../access/guard.ts';
import { listQuery } from '../http/body.ts';
import { badRequest, HttpProblem, notFound } from '../http/problem.ts';
import type { Store } from '../store/types.ts';
import { OAuthClients } from './clients.ts';
import { parseClientRegistration } from './registration.ts';
import { SCOPES_SUPPORTED } from './scopes.ts';

export const OAUTH_PREFIX = '/oauth';

export interface OAuthRouteDeps {
  readonly store: Store;
  readonly clients: OAuthClients;
  readonly provider: () => Provider | undefined;
  readonly endpoints: () => { issuer: string; fhirBase: string } | undefined;
  readonly resolve: SubjectResolver;
}

const notReady = () =>
  new HttpProblem({
    status: 503,
    title: 'Service unavailable',
    detail: 'the authorization server is starting',
  });

export function oauthRoutes(app: FastifyInstance, deps: OAuthRouteDeps): void {
  // The provider reads its own bodies: no Fastify parser may consume the stream first.
  app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    raw.all(`${OAUTH_PREFIX}/*`, async (req, reply) => {
      const provider = deps.provider();
      const ends = deps.endpoints();
      if (!provider || !ends) throw notReady();
      // SMART: an app names the FHIR server it wants (`aud`); a token for another server is refused here.
      const aud = (req.query as Record<string, unknown> | undefined)?.aud;
      if (aud !== undefined && aud !== ends.fhirBase)
        throw badRequest(`aud must be this server's FHIR base, ${ends.fhirBase}`, '/aud');
      reply.hijack();
      // As express does for a mounted app: oidc-provider finds its mount path from originalUrl.
      const raw = req.raw as typeof req.raw & { originalUrl?: string };
      raw.url = withConsentForOffline((raw.url ?? '').slice(OAUTH_PREFIX.length) || '/');
      raw.originalUrl = `${OAUTH_PREFIX}${raw.url}`;
      await provider.callback()(raw, reply.raw);
    });
  });

  app.get('/fhir/R4/.well-known/smart-configuration', async (_req, reply) => {
    const ends = deps.endpoints();
    if (!ends) throw notReady();
    const { issuer } = ends;
    return reply.header('cache-control', 'public, max-age=300').send({
      issuer,
      jwks_uri: `${issuer}/jwks`,
      authorization_endpoint: `${issuer}/auth`,
      token_endpoint: `${issuer}/token`,
      revocation_endpoint: `${issuer}/token/revocation`,
      introspection_endpoint: `${issuer}/token/introspection`,
      grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt', 'none'],
      token_endpoint_auth_signing_alg_values_supported: [
        'RS384',
        'ES384',
        'RS256',
        'ES256',
        'PS256',
        'EdDSA',
      ],
      scopes_supported: SCOPES_SUPPORTED,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      capabilities: [
        'launch-standalone',
        'client-public',
        'client-confidential-symmetric',
        'client-confidential-asymmetric',
        'context-standalone-patient',
        'permission-patient',
        'permission-user',
        'permission-offline',
        'permission-v1',
        'permission-v2',
        'sso-openid-connect',
      ],
    });
  });

  app.register(async (admin) => {
    admin.addHook('onRequest', async (req) => {
      await requireAdministrator(deps.store, deps.resolve, req);
    });

    admin.post('/api/v1/admin/oauth-clients', async (req, reply) => {
      const registration = parseClientRegistration(req.body);
      const provider = deps.provider();
      if (!provider) throw notReady();
      // oidc-provider checks the metadata as it will when the client uses it (keys, URIs, methods).
      try {
        await provider.Client.validate({
          ...OAuthClients.metadataOf('validation', registration),
          client_secret: 'x'.repeat(43),
        });
      } catch (e) {
        const d = (e as { error_description?: string; message?: string }).error_description;
        throw badRequest(
          `the client is not valid: ${d ?? (e as Error).message}`,
          registration.jwks ? '/jwks' : '',
        );
      }
      const { client, secret } = await deps.clients.create(registration);
      return reply.code(201).send({
        ...client,
        client_id: client.id,
        ...(secret !== undefined ? { client_secret: secret } : {}),
      });
    });

    admin.get('/api/v1/admin/oauth-clients', async (req) =>
      deps.clients.list(listQuery(req.query as Record<string, string | undefined>)),
    );

    admin.delete<{ Params: { id: string } }>('/api/v1/admin/oauth-clients/:id', async (req) => {
      const client = await deps.clients.disable(req.params.id);
      if (!client) throw notFound(`no OAuth client ${req.params.id}`);
      // Its grants, codes and refresh tokens go too; its access tokens are refused from now on.
      await deps.store.db.query(`DELETE FROM oauth_artifacts WHERE payload->>'clientId' = $1`, [client.id]);
      return client;
    });
  });
}

/**
 * OpenID Connect grants offline_access only with prompt=consent; SMART apps ask for it without. Our consent
 * page lists offline access, so an authorization request asking for it is made to ask for consent.
 */
export function withConsentForOffline(path: string): string {
  const q = path.indexOf('?');
  if (q < 0 || path.slice(0, q) !== '/auth') return path;
  const params = new URLSearchParams(path.slice(q + 1));
  if (params.has('prompt') || !(params.get('scope') ?? '').split(' ').includes('offline_access')) return path;
  params.set('prompt', 'consent');
  return `/auth?${params}`;
}
