/**
 * The app's only door to the platform: JSON over fetch with the session cookie, the CSRF header every POST
 * needs, and problem details turned into errors that say which field is at fault.
 */
export interface Problem {
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  readonly field?: string;
  readonly type?: string;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
  get status(): number {
    return this.problem.status;
  }
}

/** Fired when the platform says the session is gone. */
export const SIGNED_OUT = 'openiomt:signed-out';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  return (await exchange<T>(method, path, body)).data;
}

/** A resource with the version it was read at (ETag), for a save that must not overwrite another's. */
export interface Tagged<T> {
  readonly data: T;
  readonly etag?: string;
}

export const getTagged = <T>(path: string) => exchange<T>('GET', path);
/** PUT only if the stored version is still `etag` (If-Match); a 412 says someone saved meanwhile. */
export const putIfMatch = <T>(path: string, body: unknown, etag: string | undefined) =>
  exchange<T>('PUT', path, body, etag ? { 'If-Match': etag } : {});

async function exchange<T>(
  method: Method,
  path: string,
  body?: unknown,
  extra: Record<string, string> = {},
): Promise<Tagged<T>> {
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'X-Requested-With': 'openiomt-web',
    ...extra,
  };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError({ status: 0, title: 'Network error', detail: 'The platform cannot be reached.' });
  }
  const etag = res.headers.get('etag') ?? undefined;
  if (res.status === 204) return { data: undefined as T, ...(etag ? { etag } : {}) };
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    // A session that ended (idle or absolute timeout, signed out elsewhere): back to the sign-in page.
    if (res.status === 401 && !path.startsWith('/api/v1/auth/')) dispatchEvent(new Event(SIGNED_OUT));
    const p = (json ?? {}) as Partial<Problem> & {
      issue?: { diagnostics?: string; expression?: string[] }[];
    };
    const issue = p.issue?.[0];
    throw new ApiError({
      status: res.status,
      title: p.title ?? res.statusText,
      ...((p.detail ?? issue?.diagnostics) ? { detail: p.detail ?? issue?.diagnostics } : {}),
      ...(p.field ? { field: p.field } : {}),
      ...(p.type ? { type: p.type } : {}),
    });
  }
  return { data: json as T, ...(etag ? { etag } : {}) };
}

export const get = <T>(path: string) => request<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}) => request<T>('POST', path, body);
export const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body);
export const del = <T>(path: string) => request<T>('DELETE', path);

/** A query string from defined values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A WebSocket to the platform (same origin, so the session cookie goes with it). */
export function socket(path: string): WebSocket {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return new WebSocket(`${scheme}//${location.host}${path}`);
}

/** The signed-in person as the platform sees them (`GET /api/v1/auth/me`). */
export interface Me {
  readonly kind: 'user' | 'service';
  readonly userId: string;
  readonly username: string;
  readonly displayName?: string;
  readonly roles: readonly string[];
  readonly patientId?: string;
  readonly mfa: boolean;
  readonly totpEnrolled: boolean;
  readonly idleExpiresAt: string;
  readonly absoluteExpiresAt: string;
}

export const isStaff = (me: Me) => me.roles.some((r) => r === 'clinician' || r === 'nurse');
export const isAdmin = (me: Me) => me.roles.includes('administrator');
export const isPatientSide = (me: Me) => me.roles.some((r) => r === 'patient' || r === 'caregiver');
