/**
 * Test support: a real webhook receiver on 127.0.0.1 (port 0) that verifies each request's signature the
 * way docs/webhooks.md tells integrators to, records what arrived and answers as the test decides.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ID_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from './webhook-signature.ts';

export interface ReceivedWebhook {
  readonly at: number;
  readonly headers: IncomingHttpHeaders;
  readonly id: string | undefined;
  readonly body: string;
  readonly verified: boolean;
}

/** What the receiver does with the n-th request (0-based): a status, or 'hang' (never answers). */
export type Answer = number | 'hang';

export interface TestReceiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  /** Changes how later requests are answered. */
  answer(fn: (n: number) => Answer): void;
  /** The secret to verify with (known once the webhook is created with this receiver's URL). */
  useSecret(secret: string): void;
  close(): Promise<void>;
}

export async function startReceiver(answer: (n: number) => Answer = () => 204): Promise<TestReceiver> {
  let decide = answer;
  let secret = '';
  const received: ReceivedWebhook[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const header = (name: string) => {
        const v = req.headers[name.toLowerCase()];
        return Array.isArray(v) ? v[0] : v;
      };
      const n = received.length;
      received.push({
        at: Date.now(),
        headers: req.headers,
        id: header(ID_HEADER),
        body: raw.toString('utf8'),
        verified: verifyWebhookSignature({
          secret,
          timestamp: header(TIMESTAMP_HEADER),
          signature: header(SIGNATURE_HEADER),
          body: raw,
        }),
      });
      const a = decide(n);
      if (a === 'hang') hanging.add(res);
      else res.writeHead(a).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    answer: (fn) => {
      decide = fn;
    },
    useSecret: (s) => {
      secret = s;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls until check() is truthy, failing after timeoutMs with what it last saw. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs = 10_000,
): Promise<Exclude<T, false | undefined | null | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as Exclude<T, false | undefined | null | 0 | ''>;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
