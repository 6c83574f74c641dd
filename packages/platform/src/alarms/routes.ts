/**
 * The clinical API for alarms: list and read alarms with their audit trail, act on them (acknowledge,
 * assign, snooze, escalate, resolve), read a patient's NEWS2, and set a patient's alarm thresholds. Every
 * route asks the access policy (care team, consent, ...); the caller's user id is the actor recorded on
 * every transition.
 */
import {
  type AlarmEvent,
  DEFAULT_THRESHOLDS,
  isVitalCode,
  type ThresholdRule,
  validateThresholdRule,
} from '@openiomt/core';
import type { FastifyInstance } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { bodyObject, listQuery, optionalInt, optionalString, requiredString } from '../http/body.ts';
import { badRequest, HttpProblem, notFound } from '../http/problem.ts';
import type { ClinicalRules } from '../rules/engine.ts';
import type { Store } from '../store/types.ts';
import type { AlarmService } from './service.ts';
import { settingsChangedEvent } from './settings-audit.ts';

export interface AlarmRouteDeps {
  readonly store: Store;
  readonly alarms: AlarmService;
  readonly rules: ClinicalRules;
  readonly guard: AccessGuard;
}

const STATES = ['open', 'active', 'acknowledged', 'resolved'] as const;
const ACTIONS = ['acknowledge', 'assign', 'snooze', 'escalate', 'resolve'] as const;
type Action = (typeof ACTIONS)[number];
const PAST: Record<Action, string> = {
  acknowledge: 'acknowledged',
  assign: 'assigned',
  snooze: 'snoozed',
  escalate: 'escalated',
  resolve: 'resolved',
};

