/** Administrator credentials: only token hashes are kept, looked up by exact match (the hash is the index key). */
import { nowIso, sqlState, UNIQUE_VIOLATION } from './sql.ts';
import { type Database, type Store, StoreError } from './types.ts';

export function credentialsRepository(db: Database): Store['credentials'] {
  return {
    async isEmpty() {
      const { rows } = await db.query<{ empty: boolean }>(
        'SELECT NOT EXISTS (SELECT 1 FROM admin_credentials) AS empty',
      );
      return rows[0]?.empty ?? true;
    },

    async add(c) {
      try {
        await db.query('INSERT INTO admin_credentials (name, token_hash, created_at) VALUES ($1, $2, $3)', [
          c.name,
          c.tokenHash,
          nowIso(),
        ]);
      } catch (e) {
        if (sqlState(e) === UNIQUE_VIOLATION)
          throw new StoreError('conflict', `credential ${c.name} or its token already exists`, 'name');
        throw e;
      }
    },

    async put(c) {
      await db.query(
        `INSERT INTO admin_credentials (name, token_hash, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET token_hash = EXCLUDED.token_hash`,
        [c.name, c.tokenHash, nowIso()],
      );
    },

    async findByHash(tokenHash) {
      const { rows } = await db.query<{ name: string }>(
        'SELECT name FROM admin_credentials WHERE token_hash = $1',
        [tokenHash],
      );
      return rows[0]?.name;
    },
  };
}
