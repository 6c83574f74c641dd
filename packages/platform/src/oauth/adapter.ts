/**
 * oidc-provider's storage (its Adapter interface) in our database, PGlite or PostgreSQL alike: one row per
 * artifact in oauth_artifacts, keyed by model and id, with the grant, uid and user code it may be found by.
 * Expired rows are invisible at once and deleted now and then. Clients come from oauth_clients (clients.ts).
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Database } from '../store/types.ts';
import type { OAuthClients } from './clients.ts';

/** Expired artifacts are deleted at most this often (the reads ignore them already). */
const PRUNE_EVERY_MS = 60_000;

interface ArtifactRow {
  payload: AdapterPayload;
  consumed_at: string | null;
}

export class StoreAdapter implements Adapter {
  private static lastPrune = 0;

  constructor(
    private readonly db: Database,
    private readonly model: string,
    private readonly now: () => number = Date.now,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const expiresAt = expiresIn ? new Date(this.now() + expiresIn * 1000).toISOString() : null;
    await this.db.query(
      `INSERT INTO oauth_artifacts (model, id, payload, grant_id, user_code, uid, expires_at, consumed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)
       ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
         user_code = EXCLUDED.user_code, uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at, consumed_at = NULL`,
      [
        this.model,
        id,
        JSON.stringify(payload),
        payload.grantId ?? null,
        payload.userCode ?? null,
        payload.uid ?? null,
        expiresAt,
      ],
    );
    await this.pruneNowAndThen();
  }

  find(id: string): Promise<AdapterPayload | undefined> {
    return this.one('id = $2', id);
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.one('uid = $2', uid);
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.one('user_code = $2', userCode);
  }

  async consume(id: string): Promise<void> {
    await this.db.query(
      'UPDATE oauth_artifacts SET consumed_at = $3 WHERE model = $1 AND id = $2 AND consumed_at IS NULL',
      [this.model, id, new Date(this.now()).toISOString()],
    );
  }

  async destroy(id: string): Promise<void> {
    await this.db.query('DELETE FROM oauth_artifacts WHERE model = $1 AND id = $2', [this.model, id]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.query('DELETE FROM oauth_artifacts WHERE model = $1 AND grant_id = $2', [
      this.model,
      grantId,
    ]);
  }

  private async one(where: string, value: string): Promise<AdapterPayload | undefined> {
    const { rows } = await this.db.query<ArtifactRow>(
      `SELECT payload, consumed_at FROM oauth_artifacts
       WHERE model = $1 AND ${where} AND (expires_at IS NULL OR expires_at > $3) LIMIT 1`,
      [this.model, value, new Date(this.now()).toISOString()],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    const payload = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
    return row.consumed_at === null
      ? payload
      : { ...payload, consumed: Math.floor(Date.parse(row.consumed_at) / 1000) };
  }

  private async pruneNowAndThen(): Promise<void> {
    const now = this.now();
    if (now - StoreAdapter.lastPrune < PRUNE_EVERY_MS) return;
    StoreAdapter.lastPrune = now;
    await this.db.query('DELETE FROM oauth_artifacts WHERE expires_at < $1', [new Date(now).toISOString()]);
  }
}

/** The registered clients, read-only to oidc-provider: a disabled client is not found, so nothing it holds works. */
export class ClientAdapter implements Adapter {
  constructor(private readonly clients: OAuthClients) {}
  async find(id: string): Promise<AdapterPayload | undefined> {
    return (await this.clients.metadataFor(id)) as AdapterPayload | undefined;
  }
  async upsert(): Promise<void> {
    throw new Error('clients are registered through the admin API, not by oidc-provider');
  }
  async findByUid(): Promise<undefined> {}
  async findByUserCode(): Promise<undefined> {}
  async consume(): Promise<void> {}
  async destroy(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}

/** The adapter factory for oidc-provider's configuration. */
export const adapterFactory =
  (db: Database, clients: OAuthClients) =>
  (model: string): Adapter =>
    model === 'Client' ? new ClientAdapter(clients) : new StoreAdapter(db, model);
