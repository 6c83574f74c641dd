/**
 * The live alarm stream for dashboards: `GET /api/v1/alarms/stream` upgraded to a WebSocket. A client
 * gets a snapshot of the open alarms it asked for, then every durable change of them as it happens
 * (published after the commit, so nothing is shown that a restart could take back). `?patient=a,b` limits
 * the stream to those patients, `?careTeam=<id>` to a care team's patients (each must be allowed); without it the stream carries every patient the
 * caller may see when it connects (their care teams', a caregiver's granted ones; all for a service).
 * A client that cannot keep up is disconnected (1013) rather than buffered without
 * bound; it reconnects and starts again from a fresh snapshot, so it never silently misses a change.
 */
import type { Alarm } from '@openiomt/core';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { AccessGuard } from '../access/guard.ts';
import type { AlarmService } from '../alarms/service.ts';
import type { AlarmChangedEvent, InProcessBus } from '../bus/bus.ts';
import { badRequest } from '../http/problem.ts';

/** Above this many unsent bytes a client is too slow and is told to reconnect. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const PING_MS = 30_000;
const PATIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function alarmStreamRoute(
  app: FastifyInstance,
  deps: {
    bus: InProcessBus;
    alarms: AlarmService;
    guard: AccessGuard;
    /** The patients of a care team, for `?careTeam=` (undefined: no such team). */
    careTeamPatients: (id: string) => Promise<Set<string> | undefined>;
  },
): void {
  const clients = new Set<{ socket: WebSocket; patients?: Set<string> }>();
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
      const q = req.query as Record<string, string | undefined>;
      const team = q.careTeam === undefined ? undefined : await deps.careTeamPatients(q.careTeam);
      if (q.careTeam !== undefined && team === undefined) throw badRequest('no such care team', '/careTeam');
      const asked = team ?? parsePatients(q.patient);
      const scope = asked
        ? await Promise.all(
            [...asked].map((p) =>
              deps.guard.check(req, { action: 'search', resourceType: 'Flag', patientId: p }),
            ),
          ).then(() => asked)
        : await deps.guard
            .searchScope(req, { resourceType: 'Flag' }, undefined)
            .then((s) => (s.patientIds ? new Set(s.patientIds) : undefined));
      scopes.set(req, scope);
    });
    ws.get('/api/v1/alarms/stream', { websocket: true }, (socket, req) => {
      const patients = scopes.get(req);
      const client = { socket, ...(patients ? { patients } : {}) };
      clients.add(client);
      const ping = setInterval(() => socket.ping(), PING_MS);
      ping.unref();
      socket.on('close', () => {
        clients.delete(client);
        clearInterval(ping);
      });
      socket.on('error', () => socket.terminate());
      const open: Alarm[] = deps.alarms.openAlarms().filter((a) => !patients || patients.has(a.patientId));
      send(socket, JSON.stringify({ type: 'snapshot', alarms: open }));
    });
  });
}

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
