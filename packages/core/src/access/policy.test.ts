/**
 * The generated authorization matrix: every role x resource x action x relationship x consent state, each
 * cell decided by `authorize` and compared with the expectation written out below from
 * docs/access-policy.md (a separate, plain statement of the rules, not the policy's own tables).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  type AccessContext,
  type AccessRequest,
  type Action,
  authorize,
  type ConsentState,
  categoryOfCode,
  DATA_CATEGORIES,
  type DataCategory,
  RESOURCE_TYPES,
  type ResourceType,
} from './policy.ts';
import { ROLES, type Role, type Subject } from './subject.ts';

const NOW = Date.parse('2026-11-28T09:00:00Z');
const ME = 'user-me';
const P = 'patient-1';

const RELATIONSHIPS = [
  'none', // no relationship to the patient
  'own', // the patient's own compartment
  'care-team', // the patient is in one of my care teams
  'caregiver-grant', // the patient granted me (as caregiver) access to everything
  'caregiver-grant-vitals', // ... to vital signs only
  'caregiver-grant-expired',
  'break-glass', // an open break-glass for this patient
  'break-glass-expired',
  'registry', // the resource is not in a patient's compartment
] as const;
type Relationship = (typeof RELATIONSHIPS)[number];

const CONSENTS = [
  'none',
  'restrict-this-category-from-all',
  'restrict-this-category-from-me',
  'restrict-this-category-from-someone-else',
  'restrict-another-category',
  'research-allowed',
] as const;
type ConsentCase = (typeof CONSENTS)[number];

const CATEGORY: Record<ResourceType, DataCategory | undefined> = {
  Patient: 'demographics',
  Observation: 'vital-signs',
  Flag: 'alarms',
  Communication: 'messages',
  Consent: undefined,
  AuditEvent: undefined,
  Device: undefined,
  CareTeam: undefined,
  AlarmSettings: 'alarms',
};

// ----- the rules, as docs/access-policy.md states them -----

const READS: readonly Action[] = ['read', 'search', 'export'];

/** Administrators manage the registry and read the audit trail; no clinical data. */
const ADMIN_MAY = new Set([
  ...['read', 'search', 'create', 'update', 'delete'].flatMap((a) => [
    `Patient:${a}`,
    `Device:${a}`,
    `CareTeam:${a}`,
  ]),
  'AuditEvent:read',
  'AuditEvent:search',
  'AuditEvent:export',
]);

/** With the right relationship to the patient, each caring role may do these. */
const CARE_MAY: Partial<Record<Role, string[]>> = {
  clinician: [
    'Patient:read',
    'Observation:read Observation:search Observation:export Observation:create',
    'Flag:read Flag:search Flag:act',
    'Communication:read Communication:search Communication:create',
    'Consent:read',
    'AlarmSettings:read AlarmSettings:update',
    'Device:read Device:search CareTeam:read CareTeam:search',
  ],
  nurse: [
    'Patient:read',
    'Observation:read Observation:search Observation:create',
    'Flag:read Flag:search Flag:act',
    'Communication:read Communication:search Communication:create',
    'Consent:read AlarmSettings:read',
    'Device:read Device:search CareTeam:read CareTeam:search',
  ],
  patient: [
    'Patient:read Observation:read Observation:search Observation:export Flag:read Flag:search',
    'Communication:read Communication:search Communication:create',
    'Consent:read Consent:create Consent:update AuditEvent:read AuditEvent:search AlarmSettings:read',
  ],
  caregiver: [
    'Patient:read Observation:read Observation:search Flag:read Flag:search',
    'Communication:read Communication:search Communication:create',
  ],
};
const careMay = (role: Role, r: ResourceType, a: Action) =>
  (CARE_MAY[role] ?? []).join(' ').split(' ').includes(`${r}:${a}`);

function expected(role: Role, r: ResourceType, a: Action, rel: Relationship, consent: ConsentCase): boolean {
  const category = CATEGORY[r];
  const withheldFromMe =
    category !== undefined &&
    (consent === 'restrict-this-category-from-all' || consent === 'restrict-this-category-from-me');
  switch (role) {
    case 'administrator':
      return ADMIN_MAY.has(`${r}:${a}`);
    case 'researcher':
      // Research reads are asked with purpose research (see below): only Observation search/export, with consent.
      return (
        r === 'Observation' &&
        (a === 'search' || a === 'export') &&
        rel !== 'registry' &&
        consent === 'research-allowed'
      );
    case 'patient':
      return careMay(role, r, a) && rel === 'own';
    case 'caregiver': {
      if (!careMay(role, r, a) || withheldFromMe) return false;
      if (rel === 'caregiver-grant') return true;
      return rel === 'caregiver-grant-vitals' && category === 'vital-signs';
    }
    case 'clinician':
    case 'nurse': {
      if (!careMay(role, r, a)) return false;
      if (rel === 'registry') return r === 'Device' || r === 'CareTeam';
      const emergency =
        rel === 'break-glass' &&
        (a === 'read' || a === 'search') &&
        ['Patient', 'Observation', 'Flag', 'Communication', 'Consent'].includes(r);
      if (emergency) return true;
      return rel === 'care-team' && !withheldFromMe;
    }
  }
}

