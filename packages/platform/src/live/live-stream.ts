/**
 * The live stream of a clinician dashboard: `GET /api/v1/live?patients=a,b&waveforms=a` upgraded to a
 * WebSocket. After a `hello`, the client gets each stored reading's numeric vital signs, each derived
 * measurement, each NEWS2 change, the waveforms of at most four patients, and device status changes.
 *
 * Access is decided before the upgrade, so a refusal is a plain 401/403 problem response. Each patient must
 * be one the caller may see; a patient whose consent withholds vital signs from the caller is still
 * watched (device status only) and listed in `hello.withheld`. Each waveform patient must allow waveforms.
 * What is disclosed is recorded in the audit log, one event per patient, before the upgrade. A client that
 * cannot keep up (4 MiB unsent) is closed with 1013; it reconnects and reloads the census.
 * Access is checked again every `rescopeMs` (15 s) while the stream is open: a patient the caller may no
 * longer see (removed from the care team, consent withdrawn) stops being sent at once, and a stream whose
 * session ended is closed (1008). Access is only ever narrowed here; more patients need a new stream.
 */
import type { Subject } from '@openiomt/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessGuard } from '../access/guard.ts';
import { adminAccess } from '../audit/http-events.ts';
import type { InProcessBus } from '../bus/bus.ts';
import type { Store } from '../store/types.ts';
import { LiveHub } from './live-hub.ts';
import { mapLimit } from './map-limit.ts';
import { devicesOfPatients, type PatientDevice } from './patient-devices.ts';
import { parseLiveQuery } from './query.ts';

const PING_MS = 30_000;
const RESCOPE_MS = 15_000;

interface Admitted {
  readonly patients: readonly string[];
  readonly waveforms: readonly string[];
  readonly vitals: ReadonlySet<string>;
  readonly devices: readonly PatientDevice[];
}

export function liveStreamRoute(
  app: FastifyInstance,
  deps: { bus: InProcessBus; store: Store; guard: AccessGuard; now?: () => number; rescopeMs?: number },
): void {
  const now = deps.now ?? Date.now;
  const hub = new LiveHub(deps.bus, deps.store, now);
  app.addHook('onClose', async () => hub.close());

  app.register(async (ws) => {
    const admitted = new WeakMap<object, Admitted>();
    ws.addHook('preValidation', async (req) => {
      admitted.set(req, await admit(req, deps, now()));
    });
    ws.get('/api/v1/live', { websocket: true }, (socket, req) => {
      const a = admitted.get(req);
      if (!a) {
        socket.close(1008, 'not admitted');
        return;
      }
      const vitals = new Set(a.vitals);
      const waveforms = new Set(a.waveforms);
      const client = { socket, patients: new Set(a.patients), vitals, waveforms };
      const ping = setInterval(() => socket.ping(), PING_MS);
      ping.unref();
      const rescope = setInterval(() => {
        narrow(req, deps.guard, vitals, waveforms).catch(() => socket.close(1008, 'access ended: reconnect'));
      }, deps.rescopeMs ?? RESCOPE_MS);
      rescope.unref();
      socket.on('close', () => {
        clearInterval(ping);
        clearInterval(rescope);
        hub.detach(client);
      });
      socket.on('error', () => socket.terminate());
      const withheld = a.patients.filter((p) => !a.vitals.has(p));
      hub.attach(
        client,
        { type: 'hello', patients: a.patients, waveforms: a.waveforms, withheld },
        a.devices,
      );
    });
  });
}

const vitalsAsk = (patientId: string, category: 'vital-signs' | 'waveforms' = 'vital-signs') => ({
  action: 'read' as const,
  resourceType: 'Observation' as const,
  patientId,
  category,
});

/** Drops the patients whose vital signs or waveforms the caller may no longer see (throws: session over). */
async function narrow(
  req: FastifyRequest,
  guard: AccessGuard,
  vitals: Set<string>,
  waveforms: Set<string>,
): Promise<void> {
  const subject = await guard.subject(req);
  for (const [set, category] of [
    [vitals, 'vital-signs'],
    [waveforms, 'waveforms'],
  ] as const) {
    const ids = [...set];
    const decisions = await mapLimit(ids, 8, (p) => guard.decide(subject, vitalsAsk(p, category)));
    ids.forEach((p, i) => {
      if (!decisions[i]?.allow) set.delete(p);
    });
  }
}

/** Who may watch what: 401 without credentials, 400 for bad parameters, 403 for a patient not theirs. */
async function admit(
  req: FastifyRequest,
  deps: { store: Store; guard: AccessGuard },
  now: number,
): Promise<Admitted> {
  const { guard, store } = deps;
  const subject = await guard.subject(req);
  const q = parseLiveQuery(req.query as Record<string, unknown>);
  const decisions = await mapLimit(q.patients, 8, (p) => guard.decide(subject, vitalsAsk(p)));
  const vitals = new Set(q.patients.filter((_, i) => decisions[i]?.allow));
  const refused = q.patients.filter((p) => !vitals.has(p));
  if (refused.length > 0) {
    const visible = await guard.patientsVisibleTo(subject);
    // Not theirs at all: asked through check, so the refusal is a recorded 403 with its reason.
    const stranger = refused.find((p) => visible !== 'all' && !visible.has(p));
    if (stranger !== undefined) await guard.check(req, vitalsAsk(stranger));
  }
  for (const p of q.waveforms) await guard.check(req, { ...vitalsAsk(p), category: 'waveforms' });
  await store.audit.recordAll(auditEvents(req, subject, q.patients, vitals, new Set(q.waveforms)));
  const devices = await devicesOfPatients(store.db, q.patients, now);
  return { patients: q.patients, waveforms: q.waveforms, vitals, devices };
}

/** One read event per patient whose observations the stream discloses, naming the categories. */
function auditEvents(
  req: FastifyRequest,
  subject: Subject,
  patients: readonly string[],
  vitals: ReadonlySet<string>,
  waveforms: ReadonlySet<string>,
) {
  return patients
    .map((patientId) => ({
      patientId,
      categories: [
        ...(vitals.has(patientId) ? ['vital-signs'] : []),
        ...(waveforms.has(patientId) ? ['waveforms'] : []),
      ],
    }))
    .filter((p) => p.categories.length > 0)
    .map((p) =>
      adminAccess(req, subject, {
        action: 'read',
        resourceType: 'Observation',
        patientId: p.patientId,
        detail: { query: 'live', categories: p.categories },
      }),
    );
}
