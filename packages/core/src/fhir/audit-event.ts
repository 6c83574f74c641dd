/**
 * An audit record as a FHIR R4 AuditEvent, in the spirit of IHE Basic Audit Log Patterns (BALP): a RESTful
 * access is type `rest` with the interaction as subtype; the user is the requesting agent, the client
 * (network address) and the platform (server) are agents too; the platform is the observer; the resource
 * touched and the patient whose data it is are the entities. Pure mapping, no I/O.
 */
import type { AuditAction, AuditOutcome, AuditRecord } from '../audit/record.ts';
import { DEVICE_IDENTIFIER_SYSTEM } from './profiles.ts';
import { canonicalJson } from './provenance.ts';
import type { CodeableConcept, Coding, Reference } from './types.ts';

export const AUDIT_EVENT_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
export const RESTFUL_INTERACTION_SYSTEM = 'http://hl7.org/fhir/restful-interaction';
export const DICOM_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM';
const PARTICIPATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const ACT_REASON_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const SOURCE_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const ENTITY_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/object-role';
const USER_SYSTEM = 'urn:openiomt:user';

/** The observer named in every AuditEvent: the platform that recorded it. */
export const AUDIT_OBSERVER_DISPLAY = 'OpenIoMT platform';

export type AuditEventAgent = {
  type?: CodeableConcept;
  role?: CodeableConcept[];
  who?: Reference;
  requestor: boolean;
  network?: { address?: string; type?: '1' | '2' | '3' | '4' | '5' };
};

export type AuditEventEntity = {
  what?: Reference;
  type?: Coding;
  role?: Coding;
  description?: string;
  /** The search as made, base64 (BALP Query). */
  query?: string;
  detail?: { type: string; valueString: string }[];
};

export type AuditEvent = {
  resourceType: 'AuditEvent';
  id: string;
  type: Coding;
  subtype?: Coding[];
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  recorded: string;
  outcome: '0' | '4' | '8' | '12';
  outcomeDesc?: string;
  purposeOfEvent?: CodeableConcept[];
  agent: AuditEventAgent[];
  source: { observer: Reference; type?: Coding[] };
  entity?: AuditEventEntity[];
};

const REST: Coding = { system: AUDIT_EVENT_TYPE_SYSTEM, code: 'rest', display: 'RESTful Operation' };
const dicom = (code: string, display: string): Coding => ({ system: DICOM_SYSTEM, code, display });
const interaction = (code: string): Coding => ({ system: RESTFUL_INTERACTION_SYSTEM, code });

/** Event type and subtype of each action. */
const KIND: Record<AuditAction, { type: Coding; subtype?: Coding; action: AuditEvent['action'] }> = {
  read: { type: REST, subtype: interaction('read'), action: 'R' },
  search: { type: REST, subtype: interaction('search-type'), action: 'E' },
  create: { type: REST, subtype: interaction('create'), action: 'C' },
  update: { type: REST, subtype: interaction('update'), action: 'U' },
  delete: { type: REST, subtype: interaction('delete'), action: 'D' },
  export: { type: dicom('110106', 'Export'), action: 'R' },
  act: { type: REST, subtype: interaction('operation'), action: 'E' },
  denied: { type: REST, action: 'E' },
  'break-glass': {
    type: dicom('110113', 'Security Alert'),
    subtype: dicom('110127', 'Emergency Override Started'),
    action: 'E',
  },
  login: { type: dicom('110114', 'User Authentication'), subtype: dicom('110122', 'Login'), action: 'E' },
  logout: { type: dicom('110114', 'User Authentication'), subtype: dicom('110123', 'Logout'), action: 'E' },
};

const OUTCOME: Record<AuditOutcome, AuditEvent['outcome']> = { success: '0', denied: '4', error: '8' };

