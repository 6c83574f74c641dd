import { readFileSync } from 'node:fs';

export class CliError extends Error {
  override name = 'CliError';
}

/** Certificate errors of Node's TLS: the platform answered, but with a certificate not trusted here. */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Why a request to the platform got no answer, with what to do about it. */
export function unreachable(url: string, e: unknown): CliError {
  const cause = (e as Error).cause as (Error & { code?: string }) | undefined;
  const why = String(cause ?? (e as Error).message);
  if (cause?.code !== undefined && UNTRUSTED_CERTIFICATE.has(cause.code))
    return new CliError(
      `the platform at ${url} answered with a TLS certificate not trusted here (${cause.code}): give its CA with NODE_EXTRA_CA_CERTS=<ca.pem>, or use the host name the certificate names`,
    );
  return new CliError(
    `cannot reach the platform at ${url} (${why}): is it running? Set --url or OPENIOMT_URL`,
  );
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
    throw unreachable(c.url, e);
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
