/**
 * The platform's HTTP side: the Fastify app with its WebSocket plugin, OAuth 2 / SMART on FHIR, who is
 * asking (identity) and what they may see (the access guard), then every route: devices, people, admin,
 * audit, FHIR, alarms, the live dashboard, the portal, webhooks and the web app. platform.ts makes the parts
 * these routes serve, and opens the listeners.
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { AccessGuard } from './access/guard.ts';
import { accessRoutes } from './access/routes.ts';
import { adminRoutes } from './admin/routes.ts';
import type { DeviceAdmin } from './admin/service.ts';
import { alarmRoutes } from './alarms/routes.ts';
import type { AlarmService } from './alarms/service.ts';
import type { AuditFiles } from './audit/audit-files.ts';
import { roleOf } from './audit/http-events.ts';
import { auditRoutes } from './audit/routes.ts';
import type { InProcessBus } from './bus/bus.ts';
import type { PlatformConfig } from './config/config.ts';
import { fhirAlarmRoutes } from './fhir/alarm-routes.ts';
import { fhirRoutes } from './fhir/routes.ts';
import { createHttpApp } from './http/app.ts';
import { registerCors } from './http/cors.ts';
import { healthRoutes } from './http/health.ts';
import type { AccountAdmin } from './identity/accounts.ts';
import { peopleRoutes } from './identity/people-routes.ts';
import { identityRoutes } from './identity/routes.ts';
import type { Enrolment } from './ingest/enrolment.ts';
import { deviceRoutes } from './ingest/http-routes.ts';
import type { IngestPipeline } from './ingest/pipeline.ts';
import { liveRoutes, type TrendRecorder } from './live/index.ts';
import type { Logger } from './log.ts';
import { alarmStreamRoute } from './notify/alarm-stream.ts';
import type { WebhookDeliverer } from './notify/webhook-deliverer.ts';
import { registerWebhooks } from './notify/webhook-routes.ts';
import { type OAuthServer, prepareOAuth } from './oauth/index.ts';
import { portalRoutes } from './portal/routes.ts';
import type { ClinicalRules } from './rules/engine.ts';
import type { Store } from './store/types.ts';
import { startSubscriptions } from './subscriptions/index.ts';
import { webAppRoutes } from './web/routes.ts';

/** What the routes serve, made by platform.ts. */
export interface HttpParts {
  readonly config: PlatformConfig;
  readonly log: Logger;
  readonly tls: { cert: Buffer; key: Buffer } | undefined;
  /** How often open alarm and live streams re-check who may see what (their default when absent). */
  readonly streamRescopeMs: number | undefined;
  readonly store: Store;
  readonly bus: InProcessBus;
  readonly pipeline: IngestPipeline;
  readonly enrolment: Enrolment;
  readonly devices: DeviceAdmin;
  readonly alarms: AlarmService;
  readonly rules: ClinicalRules;
  readonly trends: TrendRecorder;
  readonly webhooks: WebhookDeliverer;
  readonly auditPaths: AuditFiles;
  /** The health check's: whether the MQTT broker is listening now. */
  brokerListening(): boolean;
  /** The first start: the first administrator's account is made too. */
  readonly firstStart: boolean;
}

export interface PlatformHttp {
  readonly http: FastifyInstance;
  readonly accounts: AccountAdmin;
  /** First start: the account whose one-time set-up link is printed with the administrator token. */
  readonly firstAdministrator: { readonly setupPath: string } | undefined;
  /** FHIR Subscriptions: started once the platform listens, closed with it. */
  readonly subscriptions: Awaited<ReturnType<typeof startSubscriptions>>;
  /** Started with the public base URL once it is known (after listen). */
  readonly oauth: OAuthServer;
}

