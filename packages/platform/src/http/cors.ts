/**
 * CORS for browser SMART on FHIR apps served from another origin (docs/oauth.md, "CORS"). Only the FHIR API
 * and the token endpoints answer cross-origin requests, and only to the origins of registered, enabled OAuth
 * clients' redirect URIs and those the operator lists (--cors-origin). Credentials are never allowed: these
 * apps send Bearer tokens, and the web app's cookie session must stay usable by its own origin alone. The
 * public documents (capability statement, SMART configuration, JWKS) answer any origin with `*`.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../log.ts';
import { sendProblem } from './problem.ts';

export const CORS_MAX_AGE_S = 600;
/** How long the registered clients' origins are kept; registering or disabling a client drops them at once. */
export const CLIENT_ORIGINS_TTL_MS = 15_000;

const FHIR_METHODS = 'GET, POST, PUT, DELETE';
const ALLOW_HEADERS = 'Authorization, Content-Type, Accept, If-Match, If-None-Match, Prefer, X-Request-Id';
const EXPOSE_HEADERS = 'Location, ETag, Content-Location, WWW-Authenticate';

/** Public, credential-free documents: any origin may read them. */
const PUBLIC_PATHS = new Set([
  '/fhir/R4/metadata',
  '/fhir/R4/.well-known/smart-configuration',
  '/oauth/jwks',
]);
/** Endpoints a browser app calls with fetch. Not /oauth/auth: that one is a navigation, never a fetch. */
const TOKEN_PATHS = new Set(['/oauth/token', '/oauth/token/revocation', '/oauth/token/introspection']);

export interface CorsScope {
  readonly methods: string;
  /** Answered with `*` to any origin. */
  readonly public: boolean;
}

/** Which CORS rules a path has, if any (the path without its query). */
export function corsScopeOf(path: string): CorsScope | undefined {
  if (PUBLIC_PATHS.has(path)) return { methods: 'GET', public: true };
  if (TOKEN_PATHS.has(path)) return { methods: 'POST', public: false };
  if (path === '/fhir/R4' || path.startsWith('/fhir/R4/')) return { methods: FHIR_METHODS, public: false };
  return undefined;
}

/**
 * The origin of a URL as browsers send it in `Origin` (scheme, lower-case host, port unless the default),
 * for http and https only; undefined for anything else (custom schemes of native apps, garbage). Never throws.
 */
export function originOf(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return undefined;
  return url.origin;
}

/**
 * An origin the operator configured: it must be exactly an origin (no path, query, fragment or user), so a
 * typo such as a full app URL is refused at start rather than silently widened. Returns it normalised.
 */
export function configuredOrigin(input: string): string {
  const origin = originOf(input);
  const url = origin === undefined ? undefined : new URL(input.trim());
  if (
    origin === undefined ||
    url === undefined ||
    url.username !== '' ||
    url.password !== '' ||
    url.pathname !== '/' ||
    url.search !== '' ||
    url.hash !== ''
  )
    throw new Error(
      `${JSON.stringify(input.slice(0, 200))} is not an origin: give scheme://host[:port], http or https, no path`,
    );
  return origin;
}

/**
 * The origins allowed to call: the configured ones, and the registered clients' redirect URIs' origins,
 * read again after `ttlMs` or as soon as `invalidate` is called. A failed read allows only the configured
 * origins (fail closed) and is not kept, so the next request tries again.
 */
export class AllowedOrigins {
  private readonly configured: ReadonlySet<string>;
  private cached: { origins: ReadonlySet<string>; at: number } | undefined;
  private loading: Promise<ReadonlySet<string>> | undefined;
  /** Bumped by invalidate: a read that started before it must not be kept. */
  private generation = 0;

  constructor(
    private readonly opts: {
      readonly configured: readonly string[];
      readonly redirectUris: () => Promise<readonly string[]>;
      readonly ttlMs?: number;
      readonly now?: () => number;
      readonly onError?: (e: unknown) => void;
    },
  ) {
    this.configured = new Set(opts.configured.map(configuredOrigin));
  }

  invalidate(): void {
    this.generation++;
    this.cached = undefined;
    this.loading = undefined;
  }

  async has(origin: string): Promise<boolean> {
    if (this.configured.has(origin)) return true;
    return (await this.registered()).has(origin);
  }

  private registered(): Promise<ReadonlySet<string>> {
    const now = this.opts.now ?? Date.now;
    if (this.cached && now() - this.cached.at < (this.opts.ttlMs ?? CLIENT_ORIGINS_TTL_MS))
      return Promise.resolve(this.cached.origins);
    if (this.loading) return this.loading;
    const generation = this.generation;
    const load = this.opts
      .redirectUris()
      .then((uris) => {
        const origins = new Set(uris.map(originOf).filter((o): o is string => o !== undefined));
        if (generation === this.generation) this.cached = { origins, at: now() };
        return origins as ReadonlySet<string>;
      })
      .catch((e) => {
        this.opts.onError?.(e);
        return new Set<string>() as ReadonlySet<string>;
      })
      .finally(() => {
        if (this.loading === load) this.loading = undefined;
      });
    this.loading = load;
    return load;
  }
}

/** The client registry as CORS needs it (oauth/clients.ts). */
export interface ClientOriginSource {
  enabledRedirectUris(): Promise<string[]>;
  onChange(listener: () => void): unknown;
}

/**
 * Registers the CORS hook. It runs on onRequest, before any handler, and writes its headers on the raw
 * response: the OAuth routes hand the raw response to oidc-provider (whose own CORS then stands aside, as
 * it does whenever an Access-Control header is already set), and error answers keep them too, so an app
 * can read a 401's WWW-Authenticate.
 */
export function registerCors(
  app: FastifyInstance,
  deps: { clients: ClientOriginSource; configured: readonly string[]; log: Logger },
): AllowedOrigins {
  const origins = new AllowedOrigins({
    configured: deps.configured,
    redirectUris: () => deps.clients.enabledRedirectUris(),
    onError: (err) => deps.log.warn({ err }, 'CORS: the registered clients could not be read'),
  });
  deps.clients.onChange(() => origins.invalidate());

  app.addHook('onRequest', async (req, reply) => {
    const scope = corsScopeOf(req.url.split('?')[0] as string);
    // WebSocket upgrades (FHIR notifications) are not fetches: CORS does not apply to them.
    if (!scope || req.headers.upgrade !== undefined) return;
    const raw = reply.raw;
    // A public document is the same for every origin, with or without one: a shared cache can keep it whole.
    if (scope.public) raw.setHeader('Access-Control-Allow-Origin', '*');
    const origin = req.headers.origin;
    if (origin === undefined) return;
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (!scope.public) {
      // Caches must not hand one origin's answer to another.
      const vary = raw.getHeader('vary');
      if (!/\borigin\b/i.test(String(vary ?? ''))) raw.setHeader('Vary', vary ? `${vary}, Origin` : 'Origin');
      if (!(await origins.has(origin))) {
        if (!preflight) return;
        return sendProblem(reply, {
          status: 403,
          title: 'Forbidden',
          detail: `origin ${origin.slice(0, 200)} is not registered: an administrator registers the app as an OAuth client with a redirect URI on this origin, or lists it with --cors-origin`,
        });
      }
      raw.setHeader('Access-Control-Allow-Origin', origin);
    }
    raw.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    if (!preflight) return;
    raw.setHeader('Access-Control-Allow-Methods', scope.methods);
    raw.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
    raw.setHeader('Access-Control-Max-Age', String(CORS_MAX_AGE_S));
    return reply.code(204).send();
  });
  return origins;
}
