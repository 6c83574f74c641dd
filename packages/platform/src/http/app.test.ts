/**
 * The HTTP app's refusals as problem details: Fastify's and its plugins' refusals carry the title of their
 * status (not "Bad request" for all), and a 401 carries a Bearer challenge.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { createHttpApp } from './app.ts';
import { unauthorized } from './problem.ts';

describe('the HTTP app', () => {
  let app: FastifyInstance;
  let base = '';

  beforeAll(async () => {
    app = await createHttpApp({ logger: createLogger('silent'), bodyLimit: 64 });
    app.get('/limited', { config: { rateLimit: { max: 1, timeWindow: 60_000 } } }, async () => ({ ok: 1 }));
    app.post('/echo', async (req) => req.body);
    app.get('/secret', async () => {
      throw unauthorized();
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers a rate-limited request 429 "Too many requests" with Retry-After', async () => {
    expect((await fetch(`${base}/limited`)).status).toBe(200);
    const r = await fetch(`${base}/limited`);
    expect(r.status).toBe(429);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await r.json()).toMatchObject({ status: 429, title: 'Too many requests' });
  });

  it('titles a body too large 413, an unknown media type 415 and an unknown route 404', async () => {
    const big = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x'.repeat(200) }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ status: 413, title: 'Payload too large' });
    const media = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-unknown' },
      body: 'x',
    });
    expect(media.status).toBe(415);
    expect(await media.json()).toMatchObject({ status: 415, title: 'Unsupported media type' });
    const text = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"text":"x"}',
    });
    expect(text.status).toBe(415);
    const bad = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: 400, title: 'Bad request' });
    const none = await fetch(`${base}/nowhere`);
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ status: 404, title: 'Not found' });
  });

  it('challenges a 401 for a bearer token, naming a refused one invalid_token (RFC 6750)', async () => {
    const anonymous = await fetch(`${base}/secret`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="openiomt"');
    const refused = await fetch(`${base}/secret`, { headers: { authorization: 'Bearer nope' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="openiomt", error="invalid_token"');
  });
});
