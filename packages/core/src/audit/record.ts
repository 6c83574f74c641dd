/**
 * Audit records and their canonical encoding as Merkle tree leaves. An audit record says who did what to
 * which resource of which patient, when, from where, and with what outcome. It carries ids, never patient
 * data: names, values and free text about a patient stay out of it.
 *
 * The leaf of record r at position i of the log is the UTF-8 bytes of the canonical JSON of
 *   { "v": 1, "leafIndex": i, ...r }   (absent optional fields omitted, not null)
 * Canonical JSON here (fhir/provenance.ts canonicalJson): object keys sorted by UTF-16 code units at every
 * depth, no white space, strings and numbers as JSON.stringify writes them; this is RFC 8785 (JCS) for the
 * values records hold (finite numbers: the platform refuses others before they are stored). Putting the
 * index in the leaf binds each record to its position, so moving a record is seen at that record.
 */
import { canonicalJson } from '../fhir/provenance.ts';

/** The access policy's actions (access/policy.ts ACTIONS), then events of their own. */
export const AUDIT_ACTIONS = [
  'read',
  'search',
  'create',
  'update',
  'delete',
  'export',
  'act',
  'denied',
  'break-glass',
  'login',
  'logout',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_OUTCOMES = ['success', 'denied', 'error'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** A JSON value as the detail of a record holds it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface AuditRecord {
  readonly id: string;
  /** ISO 8601 instant in UTC with milliseconds. */
  readonly at: string;
  /** A user id, a device id, or 'system'. */
  readonly actor: string;
  readonly actorRole?: string;
  readonly action: AuditAction;
  /** FHIR resource type (or platform thing, e.g. 'Reading') the action was on. */
  readonly resourceType?: string;
  readonly resourceId?: string;
  readonly patientId?: string;
  readonly outcome: AuditOutcome;
  /** Why: the access rule that allowed or refused it, a break-glass justification code, an error class. */
  readonly reason?: string;
  /** Where from: client address or client id. */
  readonly source?: string;
  /** More facts, ids only (e.g. search parameters, counts). */
  readonly detail?: { readonly [key: string]: JsonValue };
}

export const AUDIT_LEAF_VERSION = 1;

/** The leaf bytes of a record at a position of the log. */
export function auditLeaf(record: AuditRecord, leafIndex: number): Uint8Array {
  return Buffer.from(canonicalJson({ v: AUDIT_LEAF_VERSION, leafIndex, ...auditFields(record) }), 'utf8');
}

/** The record's fields as plain JSON, optional ones only when present. */
function auditFields(r: AuditRecord): { [key: string]: JsonValue } {
  const fields: { [key: string]: JsonValue } = {
    id: r.id,
    at: r.at,
    actor: r.actor,
    action: r.action,
    outcome: r.outcome,
  };
  const optional = {
    actorRole: r.actorRole,
    resourceType: r.resourceType,
    resourceId: r.resourceId,
    patientId: r.patientId,
    reason: r.reason,
    source: r.source,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) fields[k] = v;
  if (r.detail !== undefined) fields.detail = r.detail as JsonValue;
  return fields;
}
