/**
 * The live alarm stream for dashboards: `GET /api/v1/alarms/stream` upgraded to a WebSocket. A client
 * gets a snapshot of the open alarms it asked for, then every durable change of them as it happens
 * (published after the commit, so nothing is shown that a restart could take back). `?patient=a,b` limits
 * the stream to those patients, `?careTeam=<id>` to a care team's patients (each must be allowed); without it the stream carries every patient the
 * caller may see (their care teams', a caregiver's granted ones; all for a service).
 * Who may see what is checked again every `rescopeMs` (15 s) while the stream is open: a patient added to
 * the caller's care team arrives with a fresh snapshot, one removed (or a consent withdrawn) leaves with
 * one, and a stream whose caller lost access to what it asked for, or whose session ended, is closed (1008).
 * A client that cannot keep up is disconnected (1013) rather than buffered without
 * bound; it reconnects and starts again from a fresh snapshot, so it never silently misses a change.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { AccessGuard } from '../access/guard.ts';
import type { AlarmService } from '../alarms/service.ts';
import type { AlarmChangedEvent, InProcessBus } from '../bus/bus.ts';
import { badRequest } from '../http/problem.ts';

/** Above this many unsent bytes a client is too slow and is told to reconnect. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const PING_MS = 30_000;
const RESCOPE_MS = 15_000;
const PATIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function alarmStreamRoute(
  app: FastifyInstance,
  deps: {
    bus: InProcessBus;
    alarms: AlarmService;
    guard: AccessGuard;
    /** The patients of a care team, for `?careTeam=` (undefined: no such team). */
    careTeamPatients: (id: string) => Promise<Set<string> | undefined>;
    /** How often an open stream's scope is checked again (default 15 s). */
    rescopeMs?: number;
  },
): void {
  const clients = new Set<{ socket: WebSocket; patients?: Set<string> }>();
  /** The patients a request may watch (undefined: every patient), or a refusal thrown. */
  const scopeOf = async (req: FastifyRequest): Promise<Set<string> | undefined> => {
    // Credentials first: an anonymous caller must not learn from the refusal whether a care team exists.
    await deps.guard.subject(req);
    const q = req.query as Record<string, string | undefined>;
    const team = q.careTeam === undefined ? undefined : await deps.careTeamPatients(q.careTeam);
    if (q.careTeam !== undefined && team === undefined) throw badRequest('no such care team', '/careTeam');
    const asked = team ?? parsePatients(q.patient);
    if (asked) {
      await Promise.all(
        [...asked].map((p) =>
          deps.guard.check(req, { action: 'search', resourceType: 'Flag', patientId: p }),
        ),
      );
      return asked;
    }
    const s = await deps.guard.searchScope(req, { resourceType: 'Flag' }, undefined);
    return s.patientIds ? new Set(s.patientIds) : undefined;
  };
  /** `rescoped`: sent because the caller's patients changed (a client may then reload what it lists). */
  const snapshot = (patients: Set<string> | undefined, rescoped = false) =>
    JSON.stringify({
      type: 'snapshot',
      alarms: deps.alarms.openAlarms().filter((a) => !patients || patients.has(a.patientId)),
      ...(rescoped ? { reason: 'patients-changed' } : {}),
    });
  const unsubscribe = deps.bus.subscribe('alarm.changed', (e) => {
    if (clients.size === 0) return;
    const text = JSON.stringify({ type: 'alarm', ...e });
    for (const c of clients) if (wants(c.patients, e)) send(c.socket, text);
  });
  app.addHook('onClose', async () => {
    unsubscribe();
    for (const c of clients) c.socket.close(1001, 'server shutting down');
  });

  app.register(async (ws) => {
    const scopes = new WeakMap<object, Set<string> | undefined>();
    // Who may watch what is decided before the upgrade, so a refusal is a plain 401/403 response.
    ws.addHook('preValidation', async (req) => {
      scopes.set(req, await scopeOf(req));
    });
    ws.get('/api/v1/alarms/stream', { websocket: true }, (socket, req) => {
      const patients = scopes.get(req);
      const client: { socket: WebSocket; patients?: Set<string> } = {
        socket,
        ...(patients ? { patients } : {}),
      };
      clients.add(client);
      const ping = setInterval(() => socket.ping(), PING_MS);
      ping.unref();
      const rescope = setInterval(() => void checkAgain(), deps.rescopeMs ?? RESCOPE_MS);
      rescope.unref();
      const checkAgain = async () => {
        let now: Set<string> | undefined;
        try {
          now = await scopeOf(req);
        } catch {
          socket.close(1008, 'access changed: reconnect');
          return;
        }
        if (sameScope(now, client.patients)) return;
        if (now) client.patients = now;
        else delete client.patients;
        send(socket, snapshot(now, true));
      };
      socket.on('close', () => {
        clients.delete(client);
        clearInterval(ping);
        clearInterval(rescope);
      });
      socket.on('error', () => socket.terminate());
      send(socket, snapshot(patients));
    });
  });
}

const sameScope = (a: Set<string> | undefined, b: Set<string> | undefined): boolean =>
  a === undefined || b === undefined ? a === b : a.size === b.size && [...a].every((p) => b.has(p));

function parsePatients(raw: string | undefined): Set<string> | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ids = raw.split(',');
  if (ids.length > 500) throw badRequest('at most 500 patients per stream', '/patient');
  for (const id of ids)
    if (!PATIENT_ID.test(id))
      throw badRequest(`invalid patient id ${JSON.stringify(id.slice(0, 64))}`, '/patient');
  return new Set(ids);
}

const wants = (patients: Set<string> | undefined, e: AlarmChangedEvent) =>
  patients === undefined || patients.has(e.alarm.patientId);

function send(socket: WebSocket, text: string): void {
  if (socket.readyState !== socket.OPEN) return;
  if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
    socket.close(1013, 'too slow: reconnect for a fresh snapshot');
    return;
  }
  socket.send(text);
}
