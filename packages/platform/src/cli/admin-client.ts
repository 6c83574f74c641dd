import { readFileSync } from 'node:fs';

export class CliError extends Error {
  override name = 'CliError';
}

export interface AdminConnection {
  readonly url: string;
  readonly token: string;
}

/** Where the platform is and the administrator token, from flags or environment, with advice when absent. */
export function adminConnection(opts: { url?: string; tokenFile?: string }): AdminConnection {
  const url = (opts.url ?? process.env.OPENIOMT_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  let token = process.env.OPENIOMT_ADMIN_TOKEN;
  if (opts.tokenFile) {
    try {
      token = readFileSync(opts.tokenFile, 'utf8').trim();
    } catch (e) {
      throw new CliError(`cannot read --token-file ${opts.tokenFile}: ${(e as Error).message}`);
    }
  }
  if (!token)
    throw new CliError(
      'no administrator token: set OPENIOMT_ADMIN_TOKEN to the token the platform printed at its first start, or pass --token-file <file>',
    );
  return { url, token };
}

/** Calls the admin API; problem details become a CliError that says what went wrong. */
export async function adminRequest<T>(
  c: AdminConnection,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  return (await adminExchange<T>(c, method, path, body)).data;
}

/** A request whose answer's version (ETag) matters: a read before a compare-and-set, or the set itself. */
export async function adminExchange<T>(
  c: AdminConnection,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ data: T; etag?: string }> {
  let res: Response;
  try {
    res = await fetch(`${c.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${c.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (e) {
    throw new CliError(
      `cannot reach the platform at ${c.url} (${(e as Error).cause ?? (e as Error).message}): is it running? Set --url or OPENIOMT_URL`,
    );
  }
  const text = await res.text();
  let json: { title?: string; detail?: string; field?: string } | undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page, say): the status and the text say what happened.
    json = undefined;
  }
  if (!res.ok) {
    if (res.status === 401)
      throw new CliError('the platform refused the administrator token: check OPENIOMT_ADMIN_TOKEN');
    const field = json?.field ? ` (field ${json.field})` : '';
    throw new CliError(`${json?.title ?? res.statusText}: ${json?.detail ?? text}${field}`);
  }
  const etag = res.headers.get('etag');
  return { data: json as T, ...(etag ? { etag } : {}) };
}
