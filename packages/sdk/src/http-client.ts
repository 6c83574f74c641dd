import http from 'node:http';
import https from 'node:https';

export interface HttpsOptions {
  /** Private CA (PEM) for the platform's certificate. */
  readonly ca?: string | Buffer;
  readonly rejectUnauthorized?: boolean;
  /** Whole-request timeout. Default 30 s. */
  readonly timeoutMs?: number;
  /** Aborts the request (used by stop()). */
  readonly signal?: AbortSignal;
}

export interface JsonResponse {
  readonly status: number;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  readonly body: unknown;
}

/**
 * One JSON request over node:http(s). node:https rather than global fetch because Node 20's fetch has
 * no public option for a private CA, which on-premises platforms commonly use.
 */
export function requestJson(
  url: string,
  method: 'GET' | 'POST',
  body: unknown,
  headers: Record<string, string>,
  opts: HttpsOptions = {},
): Promise<JsonResponse> {
  const target = new URL(url);
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const lib = target.protocol === 'https:' ? https : http;
  if (target.protocol !== 'https:' && target.protocol !== 'http:')
    return Promise.reject(new Error(`unsupported URL scheme ${target.protocol}`));
  return new Promise((resolve, reject) => {
    const req = lib.request(
      target,
      {
        method,
        headers: {
          accept: 'application/json, application/problem+json',
          ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}),
          ...headers,
        },
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
        ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
        timeout: opts.timeoutMs ?? 30_000,
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            // Not JSON: keep the text for the error message.
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${target.host} timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** A short description of an error response (problem+json detail or title) for reports. */
export function describeProblem(res: JsonResponse): string {
  const b = res.body as { detail?: unknown; title?: unknown } | undefined;
  const text = typeof b?.detail === 'string' ? b.detail : typeof b?.title === 'string' ? b.title : undefined;
  return text ? `HTTP ${res.status}: ${text}` : `HTTP ${res.status}`;
}
