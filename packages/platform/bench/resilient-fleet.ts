/**
 * A ward of devices that outlives the platform: each device produces one signed reading a second on its own
 * clock, keeps what is not yet acknowledged, and when its connection drops it reconnects (every 200 ms until
 * the broker answers) and sends again, oldest first, everything not acknowledged: a device's store and
 * forward, as the SDK does it (a reading sent again carries the DUP flag). Acknowledgement times are kept per reading, so a run can tell how long the
 * readings produced while the platform was down waited to be stored.
 */
import net from 'node:net';
import { publishPacket, type SigningDevice, signReading } from './messages.ts';
import { type AckSink, FleetConnection } from './mqtt-fleet.ts';

/** Readings a device has in flight at most (the platform's Receive Maximum is 64). */
const MAX_IN_FLIGHT = 32;
const RECONNECT_DELAY_MS = 200;

export interface WardDevice extends SigningDevice {
  /** MQTT password (a device token). */
  readonly token: string;
}

interface DeviceState {
  readonly index: number;
  readonly device: WardDevice;
  connection: FleetConnection | undefined;
  connecting: boolean;
  /** Next round (0-based) to send. */
  next: number;
  /** Message id → round, sent on the current connection and not yet acknowledged. */
  readonly inFlight: Map<number, number>;
}

export class ResilientWard {
  /** performance.now() at which each reading (device × round) is due, and at which it was acknowledged. */
  readonly dueAt: Float64Array;
  readonly ackedAt: Float64Array;
  /** Connections lost, refused acknowledgements, and the time every device was last connected again. */
  lost = 0;
  refused = 0;
  /** Refusals by MQTT reason code (hex), with the first refused reading of each (device/seq). */
  readonly refusals: Record<string, { count: number; first: string }> = {};
  allConnectedAt = Number.NaN;
  /** Failed connection attempts by why (socket error code, or what the handshake ran into). */
  readonly failedConnects: Record<string, number> = {};
  /** When each device's latest connection was accepted (performance.now()). */
  readonly connectedAt: Float64Array;
  private readonly packets: Buffer[];
  /** 1 once a reading has been sent: sending it again sets the PUBLISH's DUP flag. */
  private readonly sent: Uint8Array;
  private readonly states: DeviceState[];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /**
   * Signs every reading of `rounds` seconds for each device up front (signing costs nothing during the run);
   * device d's round r is due at `startAt + r·1000 + d·1000/n` ms (devices spread over each second).
   * `spo2Of(d, r)`, when it gives a value, sets that reading's SpO2 (alarm probes).
   */
  constructor(
    private readonly mqttUrl: string,
    devices: readonly WardDevice[],
    readonly rounds: number,
    readonly startAt: number,
    spo2Of: (device: number, round: number) => number | undefined = () => undefined,
  ) {
    const n = devices.length;
    this.dueAt = new Float64Array(n * rounds);
    this.ackedAt = new Float64Array(n * rounds).fill(Number.NaN);
    this.packets = new Array(n * rounds);
    this.sent = new Uint8Array(n * rounds);
    this.connectedAt = new Float64Array(n).fill(Number.NaN);
    const wallStart = Date.now() + (startAt - performance.now());
    for (let d = 0; d < n; d++) {
      const device = devices[d]!;
      for (let r = 0; r < rounds; r++) {
        const due = startAt + r * 1000 + (d * 1000) / n;
        const k = d * rounds + r;
        this.dueAt[k] = due;
        const jws = signReading(device, r + 1, wallStart + (due - startAt), 'steady', spo2Of(d, r));
        this.packets[k] = publishPacket(device.id, r + 1, jws);
      }
    }
    this.states = devices.map((device, index) => ({
      index,
      device,
      connection: undefined,
      connecting: false,
      next: 0,
      inFlight: new Map(),
    }));
  }

  get total(): number {
    return this.dueAt.length;
  }

  get acknowledged(): number {
    let n = 0;
    for (const t of this.ackedAt) if (!Number.isNaN(t)) n++;
    return n;
  }

