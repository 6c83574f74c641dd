/**
 * A PostgreSQL server that cannot be reached or refuses us at start, said in one line with what to do
 * (kept apart from db.ts so the CLI can recognise it without loading the database drivers).
 */
export class DatabaseConnectError extends Error {
  override name = 'DatabaseConnectError';
  constructor(
    /** host:port (the URL's password never appears). */
    readonly at: string,
    readonly reason: string,
    /** What to do, completed by where the URL came from: "create it (…) or fix" + " DATABASE_URL". */
    readonly fix?: string,
  ) {
    super(`cannot connect to PostgreSQL at ${at}: ${reason}`);
  }

  /** The message naming the setting the URL came from (--database-url, DATABASE_URL, a config file key). */
  explain(source: string): string {
    return `cannot connect to PostgreSQL at ${this.at} (${source}): ${this.reason}${this.fix ? `: ${this.fix} ${source}` : ''}`;
  }
}

const SYSTEM_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the server running, on this port?)',
  ECONNRESET: 'the connection was reset (not a PostgreSQL server on that port, or TLS required?)',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EAI_AGAIN: 'the host name could not be resolved (DNS)',
};

/** How long the first connection at start may take before the server counts as not answering. */
export const DEFAULT_CONNECT_TIMEOUT_S = 10;

/** Where a URL points, for messages: never its password. */
function addressOf(url: string): { host: string; port: string; database: string; user: string } {
  const address = { host: '?', port: '5432', database: '', user: '' };
  try {
    const u = new URL(url);
    address.host = u.hostname || new URLSearchParams(u.search).get('host') || 'localhost';
    address.port = u.port || address.port;
    address.database = decodeURIComponent(u.pathname.replace(/^\//, ''));
    address.user = decodeURIComponent(u.username);
  } catch {}
  return address;
}

/**
 * The server took the connection but never answered, or the address drops every packet: without a bound
 * the start would wait forever.
 */
export function connectTimeout(url: string, timeoutMs: number): DatabaseConnectError {
  const { host, port } = addressOf(url);
  return new DatabaseConnectError(
    `${host}:${port}`,
    `no answer within ${timeoutMs / 1000} s (not a PostgreSQL server, or the network drops the connection?)`,
    'check the host and port in',
  );
}

/** Turns what node-postgres threw while connecting into a DatabaseConnectError. */
export function connectError(url: string, e: unknown): DatabaseConnectError {
  const { host, port, database, user } = addressOf(url);
  const at = `${host}:${port}`;
  const err = e as { code?: string; message?: string };
  const code = err.code ?? '';
  const message = err.message ?? String(e);
  if (code === 'ENOTFOUND') return new DatabaseConnectError(at, `no such host ${host}`, 'fix');
  if (SYSTEM_REASONS[code]) return new DatabaseConnectError(at, SYSTEM_REASONS[code] as string);
  if (code === '3D000')
    return new DatabaseConnectError(
      at,
      message,
      `create it (createdb -h ${host} -p ${port}${user ? ` -U ${user}` : ''} ${database}) or fix`,
    );
  if (code === '28000' || code === '28P01')
    return new DatabaseConnectError(at, message, 'create the role or correct the user and password in');
  // node-postgres's own words when the other end closes before the handshake is done.
  if (message === 'Connection terminated unexpectedly')
    return new DatabaseConnectError(
      at,
      'the server closed the connection before answering (not a PostgreSQL server, a proxy that drops it, or TLS required?)',
      'check the host, port and sslmode in',
    );
  return new DatabaseConnectError(at, message.replace(/:\/\/([^:@/]*):[^@/]*@/g, '://$1:***@'));
}
