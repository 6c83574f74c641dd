/**
 * The fan-out behind the live stream: which connected clients watch which patient, what each may be sent
 * (vital signs, waveforms), and the status of the watched patients' devices. It listens to the bus once for
 * all clients and does nothing for a reading of a patient nobody watches (the message is not even decoded).
 * Device status moves to online with a reading and to stale/offline on a 1-s clock (messages.ts).
 */
import type { WebSocket } from 'ws';
import type { DerivedMeasurementEvent, InProcessBus, StoredReadingEvent } from '../bus/bus.ts';
import type { Store } from '../store/types.ts';
import {
  type DeviceLiveStatus,
  derivedMessage,
  deviceLiveStatus,
  deviceMessage,
  enteredVitalsMessages,
  news2Message,
  vitalsMessages,
  waveformMessages,
} from './messages.ts';
import type { PatientDevice } from './patient-devices.ts';

/** Above this many unsent bytes a client is too slow and is told to reconnect. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface LiveClient {
  readonly socket: WebSocket;
  readonly patients: ReadonlySet<string>;
  /** Patients whose vital signs (values, derived measurements, NEWS2) this client may be sent. */
  readonly vitals: ReadonlySet<string>;
  readonly waveforms: ReadonlySet<string>;
}

interface TrackedDevice {
  patientId: string;
  /** Unknown until looked up, for a device first seen after the client connected. */
  intervalS?: number;
  lastSeenAt?: number;
  quarantined?: boolean;
  status: DeviceLiveStatus;
}

export class LiveHub {
  private readonly byPatient = new Map<string, Set<LiveClient>>();
  private readonly devices = new Map<string, TrackedDevice>();
  private readonly unsubscribe: (() => void)[];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    bus: InProcessBus,
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {
    this.unsubscribe = [
      bus.subscribe('reading.stored', (e) => this.onReading(e)),
      bus.subscribe('analysis.derived', (d) => this.onDerived(d)),
      bus.subscribe('observation.entered', (e) => {
        for (const m of enteredVitalsMessages(e.patientId, e.vitals))
          this.toWatchers(
            e.patientId,
            (c) => c.vitals.has(e.patientId),
            () => m,
          );
      }),
      bus.subscribe('device.quarantined', (e) => this.quarantined(e.deviceId, true)),
      bus.subscribe('device.released', (e) => this.quarantined(e.deviceId, false)),
      bus.subscribe('news2.scored', (e) =>
        this.toWatchers(
          e.patientId,
          (c) => c.vitals.has(e.patientId),
          () => news2Message(e.patientId, e.score, e.at),
        ),
      ),
    ];
  }