  get connected(): number {
    return this.states.filter((s) => s.connection !== undefined).length;
  }

  /** Connects every device, then sends each reading when it is due. */
  async start(): Promise<void> {
    await this.connectAll();
    this.timer = setInterval(() => this.sendDue(), 5);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const s of this.states) s.connection?.close();
  }

  /** Resolves when every reading is acknowledged, or after `timeoutMs` (then false). */
  async allAcknowledged(timeoutMs: number): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    while (performance.now() < until) {
      if (this.acknowledged === this.total) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  private async connectAll(): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < this.states.length) await this.connect(this.states[next++]!);
    };
    await Promise.all(Array.from({ length: 64 }, worker));
  }

  /** Connects one device, retrying until the broker accepts it (or the ward stops). */
  private async connect(s: DeviceState): Promise<void> {
    if (s.connecting || s.connection) return;
    s.connecting = true;
    const url = new URL(this.mqttUrl);
    while (!this.stopped) {
      try {
        const socket = await new Promise<net.Socket>((resolve, reject) => {
          const sock = net.connect({ host: url.hostname, port: Number(url.port) }, () => resolve(sock));
          sock.once('error', reject);
        });
        let connection: FleetConnection | undefined;
        const sink: AckSink = {
          acked: (_d, messageId, code, at) => this.onAck(s, messageId, code, at),
          lost: () => {
            if (connection !== undefined && s.connection === connection) this.onLost(s);
          },
        };
        connection = new FleetConnection(s.index, socket, () => sink);
        await connection.handshake(s.device.id, s.device.token);
        s.connection = connection;
        s.connecting = false;
        this.connectedAt[s.index] = performance.now();
        if (this.connected === this.states.length) this.allConnectedAt = performance.now();
        return;
      } catch (e) {
        const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message.replace(/\d+/g, 'N');
        this.failedConnects[why] = (this.failedConnects[why] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, RECONNECT_DELAY_MS));
      }
    }
    s.connecting = false;
  }

  private sendDue(): void {
    const now = performance.now();
    for (const s of this.states) {
      const c = s.connection;
      if (!c) continue;
      while (s.next < this.rounds && s.inFlight.size < MAX_IN_FLIGHT) {
        const k = s.index * this.rounds + s.next;
        if (this.dueAt[k]! > now) break;
        s.inFlight.set(s.next + 1, s.next);
        c.send(this.sent[k] === 1 ? redelivery(this.packets[k]!) : this.packets[k]!);
        this.sent[k] = 1;
        s.next++;
      }
    }
  }

  private onAck(s: DeviceState, messageId: number, code: number, at: number): void {
    const round = s.inFlight.get(messageId);
    if (round === undefined) return;
    s.inFlight.delete(messageId);
    if (code >= 0x80) {
      this.refused++;
      const reason = `0x${code.toString(16)}`;
      const r = this.refusals[reason] ?? { count: 0, first: `${s.device.id}/${round + 1}` };
      this.refusals[reason] = r;
      r.count++;
      return;
    }
    const k = s.index * this.rounds + round;
    if (Number.isNaN(this.ackedAt[k]!)) this.ackedAt[k] = at;
  }

  /** The connection is gone: whatever it had in flight is sent again, in order, on the next one. */
  private onLost(s: DeviceState): void {
    this.lost++;
    s.connection = undefined;
    for (const round of s.inFlight.values()) s.next = Math.min(s.next, round);
    s.inFlight.clear();
    this.allConnectedAt = Number.NaN;
    void this.connect(s);
  }
}

/**
 * The same PUBLISH with its DUP flag set: MQTT requires it on a redelivery, and the platform takes an exact
 * copy of a stored reading without it for a replay (docs/device-protocol.md).
 */
function redelivery(packet: Buffer): Buffer {
  const copy = Buffer.from(packet);
  copy[0] = copy[0]! | 0x08;
  return copy;
}
