/**
 * OAuth 2 / OpenID Connect with SMART on FHIR scopes (docs/oauth.md). `prepareOAuth` loads the keys and
 * the token verifier before the identity routes exist (they take the verifier); `routes` registers the
 * HTTP side; `start` makes the provider once the server's URL is known (the issuer is `<base>/oauth`, the
 * base being `--public-url` when configured, else the listening address).
 */
import type { FastifyInstance } from 'fastify';
import type Provider from 'oidc-provider';
import type { SubjectResolver } from '../access/guard.ts';
import { sessionResolver } from '../identity/authenticate.ts';
import { parseCookies, SESSION_COOKIE } from '../identity/cookies.ts';
import type { IdentityService } from '../identity/service.ts';
import type { KeyService } from '../security/keys/key-service.ts';
import type { Store } from '../store/types.ts';
import { OAuthClients } from './clients.ts';
import { interactionRoutes } from './interactions.ts';
import { loadOrCreateOAuthKeys, type OAuthKeys } from './keys.ts';
import { createProvider } from './provider.ts';
import { OAUTH_PREFIX, oauthRoutes } from './routes.ts';
import { AccessTokenVerifier } from './verify.ts';

export interface OAuthServer {
  readonly clients: OAuthClients;
  readonly verifier: AccessTokenVerifier;
  routes(app: FastifyInstance, deps: { identity: IdentityService; resolve: SubjectResolver }): void;
  /** Makes the provider for the server's base URL (after listen). */
  start(httpUrl: string): void;
  provider(): Provider | undefined;
}

export async function prepareOAuth(deps: {
  store: Store;
  keys: KeyService;
  dataDir: string;
}): Promise<OAuthServer> {
  const keys: OAuthKeys = await loadOrCreateOAuthKeys(deps.dataDir);
  const clients = new OAuthClients(deps.store.db, deps.keys);
  let requireMfaForStaff = true;
  const verifier = new AccessTokenVerifier({
    publicKeys: keys.publicKeys,
    db: deps.store.db,
    users: deps.store.users,
    clients,
    get requireMfaForStaff() {
      return requireMfaForStaff;
    },
  });
  let provider: Provider | undefined;
  let endpoints: { issuer: string; fhirBase: string } | undefined;
  let identity: IdentityService | undefined;
  return {
    clients,
    verifier,
    provider: () => provider,
    routes(app, r) {
      identity = r.identity;
      requireMfaForStaff = r.identity.options.requireMfaForStaff;
      oauthRoutes(app, {
        store: deps.store,
        clients,
        provider: () => provider,
        endpoints: () => endpoints,
        resolve: r.resolve,
      });
      interactionRoutes(app, {
        provider: () => provider,
        fhirBase: () => endpoints?.fhirBase ?? '',
        sessionOf: sessionResolver(r.identity),
        csrfKey: keys.cookieKeys[0] as string,
      });
    },
    start(httpUrl) {
      const issuer = `${httpUrl}${OAUTH_PREFIX}`;
      const fhirBase = `${httpUrl}/fhir/R4`;
      const id = identity;
      provider = createProvider({
        issuer,
        fhirBase,
        store: deps.store,
        clients,
        keys,
        verifier,
        platformUser: async (cookieHeader) => {
          const token = parseCookies(cookieHeader).get(SESSION_COOKIE);
          const state = token === undefined || !id ? undefined : await id.resolve(token);
          return state?.stage === 'full' ? state.record.user.id : undefined;
        },
      });
      endpoints = { issuer, fhirBase };
      verifier.setEndpoints(issuer, fhirBase);
    },
  };
}
