import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../http/app.ts';
import { HttpProblem } from '../http/problem.ts';
import { createLogger } from '../log.ts';
import { ensureAdminCredential } from '../security/admin-credential.ts';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import { startReceiver, type TestReceiver, waitFor } from './testing.ts';
import { WebhookDeliverer } from './webhook-deliverer.ts';
import { enqueueWebhookDeliveries } from './webhook-outbox.ts';
import { checkWebhookUrl, registerWebhooks } from './webhook-routes.ts';

const BIN = fileURLToPath(new URL('../../bin/openiomt.js', import.meta.url));
const run = promisify(execFile);

describe.each(storeBackends())('webhook admin API and CLI on $name', ({ open }) => {
  let store: DisposableStore;
  let app: FastifyInstance;
  let deliverer: WebhookDeliverer;
  let receiver: TestReceiver;
  let base: string;
  let token: string;

  beforeAll(async () => {
    store = await open();
    token = (await ensureAdminCredential(store))!;
    deliverer = new WebhookDeliverer(store, { maxAttempts: 1, pollIntervalMs: 100, timeoutMs: 1000 });
    app = await createHttpApp({ logger: createLogger('silent') });
    registerWebhooks(app, { store, deliverer });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    receiver = await startReceiver((n) => (n === 0 ? 500 : 204));
    deliverer.start();
  });
  afterAll(async () => {
    await deliverer?.close();
    await app?.close();
    await receiver?.close();
    await store?.dispose();
  });

  const call = async (method: string, path: string, body?: unknown, auth = `Bearer ${token}`) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, type: res.headers.get('content-type'), json: (await res.json()) as any };
  };
  const cli = (args: string[]) =>
    run(process.execPath, [BIN, 'webhook', ...args, '--url', base], {
      env: { ...process.env, OPENIOMT_ADMIN_TOKEN: token },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
    );

  it('needs the administrator token and records a security event when it is wrong', async () => {
    const r = await call('GET', '/api/v1/admin/webhooks', undefined, 'Bearer oiat_wrong');
    expect(r.status).toBe(401);
    expect(r.type).toMatch(/application\/problem\+json/);
    const events = await store.securityEvents.list({ kind: 'admin-auth-failed' });
    expect(events.items[0]?.detail).toBe('GET /api/v1/admin/webhooks');
  });

  it('refuses URLs that are not https, except http to a loopback host, naming the field', async () => {
    const refused: [unknown, RegExp][] = [
      ['http://example.org/hooks', /must use https.*loopback/],
      ['http://10.0.0.5/hooks', /must use https/],
      ['ftp://example.org/hooks', /must use https, not ftp/],
      ['not a url', /absolute URL/],
      ['https://user:pass@example.org/hooks', /credentials/],
      ['https://example.org/hooks#frag', /fragment/],
      [`https://example.org/${'a'.repeat(2100)}`, /at most 2048/],
      [42, /url is required/],
    ];
    for (const [url, detail] of refused) {
      const r = await call('POST', '/api/v1/admin/webhooks', { url });
      expect(r.status, String(url)).toBe(400);
      expect(r.json).toMatchObject({ field: '/url' });
      expect(r.json.detail).toMatch(detail);
    }
    const unknownPatient = await call('POST', '/api/v1/admin/webhooks', {
      url: 'https://example.org/h',
      patientId: 'nobody',
    });
    expect(unknownPatient).toMatchObject({ status: 400, json: { field: '/patientId' } });
    for (const url of [
      'https://example.org/h',
      'http://127.0.0.1:9/h',
      'http://[::1]:9/h',
      'http://localhost/h',
    ]) {
      const r = await call('POST', '/api/v1/admin/webhooks', { url });
      expect(r.status, url).toBe(201);
      await call('DELETE', `/api/v1/admin/webhooks/${r.json.id}`);
    }
  });

  it('creates, lists without secrets, shows deliveries, retries a dead one and removes a webhook', async () => {
    const patient = await store.patients.create({});
    const created = await call('POST', '/api/v1/admin/webhooks', {
      url: receiver.url,
      patientId: patient.id,
      description: 'ward 3 pager bridge',
    });
    expect(created.status).toBe(201);
    const { id, secret } = created.json as { id: string; secret: string };
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.json).toMatchObject({
      url: receiver.url,
      patientId: patient.id,
      description: 'ward 3 pager bridge',
    });
    receiver.useSecret(secret);

    const list = await call('GET', '/api/v1/admin/webhooks?limit=1000');
    expect(list.json.items.find((w: { id: string }) => w.id === id)).toBeDefined();
    expect(JSON.stringify(list.json)).not.toContain(secret);
    expect(JSON.stringify(list.json)).not.toContain('"secret"');

    const eventId = randomUUID();
    await store.db.transaction((tx) =>
      enqueueWebhookDeliveries(
        tx,
        {
          id: eventId,
          type: 'alarm.notification',
          patientId: patient.id,
          at: new Date().toISOString(),
          data: {},
        },
        new Date(),
      ),
    );
    deliverer.wake();
    const dead = await waitFor(async () => {
      const r = await call('GET', `/api/v1/admin/webhooks/${id}/deliveries?status=dead`);
      return r.json.items[0] as { id: string; eventId: string; lastError: string } | undefined;
    });
    expect(dead).toMatchObject({ eventId, lastError: 'HTTP 500', attempts: 1 });
    expect((await call('GET', `/api/v1/admin/webhooks/${id}/deliveries?status=pending`)).json.items).toEqual(
      [],
    );
    expect(await call('GET', `/api/v1/admin/webhooks/${id}/deliveries?status=lost`)).toMatchObject({
      status: 400,
      json: { field: '/status' },
    });
    expect((await call('GET', `/api/v1/admin/webhooks/${randomUUID()}/deliveries`)).status).toBe(404);
    expect((await call('GET', '/api/v1/admin/webhooks/not-a-uuid/deliveries')).status).toBe(404);

    const retried = await call('POST', `/api/v1/admin/webhook-deliveries/${dead.id}/retry`, {});
    expect(retried).toMatchObject({ status: 200, json: { status: 'pending', attempts: 0 } });
    await waitFor(async () => {
      const r = await call('GET', `/api/v1/admin/webhooks/${id}/deliveries?status=delivered`);
      return r.json.items.length === 1;
    });
    expect(receiver.received.map((r) => [r.id, r.verified])).toEqual([
      [eventId, true],
      [eventId, true],
    ]);
    expect((await call('POST', `/api/v1/admin/webhook-deliveries/${dead.id}/retry`, {})).status).toBe(409);
    expect((await call('POST', `/api/v1/admin/webhook-deliveries/${randomUUID()}/retry`, {})).status).toBe(
      404,
    );

    const removed = await call('DELETE', `/api/v1/admin/webhooks/${id}`);
    expect(removed).toMatchObject({ status: 200, json: { id, deadLettered: 0 } });
    expect(removed.json.disabledAt).toBeDefined();
    expect((await call('DELETE', `/api/v1/admin/webhooks/${randomUUID()}`)).status).toBe(404);
  });

  it('pages deliveries newest first', async () => {
    const { webhook } = await store.webhooks.create({ url: 'https://example.invalid/never' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = randomUUID();
      ids.push(id);
      const at = new Date(Date.UTC(2030, 0, 1, 0, 0, i));
      await store.db.transaction((tx) =>
        enqueueWebhookDeliveries(
          tx,
          { id, type: 'alarm.notification', patientId: 'p', at: at.toISOString(), data: {} },
          at,
        ),
      );
    }
    await store.webhooks.disable(webhook.id, 'paging test', new Date().toISOString());
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const r = await call(
        'GET',
        `/api/v1/admin/webhooks/${webhook.id}/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...r.json.items.map((d: { eventId: string }) => d.eventId));
      cursor = r.json.next;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it('manages webhooks from the command line', async () => {
    const help = await cli(['--help']);
    for (const c of ['add', 'list', 'remove', 'deliveries', 'retry']) expect(help.stdout).toContain(c);
    const refused = await cli(['add', 'http://example.org/hooks']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/url must use https.*\(field \/url\)/);
    const added = await cli(['add', 'https://example.org/cli', '--description', 'from the CLI']);
    expect(added.code).toBe(0);
    const webhook = JSON.parse(added.stdout) as { id: string; secret: string };
    expect(added.stderr).toMatch(/shown only once/);
    const list = await cli(['list']);
    expect(list.stdout).toMatch(new RegExp(`${webhook.id}\\s+https://example.org/cli\\s+from the CLI`));
    expect(list.stdout).not.toContain(webhook.secret);
    const none = await cli(['deliveries', webhook.id, '--status', 'dead']);
    expect(none.stdout).toContain('(none)');
    const retry = await cli(['retry', randomUUID()]);
    expect(retry.stderr).toMatch(/no webhook delivery/);
    const removed = await cli(['remove', webhook.id]);
    expect(JSON.parse(removed.stdout)).toMatchObject({ id: webhook.id, deadLettered: 0 });
  });
});

