/**
 * The apps administrators registered (oauth_clients). The metadata is what oidc-provider reads; a
 * confidential client's secret is sealed under a key derived from the master key (bound to the client id)
 * and shown in clear only once, in the registration answer. Disabling a client is final: oidc-provider no
 * longer finds it and our API refuses its tokens at once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { open, seal } from '../security/keys/envelope.ts';
import type { KeyService } from '../security/keys/key-service.ts';
import { decodeCursor, encodeCursor, pageLimit } from '../store/sql.ts';
import type { Database, ListQuery, Page } from '../store/types.ts';
import { TOKEN_ALG } from './keys.ts';
import type { ClientRegistration } from './registration.ts';
import { isStaticScope, splitScope } from './scopes.ts';

/** The client metadata property that holds its FHIR resource scopes (SMART), beside oidc-provider's `scope`. */
export const RESOURCE_SCOPE = 'resource_scope';

export interface OAuthClient {
  readonly id: string;
  readonly name: string;
  readonly redirectUris: string[];
  readonly grantTypes: string[];
  readonly scope: string;
  /** none (public), client_secret_basic or private_key_jwt. */
  readonly authMethod: string;
  readonly createdAt: string;
  readonly disabledAt?: string;
}

interface ClientRow {
  id: string;
  name: string;
  metadata: Record<string, unknown> | string;
  secret_sealed: string | null;
  created_at: string;
  disabled_at: string | null;
}

/** The derived key's purpose and the AAD of a sealed secret (exported for master-key rotation). */
export const CLIENT_SECRET_PURPOSE = 'oauth-client-secrets';
export const clientSecretAad = (clientId: string) =>
  Buffer.from(`openiomt/oauth-client-secret/v1\u0000${clientId}`, 'utf8');
const aad = clientSecretAad;

export class OAuthClients {
  private purposeKey: Promise<Buffer> | undefined;
  private readonly changeListeners = new Set<() => void>();

  constructor(
    private readonly db: Database,
    private readonly keys: KeyService,
  ) {}

  /** The oidc-provider metadata for a registration (also used to validate it before storing). */
  static metadataOf(id: string, r: ClientRegistration): Record<string, unknown> {
    const authMethod = r.public ? 'none' : r.jwks ? 'private_key_jwt' : 'client_secret_basic';
    const code = r.grantTypes.includes('authorization_code');
    const scopes = splitScope(r.scope);
    // oidc-provider's `scope` holds only its own (OpenID and launch) scopes; the FHIR ones are ours.
    const own = scopes.filter(isStaticScope);
    const resource = scopes.filter((s) => !isStaticScope(s));
    return {
      client_id: id,
      client_name: r.name,
      grant_types: r.grantTypes,
      response_types: code ? ['code'] : [],
      redirect_uris: r.redirectUris,
      ...(own.length > 0 ? { scope: own.join(' ') } : {}),
      ...(resource.length > 0 ? { [RESOURCE_SCOPE]: resource.join(' ') } : {}),
      token_endpoint_auth_method: authMethod,
      id_token_signed_response_alg: TOKEN_ALG,
      ...(r.jwks ? { jwks: r.jwks } : {}),
    };
  }

