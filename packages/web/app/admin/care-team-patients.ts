/**
 * The pure side of the patients of a care team: finding a patient by the identifier staff know (the
 * hospital number, `POST /api/v1/admin/patients/search`, exact match through the platform's blind index,
 * since names and identifiers are encrypted at rest), the words shown and announced, and naming the
 * patients already in the teams from the administrator's patient read (one request a patient, so a screen
 * names a bounded number of them). No DOM here, so it is unit-tested on its own.
 */

/** A patient as the admin API answers it; the identity is absent once erased. */
export interface PatientRecord {
  readonly id: string;
  readonly displayName?: string;
  readonly identifier?: string;
  readonly birthDate?: string;
  readonly createdAt: string;
  readonly erasedAt?: string;
}

/** The platform refuses longer identifiers (`/identifier`, at most 256 characters). */
export const IDENTIFIER_MAX = 256;

/**
 * What an identifier typed in the form is sent as: trimmed (the platform compares it trimmed, so spaces
 * pasted with it do not hide a patient), or why it cannot be searched yet.
 */
export function identifierQuery(typed: string): { identifier: string } | { problem: string } {
  const identifier = typed.trim();
  if (identifier === '') return { problem: "Type the patient's identifier (hospital number)." };
  if (identifier.length > IDENTIFIER_MAX)
    return { problem: `An identifier is at most ${IDENTIFIER_MAX} characters.` };
  return { identifier };
}

/** The search as the live region says it: nothing before a search, then how many were found. */
export function foundStatus(s: {
  searching: boolean;
  found: readonly PatientRecord[] | undefined;
  added?: string | undefined;
}): string {
  if (s.searching) return 'Searching…';
  if (s.added) return s.added;
  if (s.found === undefined) return '';
  const n = s.found.length;
  if (n === 0) return 'No patient with this identifier.';
  return `${n === 1 ? '1 patient' : `${n} patients`} found.`;
}

/** The name a patient is called by on the screen: their name, else their identifier, else the record id. */
export const patientName = (p: PatientRecord): string => p.displayName ?? p.identifier ?? p.id;

/** "born 1948-05-02 · identifier H-20931 · record p-1f": what tells two patients of one name apart. */
export const patientDetail = (p: PatientRecord): string =>
  [
    p.birthDate ? `born ${p.birthDate}` : undefined,
    p.identifier ? `identifier ${p.identifier}` : undefined,
    `record ${p.id}`,
  ]
    .filter(Boolean)
    .join(' · ');

/** At most this many team patients are named on a screen: each name is one patient read, each read audited. */
export const NAME_CAP = 50;

/** What the screen knows of a team patient's id: the record, or that the platform had no such patient. */
export type PatientNaming = PatientRecord | 'not-found' | 'unavailable';

/**
 * The patient ids a screen names: each id once, in the order shown, the first `cap` of them. The rest are
 * shown by record id: each name costs one (audited) read, so a screen asks a bounded number.
 */
export function patientsToName(ids: readonly string[], cap = NAME_CAP): string[] {
  return [...new Set(ids)].slice(0, cap);
}

/** A failed read as naming: the platform answered 404 (no such patient), or it could not be asked. */
export const namingOfFailure = (status: number): PatientNaming =>
  status === 404 ? 'not-found' : 'unavailable';

/**
 * A team patient in one line: "Maria Santos (identifier H-20931)"; an erased one "p-1f (erased)"; one the
 * platform does not have "p-1f (not found)"; not named (past the cap, not answered yet, or the platform
 * unreachable) by its record id alone.
 */
export function teamPatientLabel(id: string, naming: PatientNaming | undefined): string {
  if (naming === 'not-found') return `${id} (not found)`;
  if (naming === undefined || naming === 'unavailable') return id;
  if (naming.erasedAt) return `${id} (erased)`;
  if (naming.displayName)
    return naming.identifier ? `${naming.displayName} (identifier ${naming.identifier})` : naming.displayName;
  return naming.identifier ? `identifier ${naming.identifier} (no name)` : id;
}

/** The short name of a team patient, e.g. in "Remove Maria Santos from Ward 3". */
export function teamPatientShort(id: string, naming: PatientNaming | undefined): string {
  return typeof naming === 'object' && !naming.erasedAt ? patientName(naming) : `patient ${id}`;
}
