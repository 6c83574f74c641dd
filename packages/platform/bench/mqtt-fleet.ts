/**
 * Many simulated devices as raw MQTT 5 connections (one `net` socket each, no client library): CONNECT is
 * generated once with mqtt-packet, PUBLISH packets are pre-built bytes, and the only packets coming back
 * (CONNACK, PUBACK, DISCONNECT) are read by a few lines of header parsing. That keeps the load generator
 * cheap enough to share a 2-core machine with the platform it measures.
 */
import net from 'node:net';
import { generate } from 'mqtt-packet';

const CONNACK = 2;
const PUBACK = 4;
const DISCONNECT = 14;

export interface AckSink {
  /** A PUBACK for `messageId` arrived on connection `device`, with its reason code (0 = stored). */
  acked(device: number, messageId: number, reasonCode: number, atMs: number): void;
  /** The connection ended (server DISCONNECT with reason, or socket closed). */
  lost(device: number, reason: string): void;
}

export class FleetConnection {
  private pending = Buffer.alloc(0);
  private connected: (() => void) | undefined;
  private failed: ((e: Error) => void) | undefined;
  closed = false;

  constructor(
    readonly index: number,
    private readonly socket: net.Socket,
    private readonly sink: () => AckSink,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.failed?.(new Error(`connection ${index} closed before CONNACK`));
      this.sink().lost(index, 'socket closed');
    });
  }

  /** Sends CONNECT and resolves on a successful CONNACK. */
  handshake(deviceId: string, token: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.connected = resolve;
      this.failed = reject;
      this.socket.write(
        generate(
          {
            cmd: 'connect',
            protocolId: 'MQTT',
            protocolVersion: 5,
            clean: true,
            clientId: deviceId,
            keepalive: 300,
            username: deviceId,
            password: Buffer.from(token),
          },
          { protocolVersion: 5 },
        ),
      );
    });
  }

  send(packet: Buffer): void {
    this.socket.write(packet);
  }

  close(): void {
    this.closed = true;
    this.socket.removeAllListeners('close');
    this.socket.end(generate({ cmd: 'disconnect', reasonCode: 0 }, { protocolVersion: 5 }));
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  private onData(chunk: Buffer): void {
    const now = performance.now();
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const frame = readFrame(buf);
      if (!frame) break;
      this.onPacket(buf[0]! >> 4, buf.subarray(frame.bodyStart, frame.end), now);
      buf = buf.subarray(frame.end);
    }
    this.pending = buf.length > 0 ? Buffer.from(buf) : Buffer.alloc(0);
  }

  private onPacket(type: number, body: Buffer, now: number): void {
    if (type === PUBACK) {
      // v5: messageId, then a reason code only when it is not 0 (remaining length 2 means success).
      this.sink().acked(this.index, body.readUInt16BE(0), body.length > 2 ? body[2]! : 0, now);
    } else if (type === CONNACK) {
      const code = body[1] ?? 0xff;
      if (code === 0) this.connected?.();
      else this.failed?.(new Error(`CONNACK reason 0x${code.toString(16)}`));
      this.connected = undefined;
      this.failed = undefined;
    } else if (type === DISCONNECT) {
      this.sink().lost(this.index, `server DISCONNECT 0x${(body[0] ?? 0).toString(16)}`);
    }
  }
}

/** Where the next whole packet's body starts and ends, or undefined if more bytes are needed. */
export function readFrame(buf: Buffer): { bodyStart: number; end: number } | undefined {
  let length = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    if (i >= buf.length) return undefined;
    const byte = buf[i]!;
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) {
      const end = i + 1 + length;
      return end <= buf.length ? { bodyStart: i + 1, end } : undefined;
    }
    multiplier *= 128;
  }
  throw new Error('malformed remaining length from server');
}

export interface FleetDevice {
  readonly id: string;
  /** Device token (JWT) used as the MQTT password. */
  readonly token: string;
}

/** Connects every device (a bounded number of handshakes at a time) and reports progress. */
export async function connectFleet(
  mqttUrl: string,
  devices: readonly FleetDevice[],
  sink: () => AckSink,
  onProgress?: (done: number) => void,
  concurrency = 64,
): Promise<FleetConnection[]> {
  const url = new URL(mqttUrl);
  const connections: FleetConnection[] = new Array(devices.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < devices.length) {
      const i = next++;
      const device = devices[i]!;
      const socket = await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: url.hostname, port: Number(url.port) }, () => resolve(s));
        s.once('error', reject);
      });
      const connection = new FleetConnection(i, socket, sink);
      await connection.handshake(device.id, device.token);
      connections[i] = connection;
      done++;
      if (done % 250 === 0 || done === devices.length) onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return connections;
}