  async create(r: ClientRegistration): Promise<{ client: OAuthClient; secret?: string }> {
    const id = randomUUID();
    const metadata = OAuthClients.metadataOf(id, r);
    const secret =
      metadata.token_endpoint_auth_method === 'client_secret_basic'
        ? randomBytes(32).toString('base64url')
        : undefined;
    const sealed =
      secret === undefined
        ? null
        : seal(await this.key(), Buffer.from(secret, 'utf8'), aad(id)).toString('base64');
    const { rows } = await this.db.query<ClientRow>(
      `INSERT INTO oauth_clients (id, name, metadata, secret_sealed, created_at)
       VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [id, r.name, JSON.stringify(metadata), sealed, new Date().toISOString()],
    );
    const client = toClient(rows[0] as ClientRow);
    this.changed();
    return secret === undefined ? { client } : { client, secret };
  }

  async get(id: string): Promise<OAuthClient | undefined> {
    const row = await this.row(id);
    return row ? toClient(row) : undefined;
  }

  async list(q: ListQuery = {}): Promise<Page<OAuthClient>> {
    const limit = pageLimit(q.limit);
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const { rows } = await this.db.query<ClientRow>(
      `SELECT * FROM oauth_clients ${after ? 'WHERE (created_at, id) > ($2, $3)' : ''}
       ORDER BY created_at, id LIMIT $1`,
      after ? [limit + 1, after.at, after.id] : [limit + 1],
    );
    const more = rows.length > limit;
    const items = rows.slice(0, limit).map(toClient);
    const last = items[items.length - 1];
    return more && last ? { items, next: encodeCursor({ at: last.createdAt, id: last.id }) } : { items };
  }

  /** Disables the client (idempotent); undefined when there is no such client. */
  async disable(id: string): Promise<OAuthClient | undefined> {
    const { rows } = await this.db.query<ClientRow>(
      `UPDATE oauth_clients SET disabled_at = COALESCE(disabled_at, $2) WHERE id = $1 RETURNING *`,
      [id, new Date().toISOString()],
    );
    if (rows[0]) this.changed();
    return rows[0] ? toClient(rows[0]) : undefined;
  }

  /** Calls `listener` after a client is registered or disabled (the CORS origins follow the registry). */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Every redirect URI of the clients that are not disabled (the origins browser apps call from). */
  async enabledRedirectUris(): Promise<string[]> {
    const { rows } = await this.db.query<{ uris: unknown }>(
      `SELECT metadata->'redirect_uris' AS uris FROM oauth_clients WHERE disabled_at IS NULL`,
    );
    return rows.flatMap(({ uris }) => {
      const list = typeof uris === 'string' ? JSON.parse(uris) : uris;
      return Array.isArray(list) ? list.filter((u): u is string => typeof u === 'string') : [];
    });
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }

  /** True while the client is registered and not disabled. */
  async isActive(id: string): Promise<boolean> {
    const row = await this.row(id);
    return row !== undefined && row.disabled_at === null;
  }

  /** What oidc-provider needs to know of an active client, its secret opened; undefined otherwise. */
  async metadataFor(id: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.row(id);
    if (!row || row.disabled_at !== null) return undefined;
    const metadata = typeof row.metadata === 'string' ? JSON.parse(row.metadata) : row.metadata;
    if (row.secret_sealed === null) return metadata;
    const secret = open(await this.key(), Buffer.from(row.secret_sealed, 'base64'), aad(id)).toString('utf8');
    return { ...metadata, client_secret: secret };
  }

  private async row(id: string): Promise<ClientRow | undefined> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 200) return undefined;
    const { rows } = await this.db.query<ClientRow>('SELECT * FROM oauth_clients WHERE id = $1', [id]);
    return rows[0];
  }

  private key(): Promise<Buffer> {
    this.purposeKey ??= this.keys.deriveKey(CLIENT_SECRET_PURPOSE);
    return this.purposeKey;
  }
}

function toClient(row: ClientRow): OAuthClient {
  const m = (typeof row.metadata === 'string' ? JSON.parse(row.metadata) : row.metadata) as Record<
    string,
    unknown
  >;
  return {
    id: row.id,
    name: row.name,
    redirectUris: (m.redirect_uris as string[] | undefined) ?? [],
    grantTypes: (m.grant_types as string[] | undefined) ?? [],
    scope: [m.scope, m[RESOURCE_SCOPE]].filter((x) => typeof x === 'string').join(' '),
    authMethod: m.token_endpoint_auth_method as string,
    createdAt: row.created_at,
    ...(row.disabled_at !== null ? { disabledAt: row.disabled_at } : {}),
  };
}
