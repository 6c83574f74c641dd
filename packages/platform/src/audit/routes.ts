/**
 * Reading the audit log over HTTP: the administrator's JSON list (`GET /api/v1/admin/audit`), its
 * verification (`POST /api/v1/admin/audit/verify`, what `openiomt audit verify` checks) and FHIR R4
 * AuditEvent read and search. All need an administrator (a signed-in administrator with a second factor,
 * or the administrator API token), and reading the log is itself recorded in it.
 */
import { auditEventResource, type Subject } from '@openiomt/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NEEDS_ADMINISTRATOR, requireAdministrator } from '../access/administrator.ts';
import { adminTokenResolver, type SubjectResolver } from '../access/guard.ts';
import { FHIR_JSON, outcome, searchCount, searchset } from '../fhir/responses.ts';
import { badRequest, conflict, HttpProblem } from '../http/problem.ts';
import type { Store } from '../store/types.ts';
import { type AuditFiles, readAuditPublicKey, readTreeHeadFile } from './audit-files.ts';
import type { AuditInput, AuditQuery } from './audit-log.ts';
import { actorFields, roleOf } from './http-events.ts';
import { readKeyHistory } from './key-history.ts';
import { verdict, verifyAuditLog } from './verify.ts';

type Query = Record<string, string | string[] | undefined>;

