/** Helpers for the gateway tests: controllable hooks, a gateway on port 0, and a raw MQTT socket client. */
import net from 'node:net';
import { generate, type IConnectPacket, type Packet, parser } from 'mqtt-packet';
import { MqttGateway, type MqttGatewayOptions } from './gateway.ts';
import type {
  MqttAuthRequest,
  MqttAuthResult,
  MqttGatewayHooks,
  MqttReading,
  MqttReadingOutcome,
  MqttSecurityEvent,
} from './hooks.ts';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Devices known to the test hooks: username = device id, password = `secret-<id>`. */
export const passwordOf = (deviceId: string): string => `secret-${deviceId}`;

export class TestHooks implements MqttGatewayHooks {
  readonly readings: MqttReading[] = [];
  readonly events: MqttSecurityEvent[] = [];
  readonly authRequests: MqttAuthRequest[] = [];
  /** Replace to control when (and how) readings complete. */
  reading: (reading: MqttReading) => Promise<MqttReadingOutcome> = async () => ({ accepted: true });

  async authenticate(req: MqttAuthRequest): Promise<MqttAuthResult> {
    this.authRequests.push(req);
    const deviceId = req.username ?? '';
    if (deviceId !== '' && req.password?.toString() === passwordOf(deviceId)) return { ok: true, deviceId };
    return { ok: false, reason: 'unknown device or wrong password' };
  }

  onReading(reading: MqttReading): Promise<MqttReadingOutcome> {
    this.readings.push(reading);
    return this.reading(reading);
  }

  onSecurityEvent(event: MqttSecurityEvent): void {
    this.events.push(event);
  }
}

export async function startGateway(
  options: Partial<MqttGatewayOptions> = {},
): Promise<{ gateway: MqttGateway; hooks: TestHooks; port: number }> {
  const hooks = (options.hooks as TestHooks | undefined) ?? new TestHooks();
  const gateway = new MqttGateway({ host: '127.0.0.1', port: 0, ...options, hooks });
  const { port } = await gateway.listen();
  return { gateway, hooks, port };
}

export function connectPacket(
  deviceId: string,
  version: 4 | 5,
  extra: Partial<IConnectPacket> = {},
): IConnectPacket {
  return {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: version,
    clientId: deviceId,
    clean: true,
    keepalive: 60,
    username: deviceId,
    password: Buffer.from(passwordOf(deviceId)),
    ...extra,
  };
}

/** A bare socket speaking MQTT through mqtt-packet, for edge cases MQTT.js will not produce. */
export class RawClient {
  readonly packets: Packet[] = [];
  readonly closed: Promise<void>;
  private waiters: (() => void)[] = [];
  private readonly socket: net.Socket;

  private constructor(
    socket: net.Socket,
    private version: 4 | 5,
  ) {
    this.socket = socket;
    const incoming = parser({ protocolVersion: version });
    incoming.on('packet', (packet: Packet) => {
      this.packets.push(packet);
      this.wake();
    });
    incoming.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => incoming.parse(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        resolve();
        this.wake();
      }),
    );
  }

  static connect(port: number, version: 4 | 5 = 4): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawClient(socket, version)));
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  send(packet: Packet): void {
    this.socket.write(generate(packet, { protocolVersion: this.version }));
  }

  writeRaw(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** The next packet received (in order), or an error after timeoutMs. */
  async next(timeoutMs = 2_000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    while (this.packets.length === 0) {
      if (this.isClosed) throw new Error('RawClient.next: connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('RawClient.next: timed out');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.packets.shift()!;
  }

  /** Connects and returns the CONNACK. */
  async handshake(deviceId: string, extra: Partial<IConnectPacket> = {}): Promise<Packet> {
    this.send(connectPacket(deviceId, this.version, extra));
    return this.next();
  }

  /** Resolves true when the server closes the connection within timeoutMs. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), delay(timeoutMs).then(() => false)]);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
