/**
 * The pure side of the person picker and of naming people on a screen: the requests to the people
 * directory (`GET /api/v1/people`, a search by name or a lookup by ids), merging the answers, and the words
 * shown and announced. No DOM here, so it is unit-tested on its own.
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

/** The platform answers at most this many ids a lookup (`ids` 1..50). */
export const LOOKUP_MAX = 50;

/**
 * The lookups that name these people: each id once, in a stable order (the same screen asks the same
 * request), at most LOOKUP_MAX a request, so a screen asks once for up to 50 people, not once a person.
 */
export function lookupPaths(ids: readonly string[]): string[] {
  const distinct = [...new Set(ids)].sort();
  const paths: string[] = [];
  for (let i = 0; i < distinct.length; i += LOOKUP_MAX)
    // Each id encoded ('+' would arrive as a space), the commas between them left as they are.
    paths.push(
      `/api/v1/people?ids=${distinct
        .slice(i, i + LOOKUP_MAX)
        .map(encodeURIComponent)
        .join(',')}`,
    );
  return paths;
}

/** What the lookups answered: the people found, and the ids asked (asked and absent: not found). */
export interface PeopleNames {
  readonly found: ReadonlyMap<string, Person>;
  readonly asked: ReadonlySet<string>;
}

export const peopleNames = (
  answers: readonly (readonly Person[])[],
  asked: readonly string[],
): PeopleNames => ({
  found: new Map(answers.flat().map((p) => [p.id, p])),
  asked: new Set(asked),
});

/**
 * How a user id on a screen is named: the person when the directory answered them; else as the screen
 * showed ids before (`shownAs`), with "(not found)" once the directory was asked and did not answer them
 * (no such account, disabled, or not one the viewer may see: the answer does not say which).
 */
export type NamedId =
  | { readonly kind: 'person'; readonly person: Person }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'not-asked' };

export function nameId(id: string, names: PeopleNames | undefined): NamedId {
  const person = names?.found.get(id);
  if (person) return { kind: 'person', person };
  return names?.asked.has(id) ? { kind: 'not-found' } : { kind: 'not-asked' };
}

/** The same in one line of text: "Ana Silveira (a.silveira)", "user 12ab (not found)", "user 12ab". */
export function nameOrId(
  id: string,
  names: PeopleNames | undefined,
  shownAs: string = id,
  format: (p: Person) => string = personShort,
): string {
  const n = nameId(id, names);
  return n.kind === 'person' ? format(n.person) : n.kind === 'not-found' ? `${shownAs} (not found)` : shownAs;
}

/** "Ana Silveira (a.silveira)": a person named in a sentence; an account without a name: its username. */
export const personShort = (p: Person): string =>
  p.displayName === p.username ? p.username : `${p.displayName} (${p.username})`;

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
