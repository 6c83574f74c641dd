/**
 * The pure side of the person picker: the requests to the people directory (`GET /api/v1/people`), merging
 * the answers of several roles, and the words the picker shows and announces. No DOM here, so it is
 * unit-tested on its own.
 */
import { query } from '../api.ts';

/** An account as the people directory answers it. */
export interface Person {
  readonly id: string;
  readonly displayName: string;
  readonly username: string;
  readonly roles: readonly string[];
}

/** The platform refuses shorter searches (`q` at least 2 characters after trimming). */
export const MIN_QUERY = 2;
export const RESULT_LIMIT = 10;

/** The text as the platform compares it: trimmed, inner white space one space, lower case. */
export const searchText = (typed: string): string =>
  typed.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();

export const canSearch = (typed: string): boolean => [...searchText(typed)].length >= MIN_QUERY;

/** One request per role (the API filters by one role), or one without a filter. */
export function peoplePaths(typed: string, roles: readonly string[] | undefined): string[] {
  const q = typed.trim();
  const path = (role?: string) => `/api/v1/people${query({ q, role, limit: RESULT_LIMIT })}`;
  return roles && roles.length > 0 ? roles.map(path) : [path()];
}

/**
 * The answers of several requests as one list: each person once, names that begin with the text first,
 * then by name (the platform's own order, kept when the lists are merged); `exclude` (already chosen
 * elsewhere) left out.
 */
export function mergePeople(
  lists: readonly (readonly Person[])[],
  typed: string,
  exclude: readonly string[] = [],
): Person[] {
  const text = searchText(typed);
  const seen = new Set(exclude);
  const out: Person[] = [];
  for (const list of lists)
    for (const p of list) {
      if (seen.has(p.id)) continue;
      seen.add(p.id);
      out.push(p);
    }
  if (lists.length < 2) return out;
  const starts = (p: Person) =>
    p.displayName.toLowerCase().startsWith(text) || p.username.startsWith(text) ? 0 : 1;
  return out
    .map((p, i) => ({ p, i }))
    .sort((a, b) => starts(a.p) - starts(b.p) || a.p.displayName.localeCompare(b.p.displayName) || a.i - b.i)
    .map(({ p }) => p);
}

/** "ana.silva · clinician, nurse": who this is, besides the name. */
export const personDetail = (p: Person): string =>
  [p.username, p.roles.join(', ')].filter(Boolean).join(' · ');

/** "Ana Silva (ana.silva, clinician)": a person named in one line. */
export const personLabel = (p: Person): string => `${p.displayName} (${[p.username, ...p.roles].join(', ')})`;

/** What the live region says about the search as it stands. */
export function searchStatus(s: {
  typed: string;
  searching: boolean;
  results: readonly Person[] | undefined;
  chosen: Person | undefined;
}): string {
  if (s.chosen) return `Chosen: ${personLabel(s.chosen)}.`;
  if (!canSearch(s.typed)) return s.typed.trim() ? `Type at least ${MIN_QUERY} characters.` : '';
  if (s.searching || s.results === undefined) return 'Searching…';
  const n = s.results.length;
  if (n === 0) return 'No one found. Check the spelling, or type their username.';
  return `${n === 1 ? '1 person' : `${n} people`} found. Use the up and down arrows to move through them, and Enter to choose.`;
}
