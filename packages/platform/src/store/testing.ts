/**
 * Test support: run a suite against every storage backend. PGlite in memory always; PostgreSQL when
 * OPENIOMT_TEST_POSTGRES_URL names a server (a fresh database per store, dropped on dispose). Each store
 * encrypts patient identities under a random in-memory master key that lives as long as the test.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { memoryKeyService } from '../security/keys/master-key-file.ts';
import { openDatabase } from './db.ts';
import { MIGRATIONS, migrate } from './migrations.ts';
import { openStore } from './store.ts';
import type { Database, Store } from './types.ts';

export type DisposableStore = Store & { dispose(): Promise<void> };

export interface StoreBackend {
  readonly name: 'pglite' | 'postgres';
  open(): Promise<DisposableStore>;
}

export const POSTGRES_URL_ENV = 'OPENIOMT_TEST_POSTGRES_URL';

export function storeBackends(): StoreBackend[] {
  const backends: StoreBackend[] = [{ name: 'pglite', open: openMemoryStore }];
  const url = process.env[POSTGRES_URL_ENV];
  if (url !== undefined && url !== '')
    backends.push({ name: 'postgres', open: () => openPostgresStore(url) });
  return backends;
}

export async function openMemoryStore(): Promise<DisposableStore> {
  const store = await openStore({ memory: true, pgliteThread: true, keys: memoryKeyService() });
  return Object.assign(store, { dispose: () => store.close() });
}

/** A fresh PostgreSQL database on the server at `adminUrl`; drop() removes it (closing its sessions). */
export async function createTestDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `openiomt_test_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

export async function openPostgresStore(adminUrl: string): Promise<DisposableStore> {
  const database = await createTestDatabase(adminUrl);
  let store: Store;
  try {
    store = await openStore({ url: database.url, keys: memoryKeyService() });
  } catch (e) {
    await database.drop();
    throw e;
  }
  return Object.assign(store, {
    dispose: async () => {
      await store.close();
      await database.drop();
    },
  });
}

/** PGlite on a fresh temporary data folder, for restart tests: each open() opens the same folder
 * (close the previous store first), remove() deletes it. */
export async function openPgliteTempDir(): Promise<{
  dataDir: string;
  open(): Promise<Store>;
  remove(): Promise<void>;
}> {
  const dataDir = await mkdtemp(join(tmpdir(), 'openiomt-pglite-'));
  // One master key for the folder's life, as a platform restarting on its data would have.
  const keys = memoryKeyService();
  return {
    dataDir,
    open: () => openStore({ dataDir, keys }),
    remove: () => rm(dataDir, { recursive: true, force: true }),
  };
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A database migrated only up to (not including) migration `before`: the schema an older installation left,
 * for tests of what start-up does to its rows.
 */
export async function openLegacyDatabase(
  backend: 'pglite' | 'postgres',
  before: string,
): Promise<{ db: Database; dispose(): Promise<void> }> {
  let db: Database;
  let drop = async () => {};
  if (backend === 'pglite') db = await openDatabase({ memory: true });
  else {
    const database = await createTestDatabase(process.env[POSTGRES_URL_ENV] as string);
    db = await openDatabase({ url: database.url });
    drop = database.drop;
  }
  await migrate(
    db,
    MIGRATIONS.filter((m) => m.id < before),
  );
  return {
    db,
    dispose: async () => {
      await db.close();
      await drop();
    },
  };
}
