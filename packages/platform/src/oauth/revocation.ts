/**
 * RFC 7009 revocation of our JWT access tokens at `POST /oauth/token/revocation`. oidc-provider revokes
 * opaque tokens (refresh tokens) itself but refuses every structured (JWT) token: after it has parsed the
 * request and authenticated the client, its `rejectStructuredTokens` step throws `unsupported_token_type`
 * (lib/actions/revocation.js). That refusal, and nothing else, is taken over here: the library's route has
 * done the client authentication (ctx.oidc.client), so this code never authenticates a client itself.
 */
import type Provider from 'oidc-provider';
import type { KoaContext } from 'oidc-provider';
import { errors } from './library.ts';
import type { AccessTokenVerifier } from './verify.ts';

const UnsupportedTokenType = errors.UnsupportedTokenType as new (description?: string) => Error;

export function revokeAccessTokens(provider: Provider, verifier: AccessTokenVerifier): void {
  // The route's error handler emits `revocation.error` with the request's context: the one sure sign that
  // the library stopped at its structured-token refusal, whatever body it rendered for the error.
  const refusedAsStructured = new WeakSet<object>();
  provider.on('revocation.error', (ctx, err) => {
    if (err instanceof UnsupportedTokenType && typeof ctx === 'object' && ctx !== null)
      refusedAsStructured.add(ctx);
  });

  provider.use(async (ctx: KoaContext, next) => {
    await next();
    if (!refusedAsStructured.has(ctx) || ctx.oidc?.route !== 'revocation') return;
    const client = ctx.oidc.client;
    const token = ctx.oidc.params?.token;
    // The refusal comes only after client authentication; without a client nothing is touched.
    if (!client || typeof token !== 'string') return;
    const outcome = await verifier.revoke(token, client.clientId);
    if (outcome === 'another-client' && client.clientAuthMethod !== 'none') {
      // RFC 7009 §2.1: the server "verifies whether the token was issued to the client making the revocation
      // request. If this validation fails, the request is refused and the client is informed of the error".
      // This is also what oidc-provider answers for another client's refresh token (its default
      // revocation.allowedPolicy): invalid_request to an authenticated client, while a public client, which
      // proves nothing by naming its id, gets the plain 200 below. Either way the token is not revoked.
      ctx.status = 400;
      ctx.body = {
        error: 'invalid_request',
        error_description: 'client is not authorized to revoke the presented token',
      };
      return;
    }
    // RFC 7009 §2.2: 200 when the token was revoked, and also for an invalid or unknown token (a token we did
    // not sign, an expired one) since the client could do nothing useful with an error.
    ctx.status = 200;
    ctx.body = '';
  });
}
