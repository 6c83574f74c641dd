/**
 * The clinical API for alarms: list and read alarms with their audit trail, act on them (acknowledge,
 * assign, snooze, escalate, resolve), read a patient's NEWS2, and set a patient's alarm thresholds. Every
 * route asks the access policy (care team, consent, ...); the caller's user id is the actor recorded on
 * every transition.
 */
import { DEFAULT_THRESHOLDS } from '@openiomt/core';
import type { FastifyInstance } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { adminAccess, roleOf } from '../audit/http-events.ts';
import { listQuery } from '../http/body.ts';
import { badRequest, HttpProblem, notFound } from '../http/problem.ts';
import type { ClinicalRules } from '../rules/engine.ts';
import type { Store } from '../store/types.ts';
import { ALARM_ACTIONS, type AlarmAction, actionEvent } from './action-input.ts';
import type { AlarmService } from './service.ts';
import { settingsChangedEvent } from './settings-audit.ts';
import { parseSettingsChange, settingsEtag, settingsIfMatch } from './settings-input.ts';

export interface AlarmRouteDeps {
  readonly store: Store;
  readonly alarms: AlarmService;
  readonly rules: ClinicalRules;
  readonly guard: AccessGuard;
}

const STATES = ['open', 'active', 'acknowledged', 'resolved'] as const;

export function alarmRoutes(app: FastifyInstance, deps: AlarmRouteDeps): void {
  const { store, alarms, rules, guard } = deps;

  app.get('/api/v1/alarms', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const state = q.state;
    if (state !== undefined && !(STATES as readonly string[]).includes(state))
      throw badRequest(`state must be one of ${STATES.join(', ')}`, '/state');
    const page = listQuery(q);
    const scope = await guard.searchScope(req, { resourceType: 'Flag' }, q.patient || undefined);
    const found = await store.alarms.list({
      ...(scope.patientId ? { patientId: scope.patientId } : {}),
      ...(scope.patientIds ? { patientIds: scope.patientIds } : {}),
      ...(state ? { state: state as (typeof STATES)[number] } : {}),
      ...page,
    });
    // One record per patient whose alarms were shown, as for a FHIR Flag search.
    const { subject } = scope;
    const patients = [...new Set(found.items.map((a) => a.patientId))];
    const event = (patientId?: string) =>
      adminAccess(req, subject, {
        action: 'search',
        resourceType: 'Flag',
        ...(patientId ? { patientId } : {}),
        detail: {
          count: found.items.filter((a) => patientId === undefined || a.patientId === patientId).length,
        },
      });
    await store.audit.recordAll(patients.length === 0 ? [event(scope.patientId)] : patients.map(event));
    return found;
  });

  app.get<{ Params: { id: string } }>('/api/v1/alarms/:id', async (req) => {
    // Credentials first: an anonymous caller must not learn which alarm ids exist (404 against 401).
    await guard.subject(req);
    const found = await store.alarms.get(req.params.id);
    if (!found) throw notFound(`no alarm ${req.params.id}`);
    const subject = await guard.check(req, {
      action: 'read',
      resourceType: 'Flag',
      patientId: found.alarm.patientId,
    });
    await store.audit.record(
      adminAccess(req, subject, {
        action: 'read',
        resourceType: 'Flag',
        resourceId: req.params.id,
        patientId: found.alarm.patientId,
      }),
    );
    const [transitions, notifications] = await Promise.all([
      store.alarms.transitions(req.params.id),
      store.alarms.notifications({ alarmId: req.params.id }),
    ]);
    return { ...found.alarm, transitions, notifications: notifications.items };
  });

  app.post<{ Params: { id: string; action: string } }>('/api/v1/alarms/:id/:action', async (req) => {
    const action = req.params.action;
    if (!(ALARM_ACTIONS as readonly string[]).includes(action))
      throw notFound(`no action ${action}; use one of ${ALARM_ACTIONS.join(', ')}`);
    await guard.subject(req);
    const found = await store.alarms.get(req.params.id);
    if (!found) throw notFound(`no alarm ${req.params.id}`);
    const subject = await guard.check(req, {
      action: 'act',
      resourceType: 'Flag',
      patientId: found.alarm.patientId,
    });
    const event = actionEvent(action as AlarmAction, req.body, subject.userId, found.alarm);
    if (event.type === 'assign') await checkAssignee(deps, event.assignee, found.alarm.patientId);
    const r = await alarms.act(req.params.id, event);
    await store.audit.record({
      action: 'act',
      actor: subject.userId,
      actorRole: roleOf(subject),
      outcome: r.ok ? 'success' : 'error',
      resourceType: 'Flag',
      resourceId: req.params.id,
      patientId: found.alarm.patientId,
      source: req.ip,
      detail: { event: event.type },
      ...(r.ok ? {} : { reason: r.reason }),
    });
    if (r.ok) return r.alarm;
    throw new HttpProblem({
      status: r.status,
      title: r.status === 404 ? 'Not found' : 'Conflict',
      detail: r.reason,
    });
  });

  app.get<{ Params: { id: string } }>('/api/v1/patients/:id/news2', async (req) => {
    const subject = await guard.check(req, {
      action: 'read',
      resourceType: 'Observation',
      patientId: req.params.id,
    });
    if (!(await store.patients.get(req.params.id))) throw notFound(`no patient ${req.params.id}`);
    const score = await rules.news2(req.params.id);
    await store.audit.record(
      adminAccess(req, subject, {
        action: 'read',
        resourceType: 'RiskAssessment',
        patientId: req.params.id,
        detail: { score: 'NEWS2' },
      }),
    );
    // One shape whether or not a score exists yet, so a client reads `score` and checks it for null.
    return score
      ? { patientId: req.params.id, score }
      : { patientId: req.params.id, score: null, detail: 'no NEWS2 parameter received since start' };
  });

  app.get<{ Params: { id: string } }>('/api/v1/patients/:id/alarm-settings', async (req, reply) => {
    const subject = await guard.check(req, {
      action: 'read',
      resourceType: 'AlarmSettings',
      patientId: req.params.id,
    });
    if (!(await store.patients.get(req.params.id))) throw notFound(`no patient ${req.params.id}`);
    const s = await store.alarmSettings.get(req.params.id);
    await store.audit.record(
      adminAccess(req, subject, {
        action: 'read',
        resourceType: 'AlarmSettings',
        resourceId: req.params.id,
        patientId: req.params.id,
      }),
    );
    reply.header('etag', settingsEtag(s));
    return {
      patientId: req.params.id,
      thresholds: s?.thresholds ?? [],
      spo2Scale2: s?.spo2Scale2 ?? false,
      defaults: DEFAULT_THRESHOLDS,
      ...(s ? { updatedAt: s.updatedAt, updatedBy: s.updatedBy } : {}),
    };
  });

  app.put<{ Params: { id: string } }>('/api/v1/patients/:id/alarm-settings', async (req, reply) => {
    const subject = await guard.check(req, {
      action: 'update',
      resourceType: 'AlarmSettings',
      patientId: req.params.id,
    });
    const change = parseSettingsChange(req.body);
    const expected = settingsIfMatch(req.headers['if-match']);
    if (!(await store.patients.get(req.params.id))) throw notFound(`no patient ${req.params.id}`);
    const before = await store.alarmSettings.get(req.params.id);
    const saved = await store.alarmSettings.put({
      patientId: req.params.id,
      ...change,
      updatedBy: subject.userId,
      ...(expected === undefined ? {} : { expected }),
    });
    if (!saved) throw await settingsChangedMeanwhile(store, req.params.id);
    await rules.settingsChanged(req.params.id);
    // Recorded once the new limits are in force, so a failing audit write never leaves the monitor on old ones.
    await store.audit.record(settingsChangedEvent(req, subject, req.params.id, before, saved));
    reply.header('etag', settingsEtag(saved));
    return saved;
  });
}

