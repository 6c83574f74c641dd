/**
 * The query string of `GET /api/v1/people` (outside input), one of two kinds:
 * - a search: `q` the text to find (2 to 64 characters after trimming, no control characters), `role` one
 *   of the roles, `limit` 1..25 (default 10);
 * - a lookup by id: `ids` 1..50 user ids separated by commas (each as consent recipients name a user), for
 *   the screens that show people already named (a consent, caregivers, care teams) by name.
 * `q` and `ids` exclude each other, and `role` and `limit` belong to the search. Never throws: a refusal
 * names the parameter at fault as a JSON pointer, like every problem the API answers.
 */
import { ROLES, type Role } from '@openiomt/core';

export const PEOPLE_QUERY_MIN = 2;
export const PEOPLE_QUERY_MAX = 64;
export const PEOPLE_LIMIT_DEFAULT = 10;
export const PEOPLE_LIMIT_MAX = 25;
export const PEOPLE_IDS_MAX = 50;

/** A user id as the platform names people (consent recipients use the same form; accounts are UUIDs). */
const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

export interface PeopleSearchQuery {
  readonly kind: 'search';
  /** NFKC, trimmed, inner runs of white space made one space, lower case: compared with lower(name). */
  readonly text: string;
  readonly role?: Role;
  readonly limit: number;
}

export interface PeopleLookupQuery {
  readonly kind: 'lookup';
  /** Distinct, in the order first given (the answer keeps it). */
  readonly ids: readonly string[];
}

export type PeopleQuery = PeopleSearchQuery | PeopleLookupQuery;

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
  if (raw?.ids !== undefined) {
    if (raw.q !== undefined) return refuse('give either q (a search) or ids (a lookup), not both', '/ids');
    return parseLookup(raw);
  }
  return parseSearch(raw);
}

function parseSearch(raw: Readonly<Record<string, unknown>> | undefined): ParsedPeopleQuery {
  const q = raw?.q;
  if (q === undefined) return refuse(`q (at least ${PEOPLE_QUERY_MIN} characters) or ids is required`, '/q');
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
  return { ok: true, query: { kind: 'search', text, limit, ...(role !== undefined ? { role } : {}) } };
}

function parseLookup(raw: Readonly<Record<string, unknown>>): ParsedPeopleQuery {
  // The search's narrowing means nothing for a lookup: refused rather than silently ignored.
  if (raw.role !== undefined) return refuse('role belongs to a search by q, not to a lookup by ids', '/role');
  if (raw.limit !== undefined) return refuse('limit belongs to a search by q; ids name the people', '/limit');
  const v = raw.ids;
  if (typeof v !== 'string') return refuse('ids must be given once, the ids separated by commas', '/ids');
  // Checked before splitting, so that a very long value is refused without making thousands of pieces.
  if (v.length > PEOPLE_IDS_MAX * 129) return refuse(`ids: at most ${PEOPLE_IDS_MAX} user ids`, '/ids');
  const pieces = v.split(',');
  if (pieces.some((id) => !USER_ID.test(id)))
    return refuse('ids: user ids separated by commas, none empty (letters, digits, . _ @ + -)', '/ids');
  const ids = [...new Set(pieces)];
  if (ids.length > PEOPLE_IDS_MAX) return refuse(`ids: at most ${PEOPLE_IDS_MAX} user ids`, '/ids');
  return { ok: true, query: { kind: 'lookup', ids } };
}

const refuse = (detail: string, field: string): ParsedPeopleQuery => ({ ok: false, detail, field });
