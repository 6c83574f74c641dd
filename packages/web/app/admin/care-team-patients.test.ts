import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  foundStatus,
  IDENTIFIER_MAX,
  identifierQuery,
  NAME_CAP,
  namingOfFailure,
  type PatientRecord,
  patientDetail,
  patientName,
  patientsToName,
  teamPatientLabel,
  teamPatientShort,
} from './care-team-patients.ts';

const maria: PatientRecord = {
  id: 'p-1f',
  displayName: 'Maria Santos',
  identifier: 'H-20931',
  birthDate: '1948-05-02',
  createdAt: '2026-01-01T00:00:00Z',
};

describe('finding a patient for a care team, without a page', () => {
  it('sends the identifier trimmed, and says why an empty or too long one is not searched', () => {
    expect(identifierQuery('  H-20931 ')).toEqual({ identifier: 'H-20931' });
    expect(identifierQuery('   ')).toEqual({ problem: "Type the patient's identifier (hospital number)." });
    expect(identifierQuery('x'.repeat(IDENTIFIER_MAX))).toEqual({ identifier: 'x'.repeat(IDENTIFIER_MAX) });
    expect(identifierQuery('x'.repeat(IDENTIFIER_MAX + 1))).toEqual({
      problem: 'An identifier is at most 256 characters.',
    });
  });

  it('sends only what the platform accepts, and refuses only what it would refuse (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 4 }), (text, pad) => {
        const typed = `${pad.replace(/\S/g, ' ')}${text}${pad.replace(/\S/g, '\t')}`;
        const q = identifierQuery(typed);
        const trimmed = typed.trim();
        if ('identifier' in q) {
          expect(q.identifier).toBe(trimmed);
          expect(q.identifier.length).toBeGreaterThan(0);
          expect(q.identifier.length).toBeLessThanOrEqual(IDENTIFIER_MAX);
        } else {
          expect(trimmed === '' || trimmed.length > IDENTIFIER_MAX).toBe(true);
        }
      }),
    );
  });

  it('announces nothing before a search, then how many were found, or who was added', () => {
    expect(foundStatus({ searching: false, found: undefined })).toBe('');
    expect(foundStatus({ searching: true, found: [maria] })).toBe('Searching…');
    expect(foundStatus({ searching: false, found: [] })).toBe('No patient with this identifier.');
    expect(foundStatus({ searching: false, found: [maria] })).toBe('1 patient found.');
    expect(foundStatus({ searching: false, found: [maria, { ...maria, id: 'p-2' }] })).toBe(
      '2 patients found.',
    );
    expect(foundStatus({ searching: false, found: [maria], added: 'Added Maria Santos to Ward 3.' })).toBe(
      'Added Maria Santos to Ward 3.',
    );
  });

  it('shows a found patient by name with what tells two of one name apart', () => {
    expect(patientName(maria)).toBe('Maria Santos');
    expect(patientDetail(maria)).toBe('born 1948-05-02 · identifier H-20931 · record p-1f');
    const bare: PatientRecord = { id: 'p-9', identifier: 'H-7', createdAt: maria.createdAt };
    expect(patientName(bare)).toBe('H-7');
    expect(patientDetail(bare)).toBe('identifier H-7 · record p-9');
    expect(patientName({ id: 'p-0', createdAt: maria.createdAt })).toBe('p-0');
  });
});

describe('naming the patients of care teams, without a page', () => {
  it('asks each id once, in the order shown, at most the cap', () => {
    expect(patientsToName(['b', 'a', 'b', 'c'], 2)).toEqual(['b', 'a']);
    const many = Array.from({ length: 130 }, (_, i) => `p-${i % 90}`);
    const asked = patientsToName(many);
    expect(asked).toHaveLength(NAME_CAP);
    expect(asked[0]).toBe('p-0');
    expect(new Set(asked).size).toBe(NAME_CAP);
  });

  it('tells a missing patient from a platform that could not be asked', () => {
    expect(namingOfFailure(404)).toBe('not-found');
    expect(namingOfFailure(0)).toBe('unavailable');
    expect(namingOfFailure(503)).toBe('unavailable');
  });

  it('names a team patient, or keeps the record id saying why', () => {
    expect(teamPatientLabel('p-1f', maria)).toBe('Maria Santos (identifier H-20931)');
    expect(teamPatientLabel('p-1f', { id: 'p-1f', displayName: 'Maria Santos', createdAt: '' })).toBe(
      'Maria Santos',
    );
    expect(teamPatientLabel('p-9', { id: 'p-9', identifier: 'H-7', createdAt: maria.createdAt })).toBe(
      'identifier H-7 (no name)',
    );
    expect(teamPatientLabel('p-0', { id: 'p-0', createdAt: maria.createdAt })).toBe('p-0');
    expect(
      teamPatientLabel('p-3', { id: 'p-3', createdAt: maria.createdAt, erasedAt: '2026-02-01T00:00:00Z' }),
    ).toBe('p-3 (erased)');
    expect(teamPatientLabel('ghost', 'not-found')).toBe('ghost (not found)');
    expect(teamPatientLabel('p-5', 'unavailable')).toBe('p-5');
    expect(teamPatientLabel('p-6', undefined)).toBe('p-6');
    expect(teamPatientShort('p-1f', maria)).toBe('Maria Santos');
    expect(teamPatientShort('p-3', { id: 'p-3', createdAt: '', erasedAt: '2026-02-01T00:00:00Z' })).toBe(
      'patient p-3',
    );
    expect(teamPatientShort('ghost', 'not-found')).toBe('patient ghost');
  });
});
