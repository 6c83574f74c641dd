/**
 * The one authorization policy: deny by default. Every read, search, write and export of patient data asks
 * `authorize(request, context)` and gets a decision with its basis (why it was allowed) or its reason (why
 * not). Pure: the caller gathers the facts (care teams, caregiver grants, the patient's consent, an open
 * break-glass) and the decision is a function of them. The rules are written out in docs/access-policy.md.
 */
import { isWaveformCode } from '../codes/vitals.ts';
import { scopesGrant } from './smart-scopes.ts';
import { isStaff, type Role, type Subject } from './subject.ts';

/** What kind of data a resource holds; consent restricts by category. */
export const DATA_CATEGORIES = [
  'demographics',
  'vital-signs',
  'waveforms',
  'activity',
  'alarms',
  'messages',
] as const;
export type DataCategory = (typeof DATA_CATEGORIES)[number];

export const RESOURCE_TYPES = [
  'Patient',
  'Observation',
  'Flag',
  'Communication',
  'Consent',
  'AuditEvent',
  'Device',
  'CareTeam',
  'AlarmSettings',
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const ACTIONS = ['read', 'search', 'create', 'update', 'delete', 'export', 'act'] as const;
export type Action = (typeof ACTIONS)[number];

/** A patient's restriction: these categories are withheld from these recipients (all staff when absent). */
export interface ConsentRestriction {
  readonly categories: readonly DataCategory[];
  /** User ids the restriction applies to; absent means every clinician, nurse and caregiver. */
  readonly recipients?: readonly string[];
}

/** The patient's current consent (FHIR Consent, reduced to what the policy needs). */
export interface ConsentState {
  readonly restrictions: readonly ConsentRestriction[];
  /** Whether the patient allows research use of their (de-identified) data. */
  readonly researchUse: boolean;
}

export interface CaregiverGrant {
  readonly patientId: string;
  /** Categories the caregiver may see; absent means all but demographics edits. */
  readonly categories?: readonly DataCategory[];
  /** Epoch ms; absent means until revoked. */
  readonly until?: number;
}

export interface AccessRequest {
  readonly subject: Subject;
  readonly action: Action;
  readonly resourceType: ResourceType;
  /** The patient whose compartment the resource is in (absent for registry resources such as Device). */
  readonly patientId?: string;
  /** The data category (Observations: by code; see categoryOfCode). Defaults from the resource type. */
  readonly category?: DataCategory;
  readonly purpose?: 'treatment' | 'research';
}

export interface AccessContext {
  readonly now: number;
  /** Patients of the care teams the subject belongs to. */
  readonly careTeamPatients: ReadonlySet<string>;
  readonly caregiverGrants: readonly CaregiverGrant[];
  /** The consent of the request's patient, when it has one (no consent: no restrictions, no research use). */
  readonly consent?: ConsentState;
  /** An open break-glass of this subject for the request's patient. */
  readonly breakGlass?: { readonly patientId: string; readonly until: number; readonly reason: string };
}

export type AccessBasis =
  | 'own-compartment'
  | 'care-team'
  | 'caregiver-grant'
  | 'break-glass'
  | 'administration'
  | 'research-consent'
  | 'service-scope';

export type Decision =
  | { readonly allow: true; readonly basis: AccessBasis }
  | { readonly allow: false; readonly reason: string };

/** The category of an Observation by its catalogue code: waveforms, activity (steps, falls), else vital signs. */
export function categoryOfCode(code: string): DataCategory {
  if (isWaveformCode(code)) return 'waveforms';
  if (code === 'steps' || code === 'fall') return 'activity';
  return 'vital-signs';
}

const CATEGORY_OF_RESOURCE: Readonly<Record<ResourceType, DataCategory | undefined>> = {
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

/** Registry resources an administrator manages; they hold no clinical data. */
const ADMINISTRATION: Readonly<Partial<Record<ResourceType, readonly Action[]>>> = {
  Patient: ['read', 'search', 'create', 'update', 'delete'],
  Device: ['read', 'search', 'create', 'update', 'delete'],
  CareTeam: ['read', 'search', 'create', 'update', 'delete'],
  AuditEvent: ['read', 'search', 'export'],
};

/** What care, by role, may do with a patient's resources (given a relationship to the patient). */
const CARE: Readonly<Partial<Record<Role, Partial<Record<ResourceType, readonly Action[]>>>>> = {
  clinician: {
    Patient: ['read'],
    Observation: ['read', 'search', 'export', 'create'],
    Flag: ['read', 'search', 'act'],
    Communication: ['read', 'search', 'create'],
    Consent: ['read'],
    AlarmSettings: ['read', 'update'],
    Device: ['read', 'search'],
    CareTeam: ['read', 'search'],
  },
  nurse: {
    Patient: ['read'],
    Observation: ['read', 'search', 'create'],
    Flag: ['read', 'search', 'act'],
    Communication: ['read', 'search', 'create'],
    Consent: ['read'],
    AlarmSettings: ['read'],
    Device: ['read', 'search'],
    CareTeam: ['read', 'search'],
  },
  patient: {
    Patient: ['read'],
    Observation: ['read', 'search', 'export'],
    Flag: ['read', 'search'],
    Communication: ['read', 'search', 'create'],
    Consent: ['read', 'create', 'update'],
    AuditEvent: ['read', 'search'],
    AlarmSettings: ['read'],
  },
  caregiver: {
    Patient: ['read'],
    Observation: ['read', 'search'],
    Flag: ['read', 'search'],
    Communication: ['read', 'search', 'create'],
  },
};

/** Break-glass gives emergency read access to clinical data, nothing more. */
const BREAK_GLASS_ACTIONS: readonly Action[] = ['read', 'search'];
const BREAK_GLASS_RESOURCES: readonly ResourceType[] = [
  'Patient',
  'Observation',
  'Flag',
  'Communication',
  'Consent',
];

export function authorize(req: AccessRequest, ctx: AccessContext): Decision {
  const { subject, resourceType } = req;
  if (subject.kind === 'service') return decideService(req);
  if (subject.roles.length === 0) return deny('the user has no role');
  if (isStaff(subject.roles) && !subject.mfa)
    return deny('multi-factor authentication is required for staff');
  const category = req.category ?? CATEGORY_OF_RESOURCE[resourceType];
  const decisions = subject.roles.map((role) => decideForRole(role, req, ctx, category));
  // Several roles: the most permissive decision of any of them (each is itself deny-by-default).
  const decision = decisions.find((d) => d.allow) ?? decisions[0] ?? deny('no rule allows this');
  // A person acting through an app (OAuth token) gets the intersection of their own rights and the token's
  // scopes; a browser session carries no scopes and is decided by the rules above alone.
  return decision.allow && subject.scopes !== undefined ? limitToUserScopes(req, decision) : decision;
}

/**
 * SMART scopes of a user's token: `user/X.read` grants what the person may read anyway; `patient/X.read`
 * only inside their own patient compartment (a patient's own data). `system/` scopes grant a user nothing.
 */
function limitToUserScopes(req: AccessRequest, decision: Decision): Decision {
  const { subject, resourceType, action, patientId } = req;
  const scopes = subject.scopes ?? [];
  if (scopesGrant(scopes, 'user', resourceType, action)) return decision;
  const ownCompartment =
    patientId !== undefined && subject.roles.includes('patient') && subject.patientId === patientId;
  if (ownCompartment && scopesGrant(scopes, 'patient', resourceType, action)) return decision;
  return deny(`the token's scopes do not grant ${action} of ${resourceType}`);
}

function decideForRole(
  role: Role,
  req: AccessRequest,
  ctx: AccessContext,
  category: DataCategory | undefined,
): Decision {
  const { action, resourceType, patientId, subject } = req;
  if (role === 'administrator') {
    const allowed = ADMINISTRATION[resourceType] ?? [];
    // Administrators manage the registry; a patient's registry entry is readable without clinical data.
    return allowed.includes(action)
      ? allow('administration')
      : deny(`administrators may not ${action} ${resourceType}`);
  }
  if (role === 'researcher') return decideResearch(req, ctx);
  const allowed = CARE[role]?.[resourceType] ?? [];
  if (!allowed.includes(action)) return deny(`a ${role} may not ${action} ${resourceType}`);
  if (patientId === undefined) {
    // Without a patient only registry resources (devices, care teams) can be read, by staff; anything in a
    // patient's compartment is decided per patient (a search is narrowed to the patients allowed).
    const registry = resourceType === 'Device' || resourceType === 'CareTeam';
    return registry && (role === 'clinician' || role === 'nurse')
      ? allow('care-team')
      : deny(`${resourceType} is decided per patient: name the patient`);
  }
  switch (role) {
    case 'patient':
      return subject.patientId === patientId ? allow('own-compartment') : deny("another patient's data");
    case 'caregiver':
      return decideCaregiver(req, ctx, category);
    case 'clinician':
    case 'nurse':
      return decideCare(req, ctx, category);
  }
}

function decideCare(req: AccessRequest, ctx: AccessContext, category: DataCategory | undefined): Decision {
  const patientId = req.patientId as string;
  if (ctx.careTeamPatients.has(patientId)) {
    const restricted = restrictedFor(req.subject.userId, category, ctx.consent);
    if (!restricted) return allow('care-team');
    // The patient withheld this category: only an emergency (break-glass) overrides it.
  }
  const glass = ctx.breakGlass;
  if (
    glass &&
    glass.patientId === patientId &&
    glass.until > ctx.now &&
    BREAK_GLASS_ACTIONS.includes(req.action) &&
    BREAK_GLASS_RESOURCES.includes(req.resourceType)
  ) {
    return allow('break-glass');
  }
  return ctx.careTeamPatients.has(patientId)
    ? deny(`the patient has withheld ${category} from this user`)
    : deny('the patient is not in any of your care teams');
}

function decideCaregiver(
  req: AccessRequest,
  ctx: AccessContext,
  category: DataCategory | undefined,
): Decision {
  const grant = ctx.caregiverGrants.find(
    (g) => g.patientId === req.patientId && (g.until === undefined || g.until > ctx.now),
  );
  if (!grant) return deny('no current grant from this patient');
  if (category !== undefined && grant.categories !== undefined && !grant.categories.includes(category))
    return deny(`the grant does not cover ${category}`);
  if (restrictedFor(req.subject.userId, category, ctx.consent))
    return deny(`the patient has withheld ${category} from this user`);
  return allow('caregiver-grant');
}

/** Research: de-identified search and export of clinical data, only with the patient's research consent. */
function decideResearch(req: AccessRequest, ctx: AccessContext): Decision {
  if (req.purpose !== 'research') return deny('researchers access data for research only');
  if (!['search', 'export'].includes(req.action) || !['Observation'].includes(req.resourceType))
    return deny(`a researcher may not ${req.action} ${req.resourceType}`);
  if (req.patientId === undefined) return deny('research access is decided per patient');
  return ctx.consent?.researchUse === true
    ? allow('research-consent')
    : deny('the patient has not consented to research use');
}

/**
 * A service acts by its scopes: SMART v1 `system/<Resource|*>.<read|write|*>` (reads cover read, search and
 * export, writes the rest) or v2 `system/<Resource|*>.<cruds>`. Consent restrictions bind people; services see what their scopes say.
 */
function decideService(req: AccessRequest): Decision {
  const granted = scopesGrant(req.subject.scopes ?? [], 'system', req.resourceType, req.action);
  return granted ? allow('service-scope') : deny(`no scope grants ${req.action} of ${req.resourceType}`);
}

function restrictedFor(
  userId: string,
  category: DataCategory | undefined,
  consent: ConsentState | undefined,
): boolean {
  if (category === undefined || !consent) return false;
  return consent.restrictions.some(
    (r) => r.categories.includes(category) && (r.recipients === undefined || r.recipients.includes(userId)),
  );
}

const allow = (basis: AccessBasis): Decision => ({ allow: true, basis });
const deny = (reason: string): Decision => ({ allow: false, reason });