  /** Starts sending to a client: its devices are tracked, it gets the hello and their current status. */
  attach(client: LiveClient, hello: object, devices: readonly PatientDevice[]): void {
    for (const p of client.patients) {
      let set = this.byPatient.get(p);
      if (!set) {
        set = new Set();
        this.byPatient.set(p, set);
      }
      set.add(client);
    }
    const now = this.now();
    for (const d of devices) {
      if (!client.patients.has(d.patientId) || this.devices.get(d.id)?.patientId === d.patientId) continue;
      this.devices.set(d.id, {
        patientId: d.patientId,
        intervalS: d.expectedIntervalS,
        ...(d.lastSeenAt === undefined ? {} : { lastSeenAt: d.lastSeenAt }),
        ...(d.quarantined ? { quarantined: true } : {}),
        status: deviceLiveStatus(d.lastSeenAt, d.expectedIntervalS, now, d.quarantined),
      });
    }
    send(client.socket, JSON.stringify(hello));
    for (const [id, t] of this.devices)
      if (client.patients.has(t.patientId))
        send(client.socket, JSON.stringify(deviceMessage(t.patientId, id, t.status, t.lastSeenAt)));
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), 1000);
      this.timer.unref();
    }
  }

  detach(client: LiveClient): void {
    for (const p of client.patients) {
      const set = this.byPatient.get(p);
      set?.delete(client);
      if (set?.size === 0) this.byPatient.delete(p);
    }
    for (const [id, t] of this.devices) if (!this.byPatient.has(t.patientId)) this.devices.delete(id);
    if (this.byPatient.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    if (this.timer) clearInterval(this.timer);
    for (const set of this.byPatient.values())
      for (const c of set) c.socket.close(1001, 'server shutting down');
  }

  /** Devices gone quiet: stale after 2, offline after 10 expected intervals. */
  tick(): void {
    const now = this.now();
    for (const [id, t] of this.devices) {
      if (t.intervalS === undefined) continue;
      const status = deviceLiveStatus(t.lastSeenAt, t.intervalS, now, t.quarantined);
      if (status === t.status) continue;
      t.status = status;
      this.toWatchers(t.patientId, undefined, () => deviceMessage(t.patientId, id, status, t.lastSeenAt));
    }
  }

  private onReading(e: StoredReadingEvent): void {
    const watchers = this.byPatient.get(e.patientId);
    if (!watchers) return;
    this.deviceSeen(e.deviceId, e.patientId, Date.parse(e.receivedAt));
    const message = e.message;
    if ([...watchers].some((c) => c.vitals.has(e.patientId)))
      for (const m of vitalsMessages(e.patientId, e.deviceId, message))
        this.toWatchers(
          e.patientId,
          (c) => c.vitals.has(e.patientId),
          () => m,
        );
    if (message.waveforms?.length && [...watchers].some((c) => c.waveforms.has(e.patientId)))
      for (const m of waveformMessages(e.patientId, e.deviceId, message))
        this.toWatchers(
          e.patientId,
          (c) => c.waveforms.has(e.patientId),
          () => m,
        );
  }

  private onDerived(d: DerivedMeasurementEvent): void {
    this.toWatchers(
      d.patientId,
      (c) => c.vitals.has(d.patientId),
      () => derivedMessage(d),
    );
  }

  /** A watched device was quarantined or released: its watchers are told at once. */
  private quarantined(deviceId: string, on: boolean): void {
    const t = this.devices.get(deviceId);
    if (!t) return;
    t.quarantined = on;
    const status = deviceLiveStatus(t.lastSeenAt, t.intervalS ?? 60, this.now(), on);
    if (status === t.status) return;
    t.status = status;
    this.toWatchers(t.patientId, undefined, () => deviceMessage(t.patientId, deviceId, status, t.lastSeenAt));
  }

  /** A reading arrived from a device: it is online (told when it was not). */
  private deviceSeen(deviceId: string, patientId: string, at: number): void {
    let t = this.devices.get(deviceId);
    if (!t || t.patientId !== patientId) {
      // A device assigned after the clients connected: its interval is looked up once.
      t = { patientId, lastSeenAt: at, status: 'never' };
      this.devices.set(deviceId, t);
      const tracked = t;
      void this.store.devices.get(deviceId).then(
        (d) => {
          tracked.intervalS = d?.expectedIntervalS ?? 60;
        },
        () => {
          tracked.intervalS = 60;
        },
      );
    }
    if (t.lastSeenAt === undefined || at > t.lastSeenAt) t.lastSeenAt = at;
    if (t.status === 'online') return;
    t.status = 'online';
    const lastSeenAt = t.lastSeenAt;
    this.toWatchers(patientId, undefined, () => deviceMessage(patientId, deviceId, 'online', lastSeenAt));
  }

  /** Sends one message (serialised once) to the patient's watchers that pass the filter. */
  private toWatchers(
    patientId: string,
    filter: ((c: LiveClient) => boolean) | undefined,
    make: () => object,
  ): void {
    const watchers = this.byPatient.get(patientId);
    if (!watchers) return;
    let text: string | undefined;
    for (const c of watchers) {
      if (filter && !filter(c)) continue;
      text ??= JSON.stringify(make());
      send(c.socket, text);
    }
  }
}

/** Sends unless the client is too slow, in which case it is closed (1013) to reconnect afresh. */
export function send(socket: WebSocket, text: string): void {
  if (socket.readyState !== socket.OPEN) return;
  if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
    socket.close(1013, 'too slow: reconnect');
    return;
  }
  socket.send(text);
}