// ----- building the request and its context for a cell -----

function cell(role: Role, r: ResourceType, a: Action, rel: Relationship, consent: ConsentCase) {
  const subject: Subject = {
    kind: 'user',
    userId: ME,
    roles: [role],
    mfa: true,
    ...(role === 'patient' ? { patientId: rel === 'own' ? P : 'patient-other' } : {}),
  };
  const category = CATEGORY[r];
  const other = DATA_CATEGORIES.find((c) => c !== category) as DataCategory;
  const consentState: ConsentState | undefined =
    consent === 'none'
      ? undefined
      : {
          researchUse: consent === 'research-allowed',
          restrictions:
            consent === 'research-allowed' || category === undefined
              ? []
              : [
                  {
                    categories: [consent === 'restrict-another-category' ? other : category],
                    ...(consent === 'restrict-this-category-from-me' ? { recipients: [ME] } : {}),
                    ...(consent === 'restrict-this-category-from-someone-else'
                      ? { recipients: ['user-x'] }
                      : {}),
                  },
                ],
        };
  const req: AccessRequest = {
    subject,
    action: a,
    resourceType: r,
    ...(rel === 'registry' ? {} : { patientId: P }),
    ...(role === 'researcher' ? { purpose: 'research' as const } : {}),
  };
  const ctx: AccessContext = {
    now: NOW,
    careTeamPatients: new Set(rel === 'care-team' ? [P] : []),
    caregiverGrants:
      rel === 'caregiver-grant'
        ? [{ patientId: P }]
        : rel === 'caregiver-grant-vitals'
          ? [{ patientId: P, categories: ['vital-signs'] }]
          : rel === 'caregiver-grant-expired'
            ? [{ patientId: P, until: NOW - 1 }]
            : [],
    ...(consentState ? { consent: consentState } : {}),
    ...(rel === 'break-glass' ? { breakGlass: { patientId: P, until: NOW + 60_000, reason: 'arrest' } } : {}),
    ...(rel === 'break-glass-expired'
      ? { breakGlass: { patientId: P, until: NOW - 1, reason: 'arrest' } }
      : {}),
  };
  return { req, ctx };
}