describe('webhook URL check', () => {
  const outcome = (raw: string): URL | HttpProblem => {
    try {
      return new URL(checkWebhookUrl(raw));
    } catch (e) {
      if (e instanceof HttpProblem) return e;
      throw e;
    }
  };

  it('accepts only https, or http to a loopback host, and refuses anything else naming /url', () => {
    const anything = fc.oneof(
      fc.string(),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.webUrl().map((u) => u.replace(/^https?:/, 'http:')),
      fc.constantFrom(
        'javascript:alert(1)',
        'file:///etc/passwd',
        'http://127.0.0.1.evil.example/',
        'http://[::ffff:127.0.0.1]/',
      ),
    );
    fc.assert(
      fc.property(anything, (raw) => {
        const r = outcome(raw);
        if (r instanceof HttpProblem) {
          expect(r.problem).toMatchObject({ status: 400, field: '/url' });
          return;
        }
        const host = r.hostname.replace(/^\[(.*)\]$/, '$1');
        expect(
          r.protocol === 'https:' ||
            (r.protocol === 'http:' && /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host)),
        ).toBe(true);
        expect(r.username + r.password + r.hash).toBe('');
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.domain(), (domain) => {
        fc.pre(domain !== 'localhost');
        expect(outcome(`http://${domain}/hook`)).toBeInstanceOf(HttpProblem);
        expect(outcome(`https://${domain}/hook`)).toBeInstanceOf(URL);
      }),
    );
  });
});
