/**
 * The body of `POST /api/v1/admin/oauth-clients`, checked field by field (outside input: refusals are
 * 400 problems naming the field). What is accepted is always a consistent client: redirect URIs exactly
 * when the authorization code grant is asked, public clients only for it, system scopes only for backend
 * services, a JWKS of public keys only.
 */
import { type JsonWebKey as CryptoJwk, createPublicKey } from 'node:crypto';
import { parseSmartScope } from '@openiomt/core';
import { isLoopback } from '../config/config.ts';
import { badRequest } from '../http/problem.ts';
import { isKnownScope, splitScope } from './scopes.ts';

export const GRANT_TYPES = ['authorization_code', 'client_credentials', 'refresh_token'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export interface PublicJwk {
  readonly kty: string;
  readonly [member: string]: unknown;
}

export interface ClientRegistration {
  readonly name: string;
  readonly redirectUris: string[];
  readonly grantTypes: GrantType[];
  readonly scope: string;
  readonly public: boolean;
  readonly jwks?: { keys: PublicJwk[] };
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

export function parseClientRegistration(body: unknown): ClientRegistration {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('body must be a JSON object', '');
  const b = body as Record<string, unknown>;
  const name = b.name;
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 100)
    throw badRequest(
      'name is required: the app name people see on the consent page (1..100 characters)',
      '/name',
    );

  if (!Array.isArray(b.grantTypes) || b.grantTypes.length === 0)
    throw badRequest(`grantTypes must be a non-empty list of ${GRANT_TYPES.join(', ')}`, '/grantTypes');
  const grantTypes = [...new Set(b.grantTypes)] as GrantType[];
  for (const g of grantTypes)
    if (!GRANT_TYPES.includes(g))
      throw badRequest(
        `grantTypes: ${String(g).slice(0, 40)} is not one of ${GRANT_TYPES.join(', ')}`,
        '/grantTypes',
      );
  const code = grantTypes.includes('authorization_code');
  const backend = grantTypes.includes('client_credentials');
  if (grantTypes.includes('refresh_token') && !code)
    throw badRequest(
      'refresh_token needs authorization_code (refresh tokens come from a sign-in)',
      '/grantTypes',
    );

  const isPublic = b.public ?? false;
  if (typeof isPublic !== 'boolean') throw badRequest('public must be true or false', '/public');
  if (isPublic && backend)
    throw badRequest('a public client (no secret, no keys) cannot use client_credentials', '/public');

  const redirectUris = parseRedirectUris(b.redirectUris, code);

  if (typeof b.scope !== 'string' || b.scope.length === 0 || b.scope.length > 4096)
    throw badRequest('scope is required: the scopes the app may ask for, separated by spaces', '/scope');
  const scopes = [...new Set(splitScope(b.scope))];
  if (scopes.length === 0) throw badRequest('scope must name at least one scope', '/scope');
  for (const s of scopes) {
    if (!isKnownScope(s))
      throw badRequest(`scope: ${s.slice(0, 80)} is not a scope this server knows`, '/scope');
    const context = parseSmartScope(s)?.context;
    if (context === 'system' && !backend)
      throw badRequest(`scope: ${s} is for backend services (grantTypes client_credentials)`, '/scope');
    if ((context === 'patient' || context === 'user') && !code)
      throw badRequest(
        `scope: ${s} is for apps a person signs in to (grantTypes authorization_code)`,
        '/scope',
      );
    if (!parseSmartScope(s) && !code)
      throw badRequest(`scope: ${s} needs a person signing in (grantTypes authorization_code)`, '/scope');
  }
  if (scopes.includes('offline_access') && !grantTypes.includes('refresh_token'))
    throw badRequest('scope offline_access needs grantTypes refresh_token', '/scope');

  const jwks = b.jwks === undefined || b.jwks === null ? undefined : parseJwks(b.jwks);
  if (jwks && isPublic) throw badRequest('a public client has no keys: leave out jwks or public', '/jwks');

  return {
    name: name.trim(),
    redirectUris,
    grantTypes,
    scope: scopes.join(' '),
    public: isPublic,
    ...(jwks ? { jwks } : {}),
  };
}

function parseRedirectUris(raw: unknown, code: boolean): string[] {
  if (!code) {
    if (raw !== undefined && raw !== null && !(Array.isArray(raw) && raw.length === 0))
      throw badRequest('redirectUris are only for the authorization_code grant', '/redirectUris');
    return [];
  }
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 10)
    throw badRequest('redirectUris must list 1..10 URLs for the authorization_code grant', '/redirectUris');
  return raw.map((u, i) => {
    const field = `/redirectUris/${i}`;
    if (typeof u !== 'string' || u.length > 2048)
      throw badRequest('a redirect URI must be a URL string', field);
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw badRequest('a redirect URI must be an absolute URL', field);
    }
    if (url.hash !== '') throw badRequest('a redirect URI must not have a fragment', field);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(host)))
      throw badRequest('a redirect URI must use https (http only to a loopback host)', field);
    return u;
  });
}

function parseJwks(raw: unknown): { keys: PublicJwk[] } {
  const keys = (raw as { keys?: unknown } | undefined)?.keys;
  if (typeof raw !== 'object' || !Array.isArray(keys) || keys.length === 0 || keys.length > 10)
    throw badRequest('jwks must be {"keys": [...]} with 1..10 public keys', '/jwks');
  return {
    keys: keys.map((k, i) => {
      const field = `/jwks/keys/${i}`;
      if (typeof k !== 'object' || k === null || Array.isArray(k))
        throw badRequest('a key must be a JWK object', field);
      const jwk = k as Record<string, unknown>;
      if (!['EC', 'OKP', 'RSA'].includes(jwk.kty as string))
        throw badRequest('a key must be an EC, OKP or RSA public key (kty)', `${field}/kty`);
      const secret = PRIVATE_MEMBERS.find((m) => m in jwk);
      if (secret !== undefined)
        throw badRequest(`a key must be public: remove its private member "${secret}"`, `${field}/${secret}`);
      try {
        createPublicKey({ key: jwk as CryptoJwk, format: 'jwk' });
      } catch {
        throw badRequest(
          'a key must be a valid public JWK (its coordinates or modulus do not make a key)',
          field,
        );
      }
      return jwk as PublicJwk;
    }),
  };
}
