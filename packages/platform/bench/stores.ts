/**
 * The stores a storage benchmark runs on: PGlite in a temporary data folder (removed afterwards) and, when
 * OPENIOMT_TEST_POSTGRES_URL is set, PostgreSQL (a database of its own, dropped afterwards).
 */
import { openPgliteTempDir, openPostgresStore, POSTGRES_URL_ENV } from '../src/store/testing.ts';
import type { Store } from '../src/store/types.ts';

export async function onEachStore<T>(run: (name: string, store: Store) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  const pglite = await openPgliteTempDir();
  const pgliteStore = await pglite.open();
  try {
    results.push(await run('pglite', pgliteStore));
  } finally {
    await pgliteStore.close();
    await pglite.remove();
  }
  const url = process.env[POSTGRES_URL_ENV];
  if (url) {
    const store = await openPostgresStore(url);
    try {
      results.push(await run('postgres', store));
    } finally {
      await store.dispose();
    }
  }
  return results;
}
