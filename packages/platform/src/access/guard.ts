/**
 * Enforcement of the access policy at the HTTP edge: resolves who is asking, gathers the facts the policy
 * needs (care teams, caregiver grants, the patient's consent, an open break-glass) and asks core's
 * authorize(). A refusal is a 403 that says why, and is recorded (security event; the audit log records it
 * too once it is wired). Searches are narrowed with `patientsVisibleTo`.
 */
import {
  type AccessContext,
  type AccessRequest,
  authorize,
  type Decision,
  type Subject,
} from '@openiomt/core';
import type { FastifyRequest } from 'fastify';
import { HttpProblem, unauthorized } from '../http/problem.ts';
import { checkAdminToken } from '../security/admin-credential.ts';
import type { Store } from '../store/types.ts';

export type SubjectResolver = (req: FastifyRequest) => Promise<Subject | undefined>;

/** Something to tell about a decision (the audit log); it must not throw. */
export type DecisionSink = (e: {
  readonly subject: Subject;
  readonly request: Omit<AccessRequest, 'subject'>;
  readonly decision: Decision;
  readonly source: string;
}) => Promise<void>;

interface SharedFacts {
  readonly careTeamPatients: Set<string>;
  readonly grants: Awaited<ReturnType<Store['access']['grantsOfCaregiver']>>;
}

const forbidden = (detail: string) => new HttpProblem({ status: 403, title: 'Forbidden', detail });

export class AccessGuard {
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly resolve: SubjectResolver,
    private readonly options: { now?: () => number; onDecision?: DecisionSink } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The caller, or 401. */
  async subject(req: FastifyRequest): Promise<Subject> {
    const s = await this.resolve(req);
    if (!s) throw unauthorized();
    return s;
  }

  /** Allows or throws 403; returns the subject and the decision's basis. */
  async check(req: FastifyRequest, request: Omit<AccessRequest, 'subject'>): Promise<Subject> {
    const subject = await this.subject(req);
    const decision = await this.decide(subject, request);
    await this.options.onDecision?.({ subject, request, decision, source: req.ip });
    if (!decision.allow) {
      await this.store.securityEvents.add({
        kind: 'access-denied',
        source: req.ip,
        detail: `${subject.userId}: ${request.action} ${request.resourceType}: ${decision.reason}`,
      });
      throw forbidden(decision.reason);
    }
    return subject;
  }

  /** The decision for a subject, with the facts gathered from the store. */
  async decide(subject: Subject, request: Omit<AccessRequest, 'subject'>): Promise<Decision> {
    return authorize({ ...request, subject }, await this.context(subject, request.patientId));
  }

  /**
   * The scope of a search: one named patient (checked: 403 when not allowed), or, without one, every patient
   * the subject may search this resource of (`{}` for a service: all). The caller passes it to the store.
   */
  async searchScope(
    req: FastifyRequest,
    request: Omit<AccessRequest, 'subject' | 'patientId' | 'action'>,
    patientId: string | undefined,
  ): Promise<{ subject: Subject; patientId?: string; patientIds?: string[] }> {
    if (patientId !== undefined) {
      const subject = await this.check(req, { ...request, action: 'search', patientId });
      return { subject, patientId };
    }
    const subject = await this.subject(req);
    const visible = await this.patientsVisibleTo(subject);
    if (visible === 'all') return { subject };
    const allowed: string[] = [];
    for (const p of visible)
      if ((await this.decide(subject, { ...request, action: 'search', patientId: p })).allow) allowed.push(p);
    return { subject, patientIds: allowed };
  }

  /**
   * The patients whose compartment the subject may search in: every patient for a service (its scopes still
   * decide per resource), their own for a patient, granted ones for a caregiver, care-team patients (plus
   * open break-glass) for staff. Each is then checked with the policy (consent may still refuse a category).
   */
  async patientsVisibleTo(subject: Subject): Promise<Set<string> | 'all'> {
    if (subject.kind === 'service') return 'all';
    const out = new Set<string>();
    if (subject.patientId && subject.roles.includes('patient')) out.add(subject.patientId);
    if (subject.roles.includes('caregiver'))
      for (const g of await this.store.access.grantsOfCaregiver(subject.userId)) out.add(g.patientId);
    if (subject.roles.includes('clinician') || subject.roles.includes('nurse'))
      for (const p of await this.store.access.patientsInCareOf(subject.userId)) out.add(p);
    return out;
  }

  /**
   * Decisions for many requests of one subject (a census, an export): the facts that do not depend on the
   * patient are read once, and each patient's consent and break-glass once, however many requests ask.
   */
  decider(subject: Subject): (request: Omit<AccessRequest, 'subject'>) => Promise<Decision> {
    const contexts = new Map<string, Promise<AccessContext>>();
    const shared = this.sharedFacts(subject);
    return async (request) => {
      const key = request.patientId ?? '';
      let context = contexts.get(key);
      if (!context) {
        context = this.context(subject, request.patientId, shared);
        contexts.set(key, context);
      }
      return authorize({ ...request, subject }, await context);
    };
  }

  private sharedFacts(subject: Subject): Promise<SharedFacts> {
    const staff = subject.roles.includes('clinician') || subject.roles.includes('nurse');
    return Promise.all([
      staff ? this.store.access.patientsInCareOf(subject.userId) : Promise.resolve(new Set<string>()),
      subject.roles.includes('caregiver')
        ? this.store.access.grantsOfCaregiver(subject.userId)
        : Promise.resolve([]),
    ]).then(([careTeamPatients, grants]) => ({ careTeamPatients, grants }));
  }

  private async context(
    subject: Subject,
    patientId: string | undefined,
    shared?: Promise<SharedFacts>,
  ): Promise<AccessContext> {
    const now = this.now();
    if (subject.kind === 'service' || patientId === undefined)
      return { now, careTeamPatients: new Set(), caregiverGrants: [] };
    const staff = subject.roles.includes('clinician') || subject.roles.includes('nurse');
    const [{ careTeamPatients, grants }, consent, glass] = await Promise.all([
      shared ?? this.sharedFacts(subject),
      this.store.access.consent(patientId),
      staff
        ? this.store.access.breakGlassOf(subject.userId, patientId, new Date(now).toISOString())
        : Promise.resolve(undefined),
    ]);
    return {
      now,
      careTeamPatients,
      caregiverGrants: grants,
      ...(consent ? { consent } : {}),
      ...(glass ? { breakGlass: { patientId, until: Date.parse(glass.until), reason: glass.reason } } : {}),
    };
  }
}

/**
 * Only the administrator API token (a service with every scope), no sessions: for parts tested on their
 * own. The platform resolves subjects with identity's authenticate, which also knows sessions.
 */
export const adminTokenResolver =
  (store: Store): SubjectResolver =>
  async (req) => {
    const name = await checkAdminToken(store, req.headers.authorization);
    return name === undefined
      ? undefined
      : { kind: 'service', userId: name, roles: [], mfa: true, scopes: ['system/*.*'] };
  };
