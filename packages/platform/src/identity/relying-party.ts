/**
 * The WebAuthn relying party: which name passkeys are made for (the RP id) and which page origin their
 * responses must come from. With a configured public URL (`--public-url`) both come from it and nothing
 * else. Without one, only a loopback development address is trusted, taken from the request's Host: behind a
 * proxy or on a real name the Host header is whatever the client sent, so the public name must be configured.
 * Browsers refuse IP addresses as RP ids, so local development uses http://localhost:<port>.
 */
import type { FastifyRequest } from 'fastify';
import { HttpProblem } from '../http/problem.ts';

export interface RelyingParty {
  /** The host name passkeys are scoped to, e.g. `openiomt.example.org` or `localhost`. */
  readonly rpId: string;
  /** The web app's origin, e.g. `https://openiomt.example.org`. */
  readonly origin: string;
}

/** A public URL as configured: http(s), no path, query or fragment; plain http only for localhost. */
export function relyingPartyOf(publicUrl: string): RelyingParty {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new Error(`public URL ${publicUrl} is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalhost(url.hostname)))
    throw new Error(`public URL ${publicUrl} must be https (plain http only for localhost)`);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '')
    throw new Error(`public URL ${publicUrl} must be only scheme, host and port`);
  if (/^[\d.]+$/.test(url.hostname) || url.hostname.startsWith('['))
    throw new Error(
      `public URL ${publicUrl} must use a host name: browsers refuse IP addresses for passkeys`,
    );
  return { rpId: url.hostname, origin: url.origin };
}

const isLocalhost = (host: string): boolean => host === 'localhost' || host.endsWith('.localhost');

export const passkeysUnavailable = (detail: string): HttpProblem =>
  new HttpProblem({ status: 409, title: 'Passkeys are not available at this address', detail });

/** The relying party for a request: the configured one, or the loopback development name from Host. */
export function relyingPartyFor(req: FastifyRequest, configured: RelyingParty | undefined): RelyingParty {
  if (configured) return configured;
  const host = req.headers.host;
  const scheme = req.protocol === 'https' ? 'https' : 'http';
  let url: URL | undefined;
  try {
    url = typeof host === 'string' && host.length <= 255 ? new URL(`${scheme}://${host}`) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || url.host !== host?.toLowerCase() || !isLocalhost(url.hostname))
    throw passkeysUnavailable(
      'passkeys need the platform started with --public-url (its public https address); in local development open it at http://localhost:<port>',
    );
  return { rpId: url.hostname, origin: url.origin };
}
