/**
 * docs/openapi.yaml against the running platform, so the document cannot drift from the code unnoticed:
 * it is a valid OpenAPI 3.1 document; every route registered under /api/v1/ (and /healthz, /readyz) is
 * described and every described route is registered; and real responses match the documented schemas.
 * A route added without documenting it fails here on purpose.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, provisionDevice, startTestPlatform, type TestPlatform } from '../../test/harness.ts';

const DOC_FILE = fileURLToPath(new URL('../../../../docs/openapi.yaml', import.meta.url));
const DOC_ID = 'urn:openiomt:openapi';
// ajv-formats is CommonJS: under NodeNext its default import is the module, whose `default` is the plugin.
const addFormats = ajvFormats.default;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

type Json = Record<string, any>;

/** `GET /api/v1/alarms/{id}` for every operation of the document. */
function documentedRoutes(doc: Json): Set<string> {
  const routes = new Set<string>();
  for (const [path, item] of Object.entries<Json>(doc.paths))
    for (const m of METHODS) if (item[m]) routes.add(`${m.toUpperCase()} ${path}`);
  return routes;
}

/**
 * Every route Fastify registered, read from its route tree: `printRoutes({commonPrefix: false})` prints one
 * node a line, indented four characters a level, each node's text continuing its parent's path.
 */
