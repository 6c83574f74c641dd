/**
 * The server side of the live clinician dashboard (docs/http-api.md, "Live dashboard API"): the census,
 * trend series and the live WebSocket stream. The trend recorder is started with the platform, before
 * ingest, so no reading is missed.
 */
import type { FastifyInstance } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import type { AlarmService } from '../alarms/service.ts';
import type { InProcessBus } from '../bus/bus.ts';
import type { ClinicalRules } from '../rules/engine.ts';
import type { Store } from '../store/types.ts';
import { censusRoute } from './census.ts';
import { liveStreamRoute } from './live-stream.ts';
import type { TrendRecorder } from './trend-recorder.ts';
import { trendRoutes } from './trend-routes.ts';

export { TrendRecorder } from './trend-recorder.ts';

export function liveRoutes(
  app: FastifyInstance,
  deps: {
    store: Store;
    bus: InProcessBus;
    guard: AccessGuard;
    alarms: AlarmService;
    rules: ClinicalRules;
    trends: TrendRecorder;
    /** How often open live streams re-check access (default 15 s; tests shorten it). */
    rescopeMs?: number;
  },
): void {
  censusRoute(app, deps);
  trendRoutes(app, deps);
  liveStreamRoute(app, deps);
}
