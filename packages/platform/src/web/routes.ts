/**
 * Serves the web app at `/` (the sign-in page is the first thing a visitor sees) and `/setup` (the one-time
 * account set-up link), with its hashed assets under `/assets/`. The bundle is built in memory on the first
 * request and kept for the life of the process; responses are precompressed (brotli, gzip) and validated
 * with ETags.
 */
import { buildWebApp, type WebApp, type WebAsset } from '@openiomt/web';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from '../http/problem.ts';

let shared: Promise<WebApp> | undefined;

/** One build per process, shared by every platform in it (tests start many). */
export function webApp(): Promise<WebApp> {
  shared ??= buildWebApp().catch((e: unknown) => {
    shared = undefined;
    throw e;
  });
  return shared;
}

export function webAppRoutes(app: FastifyInstance, deps: { build?: () => Promise<WebApp> } = {}): void {
  const load = deps.build ?? webApp;
  const page = (req: FastifyRequest, reply: FastifyReply) => serve(req, reply, load, '/');
  app.get('/', page);
  app.get('/setup', page);
  app.get<{ Params: { name: string } }>('/assets/:name', (req, reply) =>
    serve(req, reply, load, `/assets/${req.params.name}`),
  );
}

async function serve(
  req: FastifyRequest,
  reply: FastifyReply,
  load: () => Promise<WebApp>,
  path: string,
): Promise<unknown> {
  const asset = (await load()).get(path);
  if (!asset) throw new HttpProblem({ status: 404, title: 'Not found', detail: `no asset ${path}` });
  reply
    .header('Content-Type', asset.contentType)
    .header('ETag', asset.etag)
    .header('Vary', 'Accept-Encoding')
    .header('Cache-Control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  const { body, encoding } = negotiate(asset, String(req.headers['accept-encoding'] ?? ''));
  if (encoding) reply.header('Content-Encoding', encoding);
  return reply.send(body);
}

function negotiate(asset: WebAsset, header: string): { body: Buffer; encoding?: string } {
  const accepted = acceptedEncodings(header);
  if (accepted.has('br')) return { body: asset.brotli, encoding: 'br' };
  if (accepted.has('gzip') || accepted.has('*')) return { body: asset.gzip, encoding: 'gzip' };
  return { body: asset.body };
}

/** The content codings an Accept-Encoding header allows (q=0 refuses one), lower case. */
export function acceptedEncodings(header: string): Set<string> {
  const out = new Set<string>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!name) continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    out.add(name);
  }
  return out;
}