export function auditRoutes(
  app: FastifyInstance,
  deps: {
    store: Store;
    resolve?: SubjectResolver;
    /** The tree-heads file and public key the log is verified against (absent: verification is off). */
    files?: Pick<AuditFiles, 'treeHeadsFile' | 'publicKeyFile' | 'keyHistoryFile'>;
  },
): void {
  const { store } = deps;
  /** One verification at a time: it reads the whole log in one transaction. */
  let verifying = false;
  const resolve = deps.resolve ?? adminTokenResolver(store);
  const actor = new WeakMap<FastifyRequest, Subject>();

  /**
   * Who asked (an administrator), or throws 401/403 after recording the refusal: a security event (as on
   * every administrator route) and a 'denied' record in the log itself.
   */
  const authenticate = async (req: FastifyRequest, interaction: string): Promise<void> => {
    let subject: Subject | undefined;
    try {
      actor.set(req, await requireAdministrator(store, resolve, req));
      return;
    } catch (e) {
      if (e instanceof HttpProblem && e.problem.status === 403) subject = await resolve(req);
      await store.audit.record({
        action: 'denied',
        actor: subject?.userId ?? 'anonymous',
        ...(subject ? { actorRole: roleOf(subject) } : {}),
        outcome: 'denied',
        resourceType: 'AuditEvent',
        reason: subject ? NEEDS_ADMINISTRATOR : 'authentication required',
        source: req.ip,
        detail: { interaction },
      });
      throw e;
    }
  };

  /** What a reader of the log did, recorded before the answer leaves. */
  const readerEvent = (req: FastifyRequest, e: Omit<AuditInput, 'actor' | 'source'>): AuditInput => ({
    ...e,
    ...actorFields(actor.get(req) ?? 'admin'),
    source: req.ip,
    resourceType: 'AuditEvent',
  });

  app.register(async (admin) => {
    admin.addHook('onRequest', async (req) => {
      await authenticate(req, 'search');
    });
    admin.get('/api/v1/admin/audit', async (req) => {
      const q = req.query as Query;
      const query = auditQuery(q);
      const page = await store.audit.list(query);
      await store.audit.record(
        readerEvent(req, {
          action: 'search',
          ...(query.patientId ? { patientId: query.patientId } : {}),
          detail: { query: queryString(req), count: page.items.length },
        }),
      );
      return page;
    });
    admin.post('/api/v1/admin/audit/verify', async (req) => {
      const files = deps.files;
      if (!files)
        throw new HttpProblem({
          status: 503,
          title: 'Service unavailable',
          detail: 'this platform was started without the audit files to verify against',
        });
      if (verifying) throw conflict('a verification of the audit log is running already');
      verifying = true;
      const started = performance.now();
      try {
        const publicKey = await readAuditPublicKey(files.publicKeyFile).catch(() => {
          throw new HttpProblem({
            status: 503,
            title: 'Service unavailable',
            detail: 'the audit public key cannot be read',
          });
        });
        const report = await verifyAuditLog({
          db: store.db,
          heads: await readTreeHeadFile(files.treeHeadsFile),
          publicKey,
          headsSource: files.treeHeadsFile,
          // Tree heads signed before an audit-key rotation are checked against the key chain.
          history: await readKeyHistory(files.keyHistoryFile),
        });
        const seconds = (performance.now() - started) / 1000;
        await store.audit.record(
          readerEvent(req, {
            action: 'read',
            ...(report.ok ? {} : { outcome: 'error' as const, reason: 'verification failed' }),
            detail: {
              query: 'verify',
              ok: report.ok,
              records: report.records,
              problems: report.problems.length,
            },
          }),
        );
        return {
          ok: report.ok,
          // The same text `openiomt audit verify` prints.
          summary: verdict(report, seconds).trimEnd(),
          problems: report.problems,
          warnings: report.warnings,
          records: report.records,
          treeSize: report.treeSize,
          headsChecked: report.headsChecked,
          keyId: report.keyId,
          ...(report.latest
            ? {
                latest: {
                  treeSize: report.latest.treeSize,
                  rootHash: report.latest.rootHash,
                  timestamp: report.latest.timestamp,
                },
              }
            : {}),
          seconds: Number(seconds.toFixed(3)),
        };
      } finally {
        verifying = false;
      }
    });
  });

  app.register(async (fhir) => {
    fhir.addHook('onRequest', async (req, reply) => {
      const interaction = req.routeOptions.url?.endsWith('/:id') ? 'read' : 'search-type';
      try {
        await authenticate(req, interaction);
      } catch (e) {
        if (!(e instanceof HttpProblem) || (e.problem.status !== 401 && e.problem.status !== 403)) throw e;
        const p = e.problem;
        return outcome(reply, p.status, p.status === 401 ? 'login' : 'forbidden', p.detail ?? p.title);
      }
    });
    fhir.get<{ Params: { id: string } }>('/fhir/R4/AuditEvent/:id', async (req, reply) => {
      const r = await store.audit.get(req.params.id);
      await store.audit.record(
        readerEvent(req, {
          action: 'read',
          resourceId: req.params.id,
          ...(r?.patientId ? { patientId: r.patientId } : {}),
          ...(r ? {} : { outcome: 'error', reason: 'not found' }),
        }),
      );
      if (!r) return outcome(reply, 404, 'not-found', `AuditEvent/${req.params.id} is not known`);
      return reply.type(FHIR_JSON).send(auditEventResource(r));
    });
    fhir.get('/fhir/R4/AuditEvent', async (req, reply) => {
      const raw = req.query as Query;
      const repeated = Object.keys(raw).find((k) => k !== 'date' && Array.isArray(raw[k]));
      if (repeated) return outcome(reply, 400, 'invalid', `${repeated} may be given once`, repeated);
      const q = raw as Record<string, string | undefined>;
      const count = searchCount(q._count);
      if (count === null) return outcome(reply, 400, 'invalid', '_count must be 1..1000', '_count');
      const dates = dateRange(raw.date);
      if (dates === null)
        return outcome(reply, 400, 'invalid', 'date must be geYYYY-MM-DD... or leYYYY-MM-DD...', 'date');
      const patientId = q.patient?.replace(/^Patient\//, '');
      const page = await store.audit.list({
        limit: count,
        ...(patientId ? { patientId } : {}),
        ...(q._cursor ? { cursor: q._cursor } : {}),
        ...dates,
      });
      await store.audit.record(
        readerEvent(req, {
          action: 'search',
          ...(patientId ? { patientId } : {}),
          detail: { query: queryString(req), count: page.items.length },
        }),
      );
      const resources = page.items.map(auditEventResource);
      return reply.type(FHIR_JSON).send(searchset(req, 'AuditEvent', resources, page.next));
    });
  });
}

function auditQuery(q: Query): AuditQuery {
  const one = (k: string): string | undefined => {
    const v = q[k];
    if (Array.isArray(v)) throw badRequest(`${k} may be given once`, `/${k}`);
    return v === '' ? undefined : v;
  };
  const limit = one('limit') === undefined ? undefined : Number(one('limit'));
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000))
    throw badRequest('limit must be 1..1000', '/limit');
  const fields = {
    patientId: one('patient'),
    actor: one('actor'),
    action: one('action'),
    from: one('from'),
    to: one('to'),
    cursor: one('cursor'),
    limit,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as AuditQuery;
}

/** The query string as the client sent it (ids only, so fit for the log). */
const queryString = (req: FastifyRequest): string => req.url.split('?')[1] ?? '';

/** `date=geX` and/or `date=leX`, as FHIR search writes a range; null when malformed. */
function dateRange(v: string | string[] | undefined): { from?: string; to?: string } | null {
  const values = Array.isArray(v) ? v : v === undefined ? [] : [v];
  if (values.length > 2) return null;
  const range: { from?: string; to?: string } = {};
  for (const value of values) {
    const m = /^(ge|le|gt|lt)?(\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?)$/.exec(value);
    const ms = m ? Date.parse(m[2] as string) : Number.NaN;
    if (!m || !Number.isFinite(ms)) return null;
    const bound = m[1] === 'le' || m[1] === 'lt' ? 'to' : 'from';
    if (range[bound] !== undefined) return null;
    range[bound] = new Date(ms).toISOString();
  }
  return range;
}
