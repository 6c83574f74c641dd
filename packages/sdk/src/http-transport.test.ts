/**
 * The HTTPS publisher, DeviceClient and enrolment helpers against a small node:http server in this file
 * that implements the platform contract (batches, Idempotency-Key, per-message results, problem+json).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importEd25519, parseCompactJws, verifyJws } from '@openiomt/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceClient } from './device.ts';
import { EnrolmentError, enrol, rotateKey } from './enrolment.ts';
import { generateDeviceKey } from './keys.ts';
import { MemorySequenceStore } from './sequence.ts';
import { ReadingSigner } from './signer.ts';
import { TestPlatform, waitFor } from './test-platform.ts';

const DEVICE = 'bp-cuff-9';
const key = generateDeviceKey();

interface Server {
  platform: TestPlatform;
  port: number;
  /** Answer the next n reading requests with 503. */
  failNext: number;
  /** Store the next n batches but cut the connection before answering (a lost response). */
  loseResponses: number;
  /** Answer the next reading requests with these statuses, in turn (a proxy or WAF in front). */
  refuse: number[];
  /** Answer 413 to any body above this many bytes, as a proxy with a body limit does. */
  maxBodyBytes: number;
  batchSizes: number[];
  keys: string[];
  enrolled: { jwk: unknown; proof: string; auth?: string }[];
  close(): Promise<void>;
}