/** Resource types a record names that are FHIR resources, so they can be referenced as such. */
const FHIR_TYPES = new Set([
  'AuditEvent',
  'Communication',
  'Consent',
  'Device',
  'Flag',
  'Observation',
  'Patient',
  'Practitioner',
  'Provenance',
]);
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function auditEventResource(r: AuditRecord): AuditEvent {
  const kind = KIND[r.action];
  // A refused attempt names what was tried, when the caller said so.
  const tried = r.detail?.interaction;
  const subtype = kind.subtype ?? (typeof tried === 'string' ? interaction(tried) : undefined);
  const entity = entities(r);
  return {
    resourceType: 'AuditEvent',
    id: r.id,
    type: kind.type,
    ...(subtype ? { subtype: [subtype] } : {}),
    action: kind.action,
    recorded: r.at,
    outcome: OUTCOME[r.outcome],
    ...(r.reason ? { outcomeDesc: r.reason } : {}),
    ...(r.action === 'break-glass'
      ? {
          purposeOfEvent: [
            { coding: [{ system: ACT_REASON_SYSTEM, code: 'BTG', display: 'break the glass' }] },
          ],
        }
      : {}),
    agent: agents(r),
    source: {
      observer: { display: AUDIT_OBSERVER_DISPLAY },
      type: [{ system: SOURCE_TYPE_SYSTEM, code: '4', display: 'Application Server' }],
    },
    ...(entity.length > 0 ? { entity } : {}),
  };
}

function agents(r: AuditRecord): AuditEventAgent[] {
  const kind = KIND[r.action].action;
  const participation =
    kind === 'R' || r.action === 'search'
      ? { code: 'IRCP', display: 'information recipient' }
      : kind === 'E'
        ? undefined
        : { code: 'AUT', display: 'author (originator)' };
  const user: AuditEventAgent = {
    ...(participation ? { type: { coding: [{ system: PARTICIPATION_SYSTEM, ...participation }] } } : {}),
    ...(r.actorRole ? { role: [{ text: r.actorRole }] } : {}),
    who: actorReference(r),
    requestor: true,
  };
  const client: AuditEventAgent[] = r.source
    ? [
        {
          type: { coding: [dicom('110153', 'Source Role ID')] },
          who: { display: r.source },
          requestor: false,
          network: { address: r.source, ...(isIpAddress(r.source) ? { type: '2' as const } : {}) },
        },
      ]
    : [];
  const server: AuditEventAgent = {
    type: { coding: [dicom('110152', 'Destination Role ID')] },
    who: { display: AUDIT_OBSERVER_DISPLAY },
    requestor: false,
  };
  return [user, ...client, server];
}

function actorReference(r: AuditRecord): Reference {
  if (r.actor === 'system') return { display: 'system' };
  if (r.actorRole === 'device')
    return { type: 'Device', identifier: { system: DEVICE_IDENTIFIER_SYSTEM, value: r.actor } };
  return { identifier: { system: USER_SYSTEM, value: r.actor } };
}

function entities(r: AuditRecord): AuditEventEntity[] {
  const out: AuditEventEntity[] = [];
  const details = Object.entries(r.detail ?? {})
    // FHIR strings are never empty: an empty key is left out, an empty value written as JSON ("").
    .filter(([k]) => k !== 'query' && k !== '')
    .map(([type, v]) => ({ type, valueString: typeof v === 'string' && v !== '' ? v : canonicalJson(v) }));
  const isPatientItself = r.resourceType === 'Patient' && r.resourceId === r.patientId;
  if (r.resourceType && !isPatientItself) {
    const query = r.detail?.query;
    out.push({
      ...(r.resourceId ? { what: resourceReference(r.resourceType, r.resourceId) } : {}),
      type: { system: ENTITY_TYPE_SYSTEM, code: '2', display: 'System Object' },
      role:
        r.action === 'search'
          ? { system: OBJECT_ROLE_SYSTEM, code: '24', display: 'Query' }
          : { system: OBJECT_ROLE_SYSTEM, code: '4', display: 'Domain Resource' },
      description: r.resourceType,
      ...(typeof query === 'string' ? { query: Buffer.from(query, 'utf8').toString('base64') } : {}),
      ...(details.length > 0 ? { detail: details } : {}),
    });
  }
  if (r.patientId) {
    out.push({
      what: { reference: `Patient/${r.patientId}` },
      type: { system: ENTITY_TYPE_SYSTEM, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE_SYSTEM, code: '1', display: 'Patient' },
      ...(isPatientItself && details.length > 0 ? { detail: details } : {}),
    });
  }
  return out;
}

/** A FHIR reference for FHIR resources; an identifier in the platform's namespace for other things. */
function resourceReference(type: string, id: string): Reference {
  if (FHIR_TYPES.has(type) && FHIR_ID.test(id)) return { reference: `${type}/${id}` };
  return { identifier: { system: `urn:openiomt:${type.toLowerCase()}`, value: id } };
}

const IPV4 = /^(\d{1,3})(\.\d{1,3}){3}$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;
const isIpAddress = (s: string): boolean => IPV4.test(s) || (s.includes(':') && IPV6.test(s));
