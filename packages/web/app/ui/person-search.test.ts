import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canSearch,
  mergePeople,
  type Person,
  peoplePaths,
  personDetail,
  personLabel,
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
});
