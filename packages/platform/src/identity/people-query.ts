/**
 * The query string of `GET /api/v1/people` (outside input): `q` the text to find (2 to 64 characters after
 * trimming, no control characters), `role` one of the roles, `limit` 1..25 (default 10). Never throws: a
 * refusal names the parameter at fault as a JSON pointer, like every problem the API answers.
 */
import { ROLES, type Role } from '@openiomt/core';

export const PEOPLE_QUERY_MIN = 2;
export const PEOPLE_QUERY_MAX = 64;
export const PEOPLE_LIMIT_DEFAULT = 10;
export const PEOPLE_LIMIT_MAX = 25;

export interface PeopleQuery {
  /** NFKC, trimmed, inner runs of white space made one space, lower case: compared with lower(name). */
  readonly text: string;
  readonly role?: Role;
  readonly limit: number;
}

export type ParsedPeopleQuery =
  | { readonly ok: true; readonly query: PeopleQuery }
  | { readonly ok: false; readonly detail: string; readonly field: string };

/** C0 and C1 controls: never part of a name, and NUL is refused by PostgreSQL in text parameters. */
export function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/** Parses the query object Fastify hands a route (values are strings, or arrays for repeated keys). */
export function parsePeopleQuery(raw: Readonly<Record<string, unknown>> | undefined): ParsedPeopleQuery {
  const q = raw?.q;
  if (q === undefined) return refuse(`q is required: at least ${PEOPLE_QUERY_MIN} characters`, '/q');
  if (typeof q !== 'string') return refuse('q must be given once', '/q');
  if (hasControlCharacter(q)) return refuse('q must not contain control characters', '/q');
  // Length in characters (code points) after normalising, so "Zoë" typed either way counts the same.
  const text = q.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
  const length = [...text].length;
  if (length < PEOPLE_QUERY_MIN) return refuse(`q must be at least ${PEOPLE_QUERY_MIN} characters`, '/q');
  if (length > PEOPLE_QUERY_MAX) return refuse(`q must be at most ${PEOPLE_QUERY_MAX} characters`, '/q');

  let role: Role | undefined;
  if (raw?.role !== undefined) {
    const r = raw.role;
    if (typeof r !== 'string' || !(ROLES as readonly string[]).includes(r))
      return refuse(`role must be one of ${ROLES.join(', ')}`, '/role');
    role = r as Role;
  }

  let limit = PEOPLE_LIMIT_DEFAULT;
  if (raw?.limit !== undefined) {
    const l = raw.limit;
    if (typeof l !== 'string' || !/^\d{1,3}$/.test(l) || Number(l) < 1 || Number(l) > PEOPLE_LIMIT_MAX)
      return refuse(`limit must be a whole number 1..${PEOPLE_LIMIT_MAX}`, '/limit');
    limit = Number(l);
  }
  return { ok: true, query: { text, limit, ...(role !== undefined ? { role } : {}) } };
}

const refuse = (detail: string, field: string): ParsedPeopleQuery => ({ ok: false, detail, field });