describe('the authorization matrix', () => {
  const cells = ROLES.flatMap((role) =>
    RESOURCE_TYPES.flatMap((r) =>
      ACTIONS.flatMap((a) =>
        RELATIONSHIPS.flatMap((rel) => CONSENTS.map((c) => [role, r, a, rel, c] as const)),
      ),
    ),
  );

  it(`decides every one of the ${cells.length} cells as the written rules say`, () => {
    const wrong: string[] = [];
    for (const [role, r, a, rel, c] of cells) {
      const { req, ctx } = cell(role, r, a, rel, c);
      const d = authorize(req, ctx);
      if (d.allow !== expected(role, r, a, rel, c))
        wrong.push(
          `${role} ${a} ${r} (${rel}, consent ${c}): ${d.allow ? `allowed as ${d.basis}` : d.reason}`,
        );
    }
    expect(wrong).toEqual([]);
    expect(cells.length).toBe(6 * 9 * 7 * 9 * 6);
  });

  it('allows something in every role and denies most cells (deny by default)', () => {
    const allowed = cells.filter(
      ([role, r, a, rel, c]) => authorize(cell(role, r, a, rel, c).req, cell(role, r, a, rel, c).ctx).allow,
    );
    for (const role of ROLES) expect(allowed.some((x) => x[0] === role)).toBe(true);
    expect(allowed.length / cells.length).toBeLessThan(0.2);
  });

  it('refuses staff without a second factor, whatever else holds', () => {
    for (const role of ['clinician', 'nurse', 'administrator', 'researcher'] as const) {
      const { req, ctx } = cell(role, 'Observation', 'read', 'care-team', 'research-allowed');
      const d = authorize({ ...req, subject: { ...req.subject, mfa: false } }, ctx);
      expect(d).toEqual({ allow: false, reason: 'multi-factor authentication is required for staff' });
    }
  });

  it('says why: every denial has a reason, every allowance a basis', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...cells),
        fc.subarray([...ROLES], { minLength: 0, maxLength: 3 }),
        ([role, r, a, rel, c], extra) => {
          const { req, ctx } = cell(role, r, a, rel, c);
          const d = authorize({ ...req, subject: { ...req.subject, roles: [role, ...extra] } }, ctx);
          if (d.allow) expect(d.basis.length).toBeGreaterThan(0);
          else expect(d.reason.length).toBeGreaterThan(0);
          // More roles never take a permission away.
          if (authorize(req, ctx).allow) expect(d.allow).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  // A person acting through an app: their own rights, narrowed by the token's SMART scopes.
  const SCOPE_CASES: Record<
    string,
    { scopes: string[]; grants: (r: ResourceType, a: Action, ownCompartment: boolean) => boolean }
  > = {
    'no scope at all': { scopes: [], grants: () => false },
    'user/*.read': { scopes: ['user/*.read'], grants: (_r, a) => READS.includes(a) },
    'user/*.*': { scopes: ['user/*.*'], grants: () => true },
    'user/Observation.read': {
      scopes: ['user/Observation.read'],
      grants: (r, a) => r === 'Observation' && READS.includes(a),
    },
    'user/Flag.cruds (v2)': { scopes: ['user/Flag.cruds'], grants: (r) => r === 'Flag' },
    'patient/*.read': { scopes: ['patient/*.read'], grants: (_r, a, own) => own && READS.includes(a) },
    'patient/Observation.rs (v2)': {
      scopes: ['patient/Observation.rs'],
      grants: (r, a, own) => own && r === 'Observation' && READS.includes(a),
    },
    'patient/Observation.r (v2, no search)': {
      scopes: ['patient/Observation.r'],
      grants: (r, a, own) => own && r === 'Observation' && a === 'read',
    },
    'system/*.* (not for people)': { scopes: ['system/*.*'], grants: () => false },
    'launch/patient openid only': { scopes: ['launch/patient', 'openid', 'fhirUser'], grants: () => false },
  };

  it('narrows every cell by each token scope case: own rights AND a scope that covers the action', () => {
    const wrong: string[] = [];
    for (const [name, { scopes, grants }] of Object.entries(SCOPE_CASES))
      for (const [role, r, a, rel, c] of cells) {
        const { req, ctx } = cell(role, r, a, rel, c);
        const d = authorize({ ...req, subject: { ...req.subject, scopes } }, ctx);
        const own = role === 'patient' && rel === 'own';
        const want = expected(role, r, a, rel, c) && grants(r, a, own);
        if (d.allow !== want) wrong.push(`[${name}] ${role} ${a} ${r} (${rel}, consent ${c}): ${d.allow}`);
        if (
          !d.allow &&
          expected(role, r, a, rel, c) &&
          d.reason !== `the token's scopes do not grant ${a} of ${r}`
        )
          wrong.push(`[${name}] ${role} ${a} ${r}: unexpected reason ${d.reason}`);
      }
    expect(wrong).toEqual([]);
  });

  it('never lets a scope add a permission to what the person has (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...cells),
        fc.array(
          fc.oneof(fc.constantFrom(...Object.values(SCOPE_CASES).flatMap((x) => x.scopes)), fc.string()),
          {
            maxLength: 4,
          },
        ),
        ([role, r, a, rel, c], scopes) => {
          const { req, ctx } = cell(role, r, a, rel, c);
          const scoped = authorize({ ...req, subject: { ...req.subject, scopes } }, ctx);
          if (scoped.allow) expect(authorize(req, ctx).allow).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('files Observations into categories by code', () => {
    expect(categoryOfCode('ecg-ii')).toBe('waveforms');
    expect(categoryOfCode('steps')).toBe('activity');
    expect(categoryOfCode('heart-rate')).toBe('vital-signs');
  });
});

describe('services act by their scopes', () => {
  const service = (scopes: string[]): Subject => ({
    kind: 'service',
    userId: 'admin',
    roles: [],
    mfa: true,
    scopes,
  });
  const ctx: AccessContext = { now: NOW, careTeamPatients: new Set(), caregiverGrants: [] };
  const ask = (scopes: string[], action: Action, resourceType: ResourceType) =>
    authorize({ subject: service(scopes), action, resourceType, patientId: P }, ctx).allow;

  it('reads with a read scope, writes with a write scope, everything with system/*.*', () => {
    expect(ask(['system/Observation.read'], 'search', 'Observation')).toBe(true);
    expect(ask(['system/Observation.read'], 'export', 'Observation')).toBe(true);
    expect(ask(['system/Observation.read'], 'create', 'Observation')).toBe(false);
    expect(ask(['system/Observation.read'], 'read', 'Patient')).toBe(false);
    expect(ask(['system/*.write'], 'act', 'Flag')).toBe(true);
    expect(ask(['system/*.*'], 'delete', 'Device')).toBe(true);
    expect(ask([], 'read', 'Device')).toBe(false);
    expect(ask(['user/*.*', 'system/Observation', 'system/*.read '], 'read', 'Observation')).toBe(false);
  });

  it('understands SMART v2 permissions (cruds), and nothing with a query', () => {
    expect(ask(['system/Observation.rs'], 'search', 'Observation')).toBe(true);
    expect(ask(['system/Observation.rs'], 'export', 'Observation')).toBe(true);
    expect(ask(['system/Observation.r'], 'search', 'Observation')).toBe(false);
    expect(ask(['system/Observation.s'], 'export', 'Observation')).toBe(false);
    expect(ask(['system/*.cruds'], 'delete', 'Device')).toBe(true);
    expect(ask(['system/*.cu'], 'act', 'Flag')).toBe(true);
    expect(ask(['system/*.sr'], 'read', 'Flag')).toBe(false);
    expect(ask(['system/Observation.rs?category=vital-signs'], 'read', 'Observation')).toBe(false);
  });
});