/**
 * An alarm goes only to someone who can answer it: an enabled account that the access policy lets act on
 * this patient's alarms once signed in (care team, consent, break-glass). The refusal does not say which
 * rule failed: a patient's consent choices are not the assigner's to learn.
 */
async function checkAssignee(deps: AlarmRouteDeps, assignee: string, patientId: string): Promise<void> {
  const user = await deps.store.users.get(assignee);
  if (!user || user.disabledAt !== undefined)
    throw badRequest(`no active account has the id ${JSON.stringify(assignee.slice(0, 64))}`, '/assignee');
  const name = user.displayName ?? user.username;
  const decision = await deps.guard.decide(
    {
      kind: 'user',
      userId: user.id,
      roles: user.roles,
      mfa: true,
      ...(user.patientId === undefined ? {} : { patientId: user.patientId }),
    },
    { action: 'act', resourceType: 'Flag', patientId },
  );
  if (!decision.allow)
    throw badRequest(
      `${name} may not act on this patient's alarms (not in their care, or not allowed)`,
      '/assignee',
    );
}

/** 412: the settings a conditional save was based on are no longer the stored ones. */
async function settingsChangedMeanwhile(store: Store, patientId: string): Promise<HttpProblem> {
  const now = await store.alarmSettings.get(patientId);
  const by = now ? ` (saved by ${now.updatedBy} at ${now.updatedAt}, ETag ${settingsEtag(now)})` : '';
  return new HttpProblem({
    status: 412,
    title: 'Precondition failed',
    detail: `the alarm settings changed since they were read${by}: read them again and make your change on what is there now`,
    field: 'If-Match',
  });
}