function registeredRoutes(app: FastifyInstance): Set<string> {
  const routes = new Set<string>();
  const prefixes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] as string).length / 4;
    const path = (depth > 0 ? (prefixes[depth - 1] ?? '') : '') + (m[2] as string);
    prefixes[depth] = path;
    prefixes.length = depth + 1;
    for (const method of (m[3] ?? '').split(', ').filter(Boolean))
      routes.add(`${method} ${path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
  }
  return routes;
}

/** The JSON API: /api/v1/… and the health checks; HEAD is Fastify's automatic twin of each GET. */
const inScope = (route: string): boolean => {
  const [method, path] = route.split(' ') as [string, string];
  return method !== 'HEAD' && (path.startsWith('/api/v1/') || path === '/healthz' || path === '/readyz');
};

const pointer = (...parts: string[]): string =>
  parts.map((p) => `/${p.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

describe('docs/openapi.yaml', () => {
  let doc: Json;
  let ajv: Ajv2020;
  let t: TestPlatform;

  beforeAll(async () => {
    const validator = new Validator();
    const result = await validator.validate(readFileSync(DOC_FILE, 'utf8'));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    doc = validator.specification;
    ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(ajv);
    // The document's own members are not JSON Schema keywords; schemas are reached by pointer into it.
    ajv.addVocabulary(['openapi', 'info', 'servers', 'tags', 'security', 'paths', 'components']);
    ajv.addSchema({ ...doc, $id: DOC_ID });
    // Routes are the same on every store: one platform is enough.
    t = await startTestPlatform(backends[0] as (typeof backends)[number]);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is a valid OpenAPI 3.1 document whose schemas all compile', () => {
    expect(doc.openapi).toBe('3.1.0');
    for (const name of Object.keys(doc.components.schemas))
      expect(ajv.getSchema(`${DOC_ID}#${pointer('components', 'schemas', name)}`), name).toBeTypeOf(
        'function',
      );
  });

  it('tags every operation with a declared tag, and answers errors as problem details', () => {
    const tags = new Set(doc.tags.map((tag: { name: string }) => tag.name));
    const ids = new Set<string>();
    for (const [path, item] of Object.entries<Json>(doc.paths))
      for (const m of METHODS) {
        const op = item[m];
        if (!op) continue;
        const where = `${m.toUpperCase()} ${path}`;
        expect(op.tags?.length, where).toBeGreaterThan(0);
        for (const tag of op.tags) expect(tags.has(tag), `${where}: tag ${tag}`).toBe(true);
        expect(ids.has(op.operationId), `${where}: operationId ${op.operationId}`).toBe(false);
        ids.add(op.operationId);
        const statuses = Object.keys(op.responses);
        expect(
          statuses.some((s) => /^[12]/.test(s)),
          `${where} documents a success`,
        ).toBe(true);
        for (const s of statuses.filter((s) => /^4/.test(s))) {
          const response = resolveResponse(doc, op.responses[s]);
          expect(Object.keys(response.content ?? {}), `${where} ${s}`).toEqual(['application/problem+json']);
        }
      }
  });

  it('describes exactly the routes the platform registers', () => {
    const documented = documentedRoutes(doc);
    const registered = new Set([...registeredRoutes(t.platform.http)].filter(inScope));
    // The route tree was read: a broken reader must not make the comparison pass vacuously.
    expect(registered.has('POST /api/v1/auth/logout-everywhere')).toBe(true);
    expect(registered.has('GET /api/v1/admin/readings/{id}/{seq}')).toBe(true);
    const undocumented = [...registered].filter((r) => !documented.has(r)).sort();
    const missing = [...documented].filter((r) => !registered.has(r)).sort();
    expect(undocumented, 'registered but not in docs/openapi.yaml').toEqual([]);
    expect(missing, 'in docs/openapi.yaml but not registered').toEqual([]);
    // And each documented route as Fastify itself finds it.
    for (const route of documented) {
      const [method, path] = route.split(' ') as [string, string];
      const url = path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
      expect(t.platform.http.hasRoute({ method: method as 'GET', url }), route).toBe(true);
    }
  });

  describe('real responses match the documented schemas', () => {
    /** Calls the platform (administrator token unless `auth` says otherwise) and checks the answer. */
    async function check(
      method: string,
      path: string,
      documentedPath: string,
      expected: number,
      opts: { body?: unknown; auth?: string | null } = {},
    ): Promise<any> {
      const auth = opts.auth === undefined ? `Bearer ${t.adminToken}` : opts.auth;
      const res = await fetch(`${t.platform.httpUrl}${path}`, {
        method,
        headers: {
          ...(auth ? { authorization: auth } : {}),
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      });
      const text = await res.text();
      expect(res.status, `${method} ${path}: ${text.slice(0, 300)}`).toBe(expected);
      const op = doc.paths[documentedPath]?.[method.toLowerCase()];
      expect(op, `${method} ${documentedPath} is documented`).toBeDefined();
      const raw = op.responses[String(expected)];
      expect(raw, `${method} ${documentedPath} documents ${expected}`).toBeDefined();
      const mediaType = (res.headers.get('content-type') ?? '').split(';')[0] as string;
      const location = raw.$ref
        ? `${(raw.$ref as string).slice(1)}${pointer('content', mediaType, 'schema')}`
        : pointer(
            'paths',
            documentedPath,
            method.toLowerCase(),
            'responses',
            String(expected),
            'content',
            mediaType,
            'schema',
          );
      expect(
        resolveResponse(doc, raw).content?.[mediaType],
        `${method} ${documentedPath} ${expected} as ${mediaType}`,
      ).toBeDefined();
      const validate = ajv.compile({ $ref: `${DOC_ID}#${location}` });
      const body = JSON.parse(text);
      expect(validate(body) ? [] : validate.errors, `${method} ${path} → ${expected}`).toEqual([]);
      return body;
    }

    let deviceId: string;
    let patientId: string;

    beforeAll(async () => {
      const device = await provisionDevice(t, 'openapi-ecg-1', undefined, 'ecg-patch', { model: 'P1' });
      deviceId = device.id;
      patientId = device.patientId;
      // A reading, so that the census has vital signs, a NEWS2 and a device seen.
      const res = await fetch(`${t.platform.httpUrl}/api/v1/devices/${deviceId}/readings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${device.token()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [device.sign(1)] }),
      });
      expect(res.status).toBe(200);
    });

    it('health', async () => {
      expect(await check('GET', '/healthz', '/healthz', 200)).toEqual({ status: 'ok' });
      expect((await check('GET', '/readyz', '/readyz', 200)).status).toBe('ready');
    });

    it('devices: register, list, read; a refusal names the field', async () => {
      await check('POST', '/api/v1/admin/devices', '/api/v1/admin/devices', 201, {
        body: { id: 'openapi-spo2-1', kind: 'pulse-oximeter', expectedIntervalS: 5 },
      });
      const list = await check('GET', '/api/v1/admin/devices', '/api/v1/admin/devices', 200);
      expect(list.items.length).toBeGreaterThanOrEqual(2);
      const one = await check('GET', `/api/v1/admin/devices/${deviceId}`, '/api/v1/admin/devices/{id}', 200);
      expect(one.keys).toHaveLength(1);
      const refused = await check('POST', '/api/v1/admin/devices', '/api/v1/admin/devices', 400, {
        body: { id: 'openapi-x', kind: 'toaster' },
      });
      expect(refused.field).toBe('/kind');
      await check('GET', '/api/v1/admin/devices/nope', '/api/v1/admin/devices/{id}', 404);
    });

    it('census as the administrator token, with vital signs and a NEWS2', async () => {
      let census: any;
      // Values reach the trend store shortly after the reading is stored.
      for (let i = 0; i < 50; i++) {
        census = await check('GET', '/api/v1/census', '/api/v1/census', 200);
        const row = census.items.find((r: { patientId: string }) => r.patientId === patientId);
        if (row?.vitals['heart-rate'] && row.news2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const row = census.items.find((r: { patientId: string }) => r.patientId === patientId);
      expect(row.vitals['heart-rate'].value).toBe(72);
      expect(row.news2.complete).toBe(false);
      expect(row.devices[0].id).toBe(deviceId);
      await check('GET', '/api/v1/census', '/api/v1/census', 401, { auth: null });
    });

    it('patients, alarms, settings, me', async () => {
      await check('GET', '/api/v1/admin/patients', '/api/v1/admin/patients', 200);
      await check('GET', `/api/v1/admin/patients/${patientId}`, '/api/v1/admin/patients/{id}', 200);
      await check('GET', `/api/v1/alarms?patient=${patientId}`, '/api/v1/alarms', 200);
      await check(
        'GET',
        `/api/v1/patients/${patientId}/alarm-settings`,
        '/api/v1/patients/{id}/alarm-settings',
        200,
      );
      await check('GET', `/api/v1/patients/${patientId}/trends`, '/api/v1/patients/{id}/trends', 200);
      await check('GET', '/api/v1/auth/me', '/api/v1/auth/me', 200);
      await check('GET', '/api/v1/alarms?state=closed', '/api/v1/alarms', 400);
    });
  });
});

/** A Response object, following its `$ref` into components/responses. */
function resolveResponse(doc: Json, response: Json): Json {
  if (typeof response.$ref !== 'string') return response;
  const parts = (response.$ref as string).replace(/^#\//, '').split('/');
  return parts.reduce<Json>((at, p) => at[p.replaceAll('~1', '/').replaceAll('~0', '~')], doc);
}
