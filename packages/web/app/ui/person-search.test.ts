import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canSearch,
  LOOKUP_MAX,
  lookupPaths,
  mergePeople,
  nameId,
  nameOrId,
  type Person,
  peopleNames,
  peoplePaths,
  personDetail,
  personLabel,
  personShort,
  searchStatus,
} from './person-search.ts';

const person = (id: string, displayName: string, username: string, roles = ['clinician']): Person => ({
  id,
  displayName,
  username,
  roles,
});
const ana = person('1', 'Ana Silva', 'ana.silva');
const joana = person('2', 'Joana Silva', 'joana', ['nurse']);
const silvana = person('3', 'Silvana Costa', 's.costa', ['nurse']);

describe('the person picker, without a page', () => {
  it('asks once per role, with the text trimmed and the limit', () => {
    expect(peoplePaths(' ana ', undefined)).toEqual(['/api/v1/people?q=ana&limit=10']);
    expect(peoplePaths('Zoë Å', ['clinician', 'nurse'])).toEqual([
      '/api/v1/people?q=Zo%C3%AB+%C3%85&role=clinician&limit=10',
      '/api/v1/people?q=Zo%C3%AB+%C3%85&role=nurse&limit=10',
    ]);
  });

  it('searches from two characters, as the platform does', () => {
    expect(canSearch('a')).toBe(false);
    expect(canSearch('  a  ')).toBe(false);
    expect(canSearch('an')).toBe(true);
    expect(canSearch('a b')).toBe(true);
  });

  it('merges the answers of several roles: each person once, names beginning with the text first', () => {
    expect(
      mergePeople(
        [
          [joana, silvana],
          [ana, joana],
        ],
        'ana',
      ),
    ).toEqual([ana, joana, silvana]);
    // One answer keeps the platform's order; already listed people are left out.
    expect(mergePeople([[silvana, ana]], 'ana', ['3'])).toEqual([ana]);
  });

  it('merging keeps every person once, whatever the lists', () => {
    const p = fc.record({
      id: fc.constantFrom('a', 'b', 'c', 'd'),
      displayName: fc.string({ maxLength: 8 }),
      username: fc.string({ maxLength: 8 }),
      roles: fc.constant(['nurse']),
    });
    fc.assert(
      fc.property(fc.array(fc.array(p, { maxLength: 5 }), { maxLength: 3 }), fc.string(), (lists, text) => {
        const merged = mergePeople(lists, text, ['d']);
        const ids = merged.map((x) => x.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).not.toContain('d');
        expect(new Set(ids)).toEqual(
          new Set(
            lists
              .flat()
              .map((x) => x.id)
              .filter((id) => id !== 'd'),
          ),
        );
      }),
    );
  });

  it('says who is who, and what the search found', () => {
    expect(personDetail(ana)).toBe('ana.silva · clinician');
    expect(personLabel(joana)).toBe('Joana Silva (joana, nurse)');
    const status = (typed: string, results?: Person[], searching = false, chosen?: Person) =>
      searchStatus({ typed, results, searching, chosen });
    expect(status('')).toBe('');
    expect(status('a')).toBe('Type at least 2 characters.');
    expect(status('an', undefined, true)).toBe('Searching…');
    expect(status('an', [])).toMatch(/^No one found/);
    expect(status('an', [ana])).toMatch(/^1 person found\./);
    expect(status('an', [ana, joana])).toMatch(/^2 people found\. Use the up and down arrows/);
    expect(status('Ana Silva', [], false, ana)).toBe('Chosen: Ana Silva (ana.silva, clinician).');
  });

  it('looks people up once per screen: each id once, 50 a request, encoded', () => {
    expect(lookupPaths([])).toEqual([]);
    expect(lookupPaths(['b', 'a+1', 'b', 'c@x'])).toEqual(['/api/v1/people?ids=a%2B1,b,c%40x']);
    const many = Array.from({ length: 120 }, (_, i) => `u${String(i).padStart(3, '0')}`);
    const paths = lookupPaths([...many].reverse());
    expect(paths).toHaveLength(3);
    expect(paths[0]).toBe(`/api/v1/people?ids=${many.slice(0, 50).join(',')}`);
  });

  it('asks for every id exactly once, at most 50 a request, whatever the ids', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,6}$/);
    fc.assert(
      fc.property(fc.array(id, { maxLength: 160 }), (ids) => {
        const asked = lookupPaths(ids).map((p) => {
          const value = new URL(p, 'http://x').searchParams.get('ids') ?? '';
          // As the platform reads it: the commas split, each piece decoded.
          const pieces = value.split(',');
          expect(pieces.length).toBeGreaterThanOrEqual(1);
          expect(pieces.length).toBeLessThanOrEqual(LOOKUP_MAX);
          return pieces;
        });
        const flat = asked.flat();
        expect(new Set(flat).size).toBe(flat.length);
        expect(new Set(flat)).toEqual(new Set(ids));
        expect(asked.length).toBe(Math.ceil(new Set(ids).size / LOOKUP_MAX));
      }),
    );
  });

  it('names an id by the person found, else as before, "(not found)" once asked and not answered', () => {
    const names = peopleNames([[ana], [joana]], ['1', '2', '9']);
    expect(nameId('1', names)).toEqual({ kind: 'person', person: ana });
    expect(nameId('9', names)).toEqual({ kind: 'not-found' });
    expect(nameId('7', names)).toEqual({ kind: 'not-asked' });
    expect(nameId('1', undefined)).toEqual({ kind: 'not-asked' });
    expect(nameOrId('1', names, 'user 1')).toBe('Ana Silva (ana.silva)');
    // An account without a display name is answered with its username as the name: said once.
    expect(personShort({ id: '3', displayName: 'leo', username: 'leo', roles: [] })).toBe('leo');
    expect(nameOrId('2', names, 'user 2', personLabel)).toBe('Joana Silva (joana, nurse)');
    expect(nameOrId('9', names, 'caregiver 9')).toBe('caregiver 9 (not found)');
    expect(nameOrId('9', names)).toBe('9 (not found)');
    expect(nameOrId('7', names, 'user 7')).toBe('user 7');
    expect(nameOrId('1', undefined, 'user 1')).toBe('user 1');
  });
});