async function startServer(platform: TestPlatform, port = 0): Promise<Server> {
  const seenKeys = new Set<string>();
  const state: Omit<Server, 'port' | 'close'> = {
    platform,
    failNext: 0,
    loseResponses: 0,
    refuse: [],
    maxBodyBytes: Number.POSITIVE_INFINITY,
    batchSizes: [],
    keys: [],
    enrolled: [],
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (raw.length > state.maxBodyBytes) {
        res.writeHead(413, { 'content-type': 'text/html' });
        return res.end('<html>413 Request Entity Too Large</html>');
      }
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      const send = (status: number, json: unknown) => {
        res.writeHead(status, {
          'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
        });
        res.end(JSON.stringify(json));
      };
      if (req.url === `/api/v1/devices/${DEVICE}/enrol` || req.url === `/api/v1/devices/${DEVICE}/keys`) {
        state.enrolled.push({ jwk: body.jwk, proof: body.proof, auth: req.headers.authorization });
        return send(201, { kid: 'k1', previousKeysValidUntil: '2030-01-01T00:00:00Z' });
      }
      if (req.url !== `/api/v1/devices/${DEVICE}/readings`) return send(404, { title: 'not found' });
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!platform.checkToken(token)) return send(401, { title: 'bad device token' });
      if (state.failNext > 0) {
        state.failNext -= 1;
        return send(503, { title: 'unavailable' });
      }
      const status = state.refuse.shift();
      if (status !== undefined) return send(status, { title: 'refused', detail: 'batch refused by test' });
      const idem = String(req.headers['idempotency-key'] ?? '');
      const messages = body.messages as string[];
      if (!idem || !Array.isArray(messages) || messages.length > 500)
        return send(400, { title: 'bad batch' });
      state.keys.push(idem);
      state.batchSizes.push(messages.length);
      const retried = seenKeys.has(idem);
      seenKeys.add(idem);
      const results = messages.map((m) => {
        const v = platform.receive(m, retried);
        // As the platform: seq only when the signature verified.
        return {
          ...(v.seq !== undefined ? { seq: v.seq } : {}),
          status: v.status,
          ...('reason' in v ? { reason: v.reason } : {}),
        };
      });
      if (state.loseResponses > 0) {
        state.loseResponses -= 1;
        return req.socket.destroy();
      }
      send(200, { results });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return Object.assign(state, {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

let dir: string;
let server: Server;
const clients: DeviceClient[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'http-pub-'));
  server = await startServer(new TestPlatform(DEVICE, key.publicJwk));
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function client(
  extra: {
    onRejected?: (seq: number | undefined, reason: string) => void;
    onError?: (e: Error) => void;
  } = {},
) {
  const c = await DeviceClient.open({
    deviceId: DEVICE,
    key,
    dataDir: dir,
    transport: {
      kind: 'http',
      baseUrl: `http://127.0.0.1:${server.port}/`,
      retry: { minMs: 10, maxMs: 100 },
      ...extra,
    },
  });
  clients.push(c);
  return c;
}

/** One signed reading the size of those the tests send (the shortest: seq 1). */
async function signedReading(): Promise<string> {
  const signer = new ReadingSigner({ deviceId: DEVICE, key, sequence: new MemorySequenceStore() });
  return (await signer.sign(vitals(0))).jws;
}

const vitals = (i: number) => ({ vitals: [{ code: 'bp-systolic' as const, value: 100 + (i % 50) }] });
const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('HttpPublisher', () => {
  it('sends batches of at most 500 and every reading arrives once, in order', async () => {
    const c = await client();
    await Promise.all(Array.from({ length: 1200 }, (_, i) => c.send(vitals(i))));
    await c.flushed();
    expect(server.platform.order).toEqual(oneToN(1200));
    expect(Math.max(...server.batchSizes)).toBeLessThanOrEqual(500);
    expect(server.platform.replays).toBe(0);
  });

  it('retries 5xx and a lost response under the same Idempotency-Key: duplicates, never replays', async () => {
    server.failNext = 2;
    server.loseResponses = 1;
    const c = await client();
    for (let i = 0; i < 10; i++) await c.send(vitals(i));
    await c.flushed();
    expect(server.platform.order).toEqual(oneToN(10));
    expect(server.platform.replays).toBe(0);
    expect(server.platform.duplicates).toBeGreaterThan(0);
    expect(server.keys[0]).toBe(server.keys[1]); // the retry of the lost batch reused its key
  });

  it('keeps the batch key across a device crash after a lost response', async () => {
    server.loseResponses = 1;
    const first = await client();
    for (let i = 0; i < 5; i++) await first.send(vitals(i));
    await waitFor(() => server.keys.length >= 1);
    server.failNext = 1_000_000; // the in-process retries all fail: only a reopened device gets through
    await waitFor(() => server.failNext < 1_000_000);
    await first.close(); // the "crash": a new process remembers nothing but the files
    clients.splice(0);
    server.failNext = 0;
    const second = await client();
    await second.flushed();
    // The lost batch is repeated under its key by the new process; later readings get a new batch.
    expect(server.keys[1]).toBe(server.keys[0]);
    expect(new Set(server.keys).size).toBe(server.keys.length - 1);
    expect(server.platform.replays).toBe(0);
    expect(server.platform.order).toEqual(oneToN(5));
  });

  it('reports per-message rejections, also those without a seq, and removes only those', async () => {
    server.platform.rejectSeqs.add(2);
    const rejected: [number | undefined, string][] = [];
    const c = await client({ onRejected: (seq, reason) => rejected.push([seq, reason]) });
    for (let i = 0; i < 3; i++) await c.send(vitals(i));
    await c.flushed();
    // A message the platform cannot read comes back without seq (device-protocol.md §4).
    await c.outbox.append('not-a-jws');
    await c.send(vitals(5));
    await c.flushed();
    expect(rejected).toEqual([
      [2, 'implausible-value: test'],
      [undefined, 'malformed-jws'],
    ]);
    expect(server.platform.order).toEqual([1, 3, 4]);
  });

  it('keeps the batch through a 4xx for the whole request (404, 400, 415) and delivers it later', async () => {
    server.refuse = [404, 400, 415];
    const rejected: unknown[] = [];
    const errors: string[] = [];
    const c = await client({
      onRejected: (seq) => rejected.push(seq),
      onError: (e) => errors.push(e.message),
    });
    for (let i = 0; i < 5; i++) await c.send(vitals(i));
    await c.flushed();
    expect(rejected).toEqual([]);
    expect(errors[0]).toMatch(/HTTP 404.*check baseUrl/);
    expect(errors).toHaveLength(3);
    expect(server.platform.order).toEqual(oneToN(5));
    expect(server.platform.replays).toBe(0);
  });

  it('halves the batch after a 413 until it passes; a single message too large stays and is retried', async () => {
    // A proxy in front with a body limit of about 40 messages.
    server.maxBodyBytes = JSON.stringify({ messages: Array(40).fill(await signedReading()) }).length;
    const errors: string[] = [];
    const rejected: unknown[] = [];
    const c = await client({
      onRejected: (seq) => rejected.push(seq),
      onError: (e) => errors.push(e.message),
    });
    await Promise.all(Array.from({ length: 300 }, (_, i) => c.send(vitals(i))));
    await c.flushed();
    expect(rejected).toEqual([]);
    expect(server.platform.order).toEqual(oneToN(300));
    expect(server.platform.replays).toBe(0);
    expect(Math.max(...server.batchSizes)).toBeLessThanOrEqual(40);
    expect(errors.some((e) => /HTTP 413/.test(e))).toBe(true);

    server.maxBodyBytes = 10; // now below one message: it is kept, reported, and retried
    await c.send(vitals(0));
    await waitFor(() => errors.some((e) => /single message .* proxy's body limit is below/.test(e)));
    expect(c.stats().records).toBe(1);
    server.maxBodyBytes = Number.POSITIVE_INFINITY;
    await c.flushed();
    expect(server.platform.order).toEqual(oneToN(301));
    expect(rejected).toEqual([]);
  });

  it('refuses transport options without baseUrl, naming url as the mistake', async () => {
    const open = (transport: object) =>
      DeviceClient.open({ deviceId: DEVICE, key, dataDir: dir, transport: transport as never });
    await expect(open({ kind: 'http', url: 'https://x.example' })).rejects.toThrow(/takes baseUrl.*not url/);
    await expect(open({ kind: 'http' })).rejects.toThrow(/needs baseUrl/);
    await expect(open({ kind: 'mqtt', baseUrl: 'https://x.example' })).rejects.toThrow(
      /takes url.*not baseUrl/,
    );
  });

  it('survives an outage: buffers while the server is down, then delivers in order once', async () => {
    const c = await client();
    for (let i = 0; i < 20; i++) await c.send(vitals(i));
    await c.flushed();
    const port = server.port;
    const platform = server.platform;
    await server.close();
    for (let i = 20; i < 60; i++) await c.send(vitals(i));
    expect(c.outbox.stats().records).toBeGreaterThan(0);
    server = await startServer(platform, port); // same port: the device has one configured address
    for (let i = 60; i < 80; i++) await c.send(vitals(i));
    await c.flushed();
    expect(platform.order).toEqual(oneToN(80));
    expect(platform.replays).toBe(0);
  });
});

describe('enrolment', () => {
  const base = () => `http://127.0.0.1:${server.port}`;

  it('enrols with a proof signed by the new key that binds the code to the device', async () => {
    expect(await enrol(base(), DEVICE, 'CODE-1234', key)).toEqual({ kid: 'k1' });
    const sent = server.enrolled[0]!;
    expect(sent.jwk).toEqual(key.publicJwk);
    const proof = parseCompactJws(sent.proof);
    if (!proof.ok) throw new Error(proof.rejection.detail);
    expect(verifyJws(proof.value, importEd25519(key.publicJwk))).toBe(true);
    expect(JSON.parse(proof.value.payload)).toMatchObject({ device: DEVICE, enrolmentCode: 'CODE-1234' });
  });

  it('rotates: authorised by the current key, proven by the new one', async () => {
    const next = generateDeviceKey();
    const out = await rotateKey(base(), DEVICE, key, next);
    expect(out.previousKeysValidUntil).toBe('2030-01-01T00:00:00Z');
    const sent = server.enrolled[0]!;
    const token = parseCompactJws((sent.auth ?? '').replace('Bearer ', ''));
    if (!token.ok) throw new Error(token.rejection.detail);
    expect(verifyJws(token.value, importEd25519(key.publicJwk))).toBe(true);
    const proof = parseCompactJws(sent.proof);
    if (!proof.ok) throw new Error(proof.rejection.detail);
    expect(verifyJws(proof.value, importEd25519(next.publicJwk))).toBe(true);
    expect(JSON.parse(proof.value.payload)).toMatchObject({ device: DEVICE, rotate: true });
  });

  it('raises EnrolmentError with the status on refusal', async () => {
    await expect(enrol(base(), 'unknown-device', 'x', key)).rejects.toBeInstanceOf(EnrolmentError);
  });
});