export function alarmRoutes(app: FastifyInstance, deps: AlarmRouteDeps): void {
  const { store, alarms, rules, guard } = deps;

  app.get('/api/v1/alarms', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const state = q.state;
    if (state !== undefined && !(STATES as readonly string[]).includes(state))
      throw badRequest(`state must be one of ${STATES.join(', ')}`, '/state');
    const page = listQuery(q);
    const scope = await guard.searchScope(req, { resourceType: 'Flag' }, q.patient || undefined);
    return store.alarms.list({
      ...(scope.patientId ? { patientId: scope.patientId } : {}),
      ...(scope.patientIds ? { patientIds: scope.patientIds } : {}),
      ...(state ? { state: state as (typeof STATES)[number] } : {}),
      ...page,
    });
  });

  app.get<{ Params: { id: string } }>('/api/v1/alarms/:id', async (req) => {
    const found = await store.alarms.get(req.params.id);
    if (!found) throw notFound(`no alarm ${req.params.id}`);
    await guard.check(req, { action: 'read', resourceType: 'Flag', patientId: found.alarm.patientId });
    const [transitions, notifications] = await Promise.all([
      store.alarms.transitions(req.params.id),
      store.alarms.notifications({ alarmId: req.params.id }),
    ]);
    return { ...found.alarm, transitions, notifications: notifications.items };
  });

  app.post<{ Params: { id: string; action: string } }>('/api/v1/alarms/:id/:action', async (req) => {
    const action = req.params.action;
    if (!(ACTIONS as readonly string[]).includes(action))
      throw notFound(`no action ${action}; use one of ${ACTIONS.join(', ')}`);
    const found = await store.alarms.get(req.params.id);
    if (!found) throw notFound(`no alarm ${req.params.id}`);
    const subject = await guard.check(req, {
      action: 'act',
      resourceType: 'Flag',
      patientId: found.alarm.patientId,
    });
    const event = actionEvent(action as Action, req.body ?? {}, subject.userId);
    if (event.type === 'assign') await checkAssignee(deps, event.assignee, found.alarm.patientId);
    const r = await alarms.act(req.params.id, event);
    await store.audit.record({
      action: 'act',
      actor: subject.userId,
      actorRole: subject.kind === 'service' ? 'service' : subject.roles.join(' '),
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
    await guard.check(req, { action: 'read', resourceType: 'Observation', patientId: req.params.id });
    if (!(await store.patients.get(req.params.id))) throw notFound(`no patient ${req.params.id}`);
    const score = await rules.news2(req.params.id);
    // One shape whether or not a score exists yet, so a client reads `score` and checks it for null.
    return score
      ? { patientId: req.params.id, score }
      : { patientId: req.params.id, score: null, detail: 'no NEWS2 parameter received since start' };
  });

  app.get<{ Params: { id: string } }>('/api/v1/patients/:id/alarm-settings', async (req) => {
    await guard.check(req, { action: 'read', resourceType: 'AlarmSettings', patientId: req.params.id });
    if (!(await store.patients.get(req.params.id))) throw notFound(`no patient ${req.params.id}`);
    const s = await store.alarmSettings.get(req.params.id);
    return {
      patientId: req.params.id,
      thresholds: s?.thresholds ?? [],
      spo2Scale2: s?.spo2Scale2 ?? false,
      defaults: DEFAULT_THRESHOLDS,
      ...(s ? { updatedAt: s.updatedAt, updatedBy: s.updatedBy } : {}),
    };
  });

  app.put<{ Params: { id: string } }>('/api/v1/patients/:id/alarm-settings', async (req) => {
    const subject = await guard.check(req, {
      action: 'update',
      resourceType: 'AlarmSettings',
      patientId: req.params.id,
    });
    const b = bodyObject(req.body);
    const thresholds = parseThresholds(b.thresholds);
    const scale2 = b.spo2Scale2;
    if (scale2 !== undefined && typeof scale2 !== 'boolean')
      throw badRequest('spo2Scale2 must be true or false', '/spo2Scale2');
    const before = await store.alarmSettings.get(req.params.id);
    const saved = await store.alarmSettings.put({
      patientId: req.params.id,
      thresholds,
      spo2Scale2: scale2 === true,
      updatedBy: subject.userId,
    });
    await rules.settingsChanged(req.params.id);
    // Recorded once the new limits are in force, so a failing audit write never leaves the monitor on old ones.
    await store.audit.record(settingsChangedEvent(req, subject, req.params.id, before, saved));
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

function actionEvent(action: Action, body: unknown, by: string): Exclude<AlarmEvent, { type: 'tick' }> {
  const b = bodyObject(body);
  const reason = optionalString(b, 'reason', 500) ?? `${PAST[action]} by ${by}`;
  switch (action) {
    case 'assign':
      return { type: 'assign', by, reason, assignee: requiredString(b, 'assignee') };
    case 'snooze': {
      const seconds = optionalInt(b, 'durationS', 1, 24 * 3600);
      if (seconds === undefined) throw badRequest('durationS is required (seconds)', '/durationS');
      return { type: 'snooze', by, reason, durationMs: seconds * 1000 };
    }
    default:
      return { type: action, by, reason };
  }
}

const THRESHOLD_KEYS = new Set([
  'vital',
  'direction',
  'limit',
  'hysteresis',
  'priority',
  'forMs',
  'consecutive',
  'clearConsecutive',
]);

/** A patient's threshold overrides, each checked; the refusal names the element at fault. */
export function parseThresholds(raw: unknown): ThresholdRule[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > 64)
    throw badRequest('thresholds must be an array of at most 64 rules', '/thresholds');
  const seen = new Set<string>();
  return raw.map((r, i) => {
    const at = `/thresholds/${i}`;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw badRequest('must be an object', at);
    const o = r as Record<string, unknown>;
    const extra = Object.keys(o).find((k) => !THRESHOLD_KEYS.has(k));
    if (extra) throw badRequest(`unknown property ${extra}`, `${at}/${extra}`);
    if (typeof o.vital !== 'string' || !isVitalCode(o.vital))
      throw badRequest('vital must be a vital-sign code of the catalogue', `${at}/vital`);
    if (o.direction !== 'high' && o.direction !== 'low')
      throw badRequest('direction must be high or low', `${at}/direction`);
    if (o.priority !== 'low' && o.priority !== 'medium' && o.priority !== 'high')
      throw badRequest('priority must be low, medium or high', `${at}/priority`);
    const num = (k: string) => {
      const v = o[k];
      if (v !== undefined && typeof v !== 'number') throw badRequest(`${k} must be a number`, `${at}/${k}`);
      return v as number | undefined;
    };
    const rule: ThresholdRule = {
      vital: o.vital,
      direction: o.direction,
      priority: o.priority,
      limit: num('limit') ?? Number.NaN,
      hysteresis: num('hysteresis') ?? 0,
      ...optional('forMs', num('forMs')),
      ...optional('consecutive', num('consecutive')),
      ...optional('clearConsecutive', num('clearConsecutive')),
    };
    const bad = validateThresholdRule(rule);
    if (bad) throw badRequest(bad, `${at}/${bad.split(' ')[0]}`);
    const key = `${rule.vital}:${rule.direction}`;
    if (seen.has(key)) throw badRequest(`a second ${key} rule`, at);
    seen.add(key);
    return rule;
  });
}

const optional = <K extends string>(k: K, v: number | undefined) =>
  (v === undefined ? {} : { [k]: v }) as Partial<Record<K, number>>;
