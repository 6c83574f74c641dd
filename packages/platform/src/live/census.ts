/**
 * `GET /api/v1/census`: the ward overview of a live dashboard, one row per patient the caller may see
 * (their care teams' patients, a caregiver's granted ones, their own; every registered patient for a
 * service, at most 1000) whose vital signs the policy lets them read. Each row has the NEWS2, the latest
 * numeric vital signs of the last 24 h, the count of open alarms by priority, and the assigned devices with
 * their status. Rows are sorted most urgent first: highest open alarm priority, then NEWS2 total, then id.
 *
 * The census is recorded as one audit 'search' event with a count (a row per patient would flood the log
 * every time a dashboard refreshes); what each patient's record discloses is in the stream and trend reads.
 */
import type { Alarm, News2Band, Subject } from '@openiomt/core';
import type { FastifyInstance } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import type { AlarmService } from '../alarms/service.ts';
import { adminAccess } from '../audit/http-events.ts';
import type { ClinicalRules } from '../rules/engine.ts';
import type { Store } from '../store/types.ts';
import { mapLimit } from './map-limit.ts';
import { type DeviceLiveStatus, deviceLiveStatus, news2Summary } from './messages.ts';
import { devicesOfPatients, livePatients, type PatientDevice } from './patient-devices.ts';
import type { TrendRecorder } from './trend-recorder.ts';

export const MAX_CENSUS_PATIENTS = 1000;
const VITALS_WINDOW_MS = 24 * 3_600_000;
/** Patients worked on at once (each asks the policy and the store a few times). */
const CONCURRENCY = 8;

export interface CensusRow {
  readonly patientId: string;
  readonly displayName?: string;
  readonly news2?: {
    readonly total: number;
    readonly band: News2Band;
    readonly complete: boolean;
    readonly missing: string[];
    /** The newest measurement time among the scored parameters (ISO). */
    readonly at: string;
  };
  readonly vitals: Record<string, { value: number; unit?: string; at: string }>;
  readonly alarms: { high: number; medium: number; low: number; total: number };
  readonly devices: {
    readonly id: string;
    readonly kind: string;
    readonly lastSeenAt?: string;
    readonly expectedIntervalS: number;
    readonly battery?: number;
    readonly firmware?: string;
    readonly status: DeviceLiveStatus;
  }[];
}

export interface CensusDeps {
  readonly store: Store;
  readonly guard: AccessGuard;
  readonly alarms: AlarmService;
  readonly rules: ClinicalRules;
  readonly trends: TrendRecorder;
  readonly now?: () => number;
}

export function censusRoute(app: FastifyInstance, deps: CensusDeps): void {
  app.get('/api/v1/census', async (req) => {
    const subject = await deps.guard.subject(req);
    const now = (deps.now ?? Date.now)();
    const items = await census(subject, deps, now);
    await deps.store.audit.record(
      adminAccess(req, subject, {
        action: 'search',
        resourceType: 'Observation',
        detail: { query: 'census', count: items.length },
      }),
    );
    return { items, generatedAt: new Date(now).toISOString() };
  });
}

/** The census rows the subject may see, most urgent first. */
export async function census(subject: Subject, deps: CensusDeps, now: number): Promise<CensusRow[]> {
  const { store, guard } = deps;
  const decide = guard.decider(subject);
  const visible = await guard.patientsVisibleTo(subject);
  const candidates = await livePatients(store.db, visible, MAX_CENSUS_PATIENTS);
  const allowed = (
    await mapLimit(candidates, CONCURRENCY, async (patientId) => {
      const d = await decide({
        action: 'read',
        resourceType: 'Observation',
        patientId,
        category: 'vital-signs',
      });
      return d.allow ? patientId : undefined;
    })
  ).filter((p): p is string => p !== undefined);

  const devices = new Map<string, PatientDevice[]>();
  for (const d of await devicesOfPatients(store.db, allowed, now)) {
    const list = devices.get(d.patientId) ?? [];
    list.push(d);
    devices.set(d.patientId, list);
  }
  const openAlarms = new Map<string, Alarm[]>();
  for (const a of deps.alarms.openAlarms()) {
    if (a.state === 'resolved') continue;
    const list = openAlarms.get(a.patientId) ?? [];
    list.push(a);
    openAlarms.set(a.patientId, list);
  }

  const rows = await mapLimit(allowed, CONCURRENCY, async (patientId): Promise<CensusRow> => {
    const may = async (resourceType: 'Patient' | 'Flag') =>
      (await decide({ action: 'read', resourceType, patientId })).allow;
    const [showName, showAlarms, score, latest] = await Promise.all([
      may('Patient'),
      may('Flag'),
      // The last score known, without waiting behind the patient's queued readings.
      deps.rules.news2(patientId, { wait: false }),
      deps.trends.latest(patientId, now - VITALS_WINDOW_MS),
    ]);
    const displayName = showName ? (await store.patients.get(patientId))?.displayName : undefined;
    const vitals: CensusRow['vitals'] = {};
    for (const [code, v] of Object.entries(latest))
      vitals[code] = { value: v.value, ...(v.unit ? { unit: v.unit } : {}), at: iso(v.at) };
    const measured = score ? Object.values(score.measuredAt).filter((t) => t !== undefined) : [];
    return {
      patientId,
      ...(displayName ? { displayName } : {}),
      ...(score
        ? {
            news2: {
              ...news2Summary(score),
              at: iso(measured.length > 0 ? Math.max(...measured) : now),
            },
          }
        : {}),
      vitals,
      // A patient who withheld alarms from this user shows none rather than a count.
      alarms: countAlarms(showAlarms ? (openAlarms.get(patientId) ?? []) : []),
      devices: (devices.get(patientId) ?? []).map((d) => ({
        id: d.id,
        kind: d.kind,
        ...(d.lastSeenAt === undefined ? {} : { lastSeenAt: iso(d.lastSeenAt) }),
        expectedIntervalS: d.expectedIntervalS,
        ...(d.battery === undefined ? {} : { battery: d.battery }),
        ...(d.firmware === undefined ? {} : { firmware: d.firmware }),
        status: deviceLiveStatus(d.lastSeenAt, d.expectedIntervalS, now, d.quarantined),
      })),
    };
  });
  return rows.sort(byUrgency);
}

function countAlarms(alarms: readonly Alarm[]): CensusRow['alarms'] {
  const c = { high: 0, medium: 0, low: 0, total: 0 };
  for (const a of alarms) {
    c[a.priority]++;
    c.total++;
  }
  return c;
}

const topPriority = (a: CensusRow['alarms']) => (a.high > 0 ? 3 : a.medium > 0 ? 2 : a.low > 0 ? 1 : 0);

/** Highest open alarm priority first, then the higher NEWS2 total, then patient id. */
export function byUrgency(a: CensusRow, b: CensusRow): number {
  return (
    topPriority(b.alarms) - topPriority(a.alarms) ||
    (b.news2?.total ?? -1) - (a.news2?.total ?? -1) ||
    (a.patientId < b.patientId ? -1 : a.patientId > b.patientId ? 1 : 0)
  );
}

const iso = (t: number) => new Date(t).toISOString();
