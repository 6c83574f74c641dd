/**
 * The live alarm stream for dashboards: `GET /api/v1/alarms/stream` upgraded to a WebSocket. A client
 * gets a snapshot of the open alarms it asked for, then every durable change of them as it happens
 * (published after the commit, so nothing is shown that a restart could take back). `?patient=a,b` limits
 * the stream to those patients; without it the stream carries every patient (care-team filtering comes
 * with user accounts). A client that cannot keep up is disconnected (1013) rather than buffered without
 * bound; it reconnects and starts again from a fresh snapshot, so it never silently misses a change.
 */
import type { Alarm } from '@openiomt/core';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { staffActor } from '../alarms/routes.ts';
import type { AlarmService } from '../alarms/service.ts';
import type { AlarmChangedEvent, InProcessBus } from '../bus/bus.ts';
import { badRequest } from '../http/problem.ts';
import type { Store } from '../store/types.ts';

/** Above this many unsent bytes a client is too slow and is told to reconnect. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const PING_MS = 30_000;
const PATIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function alarmStreamRoute(
  app: FastifyInstance,
  deps: { store: Store; bus: InProcessBus; alarms: AlarmService },
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
    ws.addHook('onRequest', async (req) => {
      await staffActor(deps.store, req);
    });
    ws.get('/api/v1/alarms/stream', { websocket: true }, (socket, req) => {
      const q = req.query as Record<string, string | undefined>;
      const patients = parsePatients(q.patient);
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
  if (ids.length > 500) throw badRequest('at most 500 patients per stream', 'patient');
  for (const id of ids)
    if (!PATIENT_ID.test(id))
      throw badRequest(`invalid patient id ${JSON.stringify(id.slice(0, 64))}`, 'patient');
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
