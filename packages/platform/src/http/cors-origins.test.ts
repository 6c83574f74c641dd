/** The allowed origins (cache, invalidation), the routes CORS covers, and origin parsing by example and by property. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.ts';
import { AllowedOrigins, configuredOrigin, corsScopeOf, originOf } from './cors.ts';

const APP = 'https://app.example';
const EXTRA = 'https://extra.example';
const EVIL = 'https://evil.example';
describe('the allowed origins', () => {
  it('keeps the registered origins for the TTL, and reads again when invalidated', async () => {
    let clock = 0;
    let reads = 0;
    let uris = [`${APP}/launch`, 'com.example.app:/callback'];
    const origins = new AllowedOrigins({
      configured: [`${EXTRA}/`],
      redirectUris: async () => {
        reads++;
        return uris;
      },
      ttlMs: 1000,
      now: () => clock,
    });
    expect(await Promise.all([origins.has(APP), origins.has(APP)])).toEqual([true, true]);
    expect(reads).toBe(1);
    expect(await origins.has(EXTRA)).toBe(true);
    expect(await origins.has('com.example.app:')).toBe(false);
    uris = [];
    clock = 999;
    expect(await origins.has(APP)).toBe(true);
    clock = 1000;
    expect(await origins.has(APP)).toBe(false);
    expect(reads).toBe(2);
    uris = [`${EVIL}/cb`];
    origins.invalidate();
    expect(await origins.has(EVIL)).toBe(true);
    expect(reads).toBe(3);
  });

  it('does not keep a read that an invalidation overtook, nor a failed one (and fails closed)', async () => {
    // Each read waits until the test answers it, in order.
    const pending: ((uris: string[]) => void)[] = [];
    let fail = false;
    let reads = 0;
    const origins = new AllowedOrigins({
      configured: [],
      redirectUris: () => {
        reads++;
        return fail ? Promise.reject(new Error('database down')) : new Promise((ok) => pending.push(ok));
      },
      onError: () => {},
    });
    const stale = origins.has(APP);
    origins.invalidate();
    const fresh = origins.has(APP);
    expect(pending.length).toBe(2);
    pending.shift()?.([`${APP}/launch`]);
    pending.shift()?.([]);
    // The overtaken read answers its own caller, but what is kept is the newer one.
    expect(await stale).toBe(true);
    expect(await fresh).toBe(false);
    expect(await origins.has(APP)).toBe(false);
    expect(reads).toBe(2);
    fail = true;
    origins.invalidate();
    expect(await origins.has(APP)).toBe(false);
    fail = false;
    const again = origins.has(APP);
    expect(reads).toBe(4);
    pending.shift()?.([`${APP}/cb`]);
    expect(await again).toBe(true);
  });

  it('has CORS only where apps need it', () => {
    expect(corsScopeOf('/fhir/R4/Observation')).toEqual({ methods: 'GET, POST, PUT, DELETE', public: false });
    expect(corsScopeOf('/fhir/R4/metadata')?.public).toBe(true);
    expect(corsScopeOf('/oauth/token')).toEqual({ methods: 'POST', public: false });
    for (const path of ['/', '/api/v1/session', '/oauth/auth', '/oauth/interaction/x', '/fhir/R4x', '/fhir'])
      expect(corsScopeOf(path)).toBeUndefined();
  });
});

describe('origin parsing', () => {
  it('takes the origin of a redirect URI as a browser would send it', () => {
    expect(originOf('https://App.Example:443/launch?x=1#y')).toBe(APP);
    expect(originOf('http://localhost:8080/cb')).toBe('http://localhost:8080');
    expect(originOf('http://[::1]:80/cb')).toBe('http://[::1]');
    expect(originOf('https://user:pw@app.example/cb')).toBe(APP);
    for (const bad of [
      'com.example.app:/callback',
      'javascript:alert(1)',
      'file:///x',
      'data:,',
      'app.example',
      '',
    ])
      expect(originOf(bad)).toBeUndefined();
  });

  it('refuses a configured value that is not exactly an origin', () => {
    expect(configuredOrigin(' HTTPS://Extra.Example:443/ ')).toBe(EXTRA);
    for (const bad of [
      'https://app.example/launch',
      'https://a@app.example',
      '*',
      'ftp://x.example',
      'https://a.example?q',
    ])
      expect(() => configuredOrigin(bad)).toThrow(/is not an origin/);
  });

  const originShape = /^https?:\/\/[^/?#@\s]+$/;
  const isNormal = (o: string) => {
    const u = new URL(o);
    return (
      originShape.test(o) &&
      u.host === u.host.toLowerCase() &&
      !(u.protocol === 'https:' && o.endsWith(':443')) &&
      !(u.protocol === 'http:' && o.endsWith(':80'))
    );
  };

  it('never throws, and gives only normalised http(s) origins (property)', () => {
    const anything = fc.oneof(
      fc.string(),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc
        .tuple(fc.constantFrom('http://', 'https://', 'HTTPS://', 'ftp://', 'javascript:', ''), fc.string())
        .map(([s, r]) => s + r),
    );
    fc.assert(
      fc.property(anything, (input) => {
        const origin = originOf(input);
        if (origin === undefined) return;
        expect(isNormal(origin)).toBe(true);
        expect(originOf(origin)).toBe(origin);
        let configured: string | undefined;
        try {
          configured = configuredOrigin(input);
        } catch (e) {
          expect((e as Error).message).toMatch(/is not an origin/);
        }
        if (configured !== undefined) expect(configured).toBe(origin);
      }),
      { numRuns: 2000 },
    );
  });

  it('lower-cases the host, drops the default port and the path (property)', () => {
    const mixedCase = fc
      .tuple(fc.domain(), fc.infiniteStream(fc.boolean()))
      .map(([d, upper]) => [...d].map((c) => (upper.next().value ? c.toUpperCase() : c)).join(''));
    fc.assert(
      fc.property(
        fc.constantFrom('http', 'https'),
        mixedCase,
        fc.option(fc.integer({ min: 1, max: 65535 })),
        fc.webPath(),
        (scheme, host, port, path) => {
          const defaultPort = scheme === 'https' ? 443 : 80;
          const input = `${scheme}://${host}${port === null ? '' : `:${port}`}${path}`;
          const keepPort = port !== null && port !== defaultPort;
          expect(originOf(input)).toBe(`${scheme}://${host.toLowerCase()}${keepPort ? `:${port}` : ''}`);
        },
      ),
    );
  });

  it('reads --cors-origin from flags, environment and config file, naming the setting at fault', () => {
    expect(
      loadConfig({ flags: { corsOrigins: ['https://A.example', 'https://b.example:8443/'] } }).corsOrigins,
    ).toEqual(['https://a.example', 'https://b.example:8443']);
    expect(
      loadConfig({ env: { OPENIOMT_CORS_ORIGINS: 'https://a.example, https://b.example,' } }).corsOrigins,
    ).toEqual(['https://a.example', 'https://b.example']);
    expect(loadConfig({ fileText: '{"corsOrigins": ["http://localhost:3000"]}' }).corsOrigins).toEqual([
      'http://localhost:3000',
    ]);
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(() => loadConfig({ flags: { corsOrigins: ['https://a.example/app'] } })).toThrow(
      /^--cors-origin: /,
    );
    expect(() => loadConfig({ env: { OPENIOMT_CORS_ORIGINS: '*' } })).toThrow(/^OPENIOMT_CORS_ORIGINS: /);
    expect(() => loadConfig({ fileText: '{"corsOrigins": [1]}' })).toThrow(/corsOrigins.*must be origins/);
  });
});
