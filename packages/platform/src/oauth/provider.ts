/**
 * The oidc-provider configuration: the protocol is the library's (authorization code with PKCE S256,
 * client credentials, refresh token rotation, revocation, introspection, resource indicators); this file
 * supplies storage, accounts, scope semantics and SMART's additions (fhirUser, the `patient` launch context),
 * and the revocation of JWT access tokens the library refuses (revocation.ts).
 */

import type ProviderType from 'oidc-provider';
import type { ClientInstance, KoaContext } from 'oidc-provider';
import type { Store } from '../store/types.ts';
import { adapterFactory } from './adapter.ts';
import { type OAuthClients, RESOURCE_SCOPE } from './clients.ts';
import { type OAuthKeys, TOKEN_ALG } from './keys.ts';
import { errors, interactionPolicy, Provider } from './library.ts';
import { revokeAccessTokens } from './revocation.ts';
import { resourceScopesAllowed, STATIC_SCOPES, splitScope } from './scopes.ts';
import { type AccessTokenVerifier, GRANT_CLAIM } from './verify.ts';

/** Access tokens live five minutes; a refresh token (offline_access) and its grant two weeks. */
export const ACCESS_TOKEN_TTL_S = 300;
export const REFRESH_TOKEN_TTL_S = 14 * 24 * 3600;

export interface ProviderDeps {
  readonly issuer: string;
  readonly fhirBase: string;
  readonly store: Store;
  readonly clients: OAuthClients;
  readonly keys: OAuthKeys;
  /** Checks our access tokens at the API; also records the ones revoked at the revocation endpoint. */
  readonly verifier: AccessTokenVerifier;
  /** The user id of the platform sign-in the cookie header names (full sign-in only), if any. */
  readonly platformUser: (cookieHeader: string | undefined) => Promise<string | undefined>;
}

/** The FHIR scopes a client was registered with. */
export const resourceScopeOf = (client: ClientInstance): string | undefined => {
  const v = client.metadata()[RESOURCE_SCOPE];
  return typeof v === 'string' ? v : undefined;
};

const InvalidTarget = errors.InvalidTarget as new (description?: string) => Error;

export function createProvider(deps: ProviderDeps): ProviderType {
  const { store, fhirBase } = deps;
  // The provider's own session follows the platform's sign-in: once that ends, or another person signs
  // in on this browser, an app asking again goes through our sign-in and consent page again.
  const policy = interactionPolicy.base();
  policy.get('login').checks.push(
    new interactionPolicy.Check('platform_sign_in', 'the platform sign-in ended or changed', async (ctx) => {
      const user = await deps.platformUser(ctx.req.headers.cookie);
      return user === undefined || user !== ctx.oidc.session.accountId
        ? interactionPolicy.Check.REQUEST_PROMPT
        : interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }),
  );

  const provider = new Provider(deps.issuer, {
    adapter: adapterFactory(store.db, deps.clients),
    clients: [],
    // CORS is decided before the library sees a request (http/cors.ts): whatever cross-origin request
    // still reaches it came from an origin we did not allow.
    clientBasedCORS: () => false,
    jwks: deps.keys.jwks,
    cookies: {
      keys: deps.keys.cookieKeys,
      names: {
        session: 'openiomt_oauth_session',
        interaction: 'openiomt_oauth_interaction',
        resume: 'openiomt_oauth_resume',
      },
    },
    async findAccount(_ctx: unknown, id: string) {
      const user = /^[0-9a-f-]{36}$/i.test(id) ? await store.users.get(id) : undefined;
      if (!user || user.disabledAt !== undefined) return undefined;
      const fhirUser =
        user.patientId !== undefined
          ? `${fhirBase}/Patient/${user.patientId}`
          : `${fhirBase}/Practitioner/${user.id}`;
      return { accountId: id, claims: async () => ({ sub: id, fhirUser }) };
    },
    claims: { openid: ['sub'], fhirUser: ['fhirUser'] },
    // SMART wants fhirUser in the ID token itself.
    conformIdTokenClaims: false,
    scopes: [...STATIC_SCOPES],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: TOKEN_ALG,
    },
    enabledJWA: {
      idTokenSigningAlgValues: [TOKEN_ALG],
      // SMART Backend Services name RS384 and ES384; ES256 and EdDSA are common too. No HMAC.
      clientAuthSigningAlgValues: ['RS384', 'ES384', 'RS256', 'ES256', 'PS256', 'EdDSA'],
    },
    clientAuthMethods: ['client_secret_basic', 'private_key_jwt', 'none'],
    extraClientMetadata: {
      properties: [RESOURCE_SCOPE],
      validator(_ctx: unknown, key: string, value: unknown) {
        if (key === RESOURCE_SCOPE && value !== undefined && typeof value !== 'string')
          throw new Error(`${RESOURCE_SCOPE} must be a string`);
      },
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      // Our API does not check DPoP proofs, so no token may be bound to one; no userinfo (tokens are JWTs
      // for the FHIR API; fhirUser is in the ID token); no logout page (its script breaks our CSP).
      dPoP: { enabled: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => fhirBase,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, indicator: string, client: ClientInstance) => {
          if (indicator !== fhirBase) throw new InvalidTarget(`the only resource is ${fhirBase}`);
          return {
            scope: resourceScopesAllowed(resourceScopeOf(client)).join(' '),
            audience: fhirBase,
            accessTokenTTL: ACCESS_TOKEN_TTL_S,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: TOKEN_ALG } },
          };
        },
      },
    },
    formats: {
      customizers: {
        // A person's token names its grant, so our API can refuse it once the grant is revoked.
        jwt: async (
          _ctx: unknown,
          token: { grantId?: string },
          jwt: { payload: Record<string, unknown> },
        ) => {
          if (token.grantId) jwt.payload[GRANT_CLAIM] = token.grantId;
        },
      },
    },
    pkce: { required: () => true },
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL_S,
      ClientCredentials: ACCESS_TOKEN_TTL_S,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: REFRESH_TOKEN_TTL_S,
      Grant: REFRESH_TOKEN_TTL_S,
      Interaction: 600,
      Session: 12 * 3600,
    },
    rotateRefreshToken: true,
    extraParams: ['aud', 'launch'],
    interactions: {
      policy,
      url: (_ctx: unknown, interaction: { uid: string }) => `/oauth/interaction/${interaction.uid}`,
    },
  });

  // SMART: a token with launch/patient tells the app whose record to open, beside the token.
  provider.use(async (ctx: KoaContext, next) => {
    await next();
    if (ctx.oidc?.route !== 'token' || ctx.status !== 200) return;
    const body = ctx.body as Record<string, unknown> | undefined;
    if (!body || typeof body.access_token !== 'string') return;
    const token = ctx.oidc.entities.AccessToken;
    const grant = ctx.oidc.entities.Grant as { getOIDCScope?: () => string } | undefined;
    const launchPatient =
      splitScope(grant?.getOIDCScope?.()).includes('launch/patient') ||
      splitScope(body.scope as string | undefined).includes('launch/patient');
    if (!launchPatient || !token?.accountId) return;
    const user = await store.users.get(token.accountId);
    if (user?.patientId !== undefined) ctx.body = { ...body, patient: user.patientId };
  });
  revokeAccessTokens(provider, deps.verifier);
  return provider;
}
