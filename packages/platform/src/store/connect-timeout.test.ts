import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseConnectError } from './connect-error.ts';
import { openDatabase } from './db.ts';
import { createTestDatabase, POSTGRES_URL_ENV } from './testing.ts';

const PG = process.env[POSTGRES_URL_ENV];

/** A TCP server that takes every connection, reads what it is sent and never answers. */
async function silentServer(): Promise<{ port: number; open: Set<Socket>; server: Server }> {
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.resume();
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, open, server };
}

describe('the first PostgreSQL connection is bounded', () => {
  let silent: Awaited<ReturnType<typeof silentServer>> | undefined;
  afterEach(async () => {
    if (!silent) return;
    const { open, server } = silent;
    for (const socket of open) socket.destroy();
    await new Promise((r) => server.close(r));
    silent = undefined;
  });

  it('fails within the bound against a server that never answers, saying what to do', async () => {
    silent = await silentServer();
    const url = `postgres://u:s3cret@127.0.0.1:${silent.port}/openiomt`;
    const started = performance.now();
    const error = await openDatabase({ url, connectTimeoutMs: 500 }).catch((e: unknown) => e);
    const tookMs = performance.now() - started;
    expect(error).toBeInstanceOf(DatabaseConnectError);
    expect(tookMs).toBeGreaterThanOrEqual(450);
    expect(tookMs).toBeLessThan(2_500);
    const message = (error as DatabaseConnectError).explain('DATABASE_URL');
    expect(message).toBe(
      `cannot connect to PostgreSQL at 127.0.0.1:${silent.port} (DATABASE_URL): no answer within 0.5 s (not a PostgreSQL server, or the network drops the connection?): check the host and port in DATABASE_URL`,
    );
    expect(message).not.toContain('s3cret');
    // The connection that got no answer is closed, not left open behind the error.
    await expect.poll(() => silent?.open.size, { timeout: 2_000 }).toBe(0);
  });

  it.each([
    ['closes every connection at once', (s: Socket) => s.destroy(), /closed the connection before answering/],
    [
      'resets every connection',
      (s: Socket) => s.resetAndDestroy(),
      /connection was reset \(not a PostgreSQL/,
    ],
  ])(
    'says what to check when the server %s',
    async (_, answer, reason) => {
      const server = createServer(answer);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      try {
        const port = (server.address() as { port: number }).port;
        const url = `postgres://u@127.0.0.1:${port}/x`;
        const error = await openDatabase({ url, connectTimeoutMs: 3_000 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DatabaseConnectError);
        expect((error as DatabaseConnectError).explain('DATABASE_URL')).toMatch(reason);
      } finally {
        await new Promise((r) => server.close(r));
      }
    },
    10_000,
  );

  it.skipIf(!PG)('does not cap the wait for a free pooled connection under load', async () => {
    const database = await createTestDatabase(PG as string);
    const db = await openDatabase({ url: database.url, poolSize: 1, connectTimeoutMs: 1_000 });
    try {
      // The only pooled connection is busy for longer than the bound; the next query waits for it.
      const busy = db.transaction((tx) => tx.query('SELECT pg_sleep(1.5)'));
      const started = performance.now();
      const { rows } = await db.query<{ one: number }>('SELECT 1 AS one');
      expect(performance.now() - started).toBeGreaterThan(1_000);
      expect(rows).toEqual([{ one: 1 }]);
      await busy;
    } finally {
      await db.close();
      await database.drop();
    }
  });
});
