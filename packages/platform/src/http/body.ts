import { badRequest } from './problem.ts';

/** Small typed readers for JSON request bodies; each refusal names the field. */
export function bodyObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('body must be a JSON object', '');
  return body as Record<string, unknown>;
}

export function requiredString(o: Record<string, unknown>, key: string, pattern?: RegExp): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0)
    throw badRequest(`${key} is required and must be a string`, `/${key}`);
  if (pattern && !pattern.test(v)) throw badRequest(`${key} has an invalid format`, `/${key}`);
  return v;
}

export function optionalString(o: Record<string, unknown>, key: string, maxLength = 256): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > maxLength)
    throw badRequest(`${key} must be a string of at most ${maxLength} characters`, `/${key}`);
  return v;
}

export function optionalInstant(o: Record<string, unknown>, key: string): string | undefined {
  const v = optionalString(o, key, 64);
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || !Number.isFinite(ms))
    throw badRequest(`${key} must be an ISO 8601 date-time`, `/${key}`);
  return new Date(ms).toISOString();
}

export function optionalInt(
  o: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw badRequest(`${key} must be a whole number ${min}..${max}`, `/${key}`);
  return v;
}

/** `limit` (1..1000) and `cursor` of a paged list from a query string; a bad limit is refused by name. */
export function listQuery(q: Record<string, string | undefined>): { limit?: number; cursor?: string } {
  const limit = q.limit === undefined ? undefined : Number(q.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000))
    throw badRequest('limit must be 1..1000', '/limit');
  return { ...(limit ? { limit } : {}), ...(q.cursor ? { cursor: q.cursor } : {}) };
}
