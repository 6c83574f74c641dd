/**
 * Naming the people a screen shows by user id (those hidden from in a consent, caregivers, care-team
 * members): one lookup in the people directory (`GET /api/v1/people?ids=`) for all of them, asked again
 * only when the set of ids changes. A person the directory does not answer keeps their id, marked
 * "(not found)".
 */
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.ts';
import { lookupPaths, nameId, type PeopleNames, type Person, peopleNames } from './person-search.ts';

export type { PeopleNames } from './person-search.ts';

/**
 * The names of `ids` (undefined: not known yet, so not asked). Until an answer comes the ids show as they
 * are; the last answer stays while a changed set is asked, so names already shown do not flicker. When
 * the directory cannot be reached the ids show as they are, never as "not found".
 */
export function usePeopleNames(ids: readonly string[] | undefined): PeopleNames | undefined {
  const [names, setNames] = useState<PeopleNames | undefined>(undefined);
  const key = ids === undefined ? undefined : [...new Set(ids)].sort().join('\n');
  useEffect(() => {
    if (key === undefined) return;
    const asked = key === '' ? [] : key.split('\n');
    let current = true;
    Promise.all(lookupPaths(asked).map((p) => get<{ items: Person[] }>(p))).then(
      (answers) => {
        if (current)
          setNames(
            peopleNames(
              answers.map((a) => a.items),
              asked,
            ),
          );
      },
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [key]);
  return names;
}

/** A user id as a person: "Leo Marques (grandson.leo)", or the id, with "(not found)" when it was not. */
export function PersonName({ id, names }: { id: string; names: PeopleNames | undefined }) {
  const n = nameId(id, names);
  if (n.kind === 'person')
    return (
      <span data-user-id={id}>
        <span class="person-name">{n.person.displayName}</span> ({n.person.username})
      </span>
    );
  return (
    <span data-user-id={id}>
      <code>{id}</code>
      {n.kind === 'not-found' ? <span class="hint"> (not found)</span> : null}
    </span>
  );
}