/** Makes the HTTP app and registers every route on it; it does not listen yet. */
export async function buildHttp(parts: HttpParts): Promise<PlatformHttp> {
  const { config, log, tls, streamRescopeMs, store, bus, pipeline, enrolment, devices } = parts;
  const { alarms, rules, trends, webhooks, auditPaths } = parts;
  const http = await createHttpApp({ logger: log, ...(tls ? { tls } : {}) });
  await http.register(websocket, {
    options: { maxPayload: 64 * 1024 },
    // The plugin's own preClose runs before the routes' onClose hooks and closes every socket without a
    // code (clients see 1005). Closing with 1001 here tells the alarm and live streams' clients that the
    // server is going away, so they reconnect to the next one (docs/alarms.md, docs/http-api.md).
    preClose(done) {
      for (const client of this.websocketServer.clients) client.close(1001, 'server shutting down');
      this.websocketServer.close(() => done());
    },
  });
  healthRoutes(http, { store, brokerListening: parts.brokerListening });
  deviceRoutes(http, { pipeline, enrolment, store });
  if (!store.keys) throw new Error('the store has no key service: start it with a master key');
  // OAuth 2 / SMART on FHIR (docs/oauth.md): its keys and token verifier come first, so that `authenticate`
  // also knows the access tokens it issues; the provider itself is made once the URL is known (after listen).
  const oauth = await prepareOAuth({ store, keys: store.keys, dataDir: config.dataDir });
  // Browser SMART apps on other origins: the registered clients' origins and --cors-origin, never cookies.
  registerCors(http, { clients: oauth.clients, configured: config.corsOrigins, log });
  // Who is asking (session cookie, API token or OAuth access token), and what they may do (core's policy).
  const { authenticate, accounts, identity } = identityRoutes(http, {
    store,
    keys: store.keys,
    accessTokens: oauth.verifier,
    ...(config.publicUrl !== undefined ? { publicUrl: config.publicUrl } : {}),
  });
  oauth.routes(http, { identity, resolve: authenticate });
  // The first start also makes the first administrator's account, so the web app can be entered at once:
  // its one-time set-up link is printed with the token (no default password anywhere).
  const firstAdministrator = parts.firstStart
    ? await accounts.create({ username: 'admin', roles: ['administrator'], displayName: 'Administrator' })
    : undefined;
  const guard = new AccessGuard(store, authenticate, {
    // Every refusal is in the audit log (allowed reads are recorded by the routes, with what was disclosed).
    onDecision: async ({ subject, request, decision, source }) => {
      if (decision.allow) return;
      await store.audit.record({
        action: 'denied',
        actor: subject.userId,
        actorRole: roleOf(subject),
        outcome: 'denied',
        resourceType: request.resourceType,
        ...(request.patientId ? { patientId: request.patientId } : {}),
        reason: decision.reason,
        source,
        detail: { action: request.action, ...(request.category ? { category: request.category } : {}) },
      });
    },
  });
  accessRoutes(http, { store, guard, wakeWebhooks: () => webhooks.wake() });
  peopleRoutes(http, { store, resolve: authenticate });
  auditRoutes(http, { store, resolve: authenticate, files: auditPaths });
  adminRoutes(http, { store, devices, guard });
  fhirRoutes(http, { store, guard, bus });
  // FHIR Subscriptions match off the bus (never holding ingest up) and deliver what the owner may read now.
  const subscriptions = await startSubscriptions({ http, store, bus, guard, log });
  fhirAlarmRoutes(http, { store, guard });
  // The patient portal: data export, erasure requests, secure messages with the care team.
  portalRoutes(http, { store, guard });
  alarmRoutes(http, { store, alarms, rules, guard });
  alarmStreamRoute(http, {
    bus,
    alarms,
    guard,
    careTeamPatients: async (id) => {
      const team = await store.access.careTeam(id);
      return team ? new Set(team.patients) : undefined;
    },
    ...(streamRescopeMs ? { rescopeMs: streamRescopeMs } : {}),
  });
  registerWebhooks(http, { store, deliverer: webhooks, resolve: authenticate });
  liveRoutes(http, {
    store,
    bus,
    guard,
    alarms,
    rules,
    trends,
    ...(streamRescopeMs ? { rescopeMs: streamRescopeMs } : {}),
  });
  webAppRoutes(http);
  return { http, accounts, firstAdministrator, subscriptions, oauth };
}
