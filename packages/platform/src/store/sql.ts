/**
 * Small helpers shared by the repositories: keyset paging with opaque cursors, checks on caller input
 * that would otherwise surface as database errors, and recognising constraint violations.
 */
import { StoreError } from './types.ts';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** A position in a list ordered by (time, id): the last item of the previous page. */
export interface Cursor {
  readonly at: string;
  readonly id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): Cursor {
  const invalid = () => new StoreError('invalid', 'cursor is not one this server issued', 'cursor');
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid();
  const [at, id] = parsed as unknown[];
  if (typeof at !== 'string' || typeof id !== 'string' || !isIsoInstant(at) || id.length === 0)
    throw invalid();
  return { at, id };
}

/** The page size asked for, refused when not a positive integer, capped at MAX_LIMIT. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1)
    throw new StoreError('invalid', `limit must be a positive integer, got ${limit}`, 'limit');
  return Math.min(limit, MAX_LIMIT);
}

/**
 * Turns limit+1 fetched rows into a page: the extra row only proves there is a next page; the cursor
 * points at the last item returned.
 */
export function toPage<Row, T>(
  rows: readonly Row[],
  limit: number,
  map: (r: Row) => T,
  position: (r: Row) => Cursor,
): { items: T[]; next?: string } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const items = kept.map(map);
  const last = kept[kept.length - 1];
  return more && last !== undefined ? { items, next: encodeCursor(position(last)) } : { items };
}

/** Collects WHERE conditions and their numbered parameters. */
export class Where {
  readonly params: unknown[] = [];
  private readonly conditions: string[] = [];

  /** Adds a condition; `?` in it becomes the next parameter. */
  add(condition: string, value: unknown): this {
    this.params.push(value);
    this.conditions.push(condition.replaceAll('?', `$${this.params.length}`));
    return this;
  }

  /** Adds `(time, id) > / < (cursor)` for keyset paging. */
  after(
    timeColumn: string,
    idColumn: string,
    cursor: Cursor,
    direction: 'asc' | 'desc',
    idType = 'text',
  ): this {
    const op = direction === 'asc' ? '>' : '<';
    this.params.push(cursor.at, cursor.id);
    const n = this.params.length;
    this.conditions.push(`(${timeColumn}, ${idColumn}) ${op} ($${n - 1}::timestamptz, $${n}::${idType})`);
    return this;
  }

  /** Parameter placeholder for a value used outside WHERE (e.g. LIMIT). */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  toString(): string {
    return this.conditions.length === 0 ? '' : `WHERE ${this.conditions.join(' AND ')}`;
  }
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 instant with an explicit offset (what every timestamp column accepts). */
export function isIsoInstant(s: string): boolean {
  return ISO_INSTANT.test(s) && !Number.isNaN(Date.parse(s));
}

/** Refuses a timestamp argument that is not an RFC 3339 instant, naming the argument. */
export function requireInstant(value: string, field: string): string {
  if (typeof value !== 'string' || !isIsoInstant(value))
    throw new StoreError('invalid', `${field} must be an RFC 3339 instant with offset`, field);
  return value;
}

export const nowIso = (): string => new Date().toISOString();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID.test(s);

/** The SQLSTATE of a database error, if it is one (both drivers set `code`). */
export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';
export const EXCLUSION_VIOLATION = '23P01';
export const CHECK_VIOLATION = '23514';
export const FOREIGN_KEY_VIOLATION = '23503';

/** Drops undefined values so records carry only the optional fields that exist. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined || o[k] === null) delete o[k];
  return o;
}
