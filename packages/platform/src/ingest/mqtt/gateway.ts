/**
 * The device-facing MQTT 3.1.1 / 5.0 server. Devices only publish readings to their own topic and receive
 * commands on their own topic; there is no pub/sub between clients. A QoS 1 PUBACK goes out only once the
 * reading is durable (hooks.onReading resolved), in arrival order per connection.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { ServerLimits } from './connack.ts';
import type { MqttGatewayHooks } from './hooks.ts';
import { DeviceSession, type SessionHost } from './session.ts';

export interface MqttGatewayOptions {
  hooks: MqttGatewayHooks;
  host: string;
  port: number;
  tls?: { key: Buffer | string; cert: Buffer | string }; // when given, listen with node:tls
  maxPacketBytes?: number; // default 512 KiB; larger packets: v5 DISCONNECT 0x95, v4 close
  maxInflightPerClient?: number; // default 64 (v5 CONNACK Receive Maximum); stop reading the socket beyond it
  connectTimeoutMs?: number; // default 10 s without CONNECT -> close
  maxKeepaliveS?: number; // default 300 (v5 Server Keep Alive when the client asks more)
}

const DEFAULT_LIMITS: ServerLimits = {
  maxPacketBytes: 512 * 1024,
  maxInflightPerClient: 64,
  connectTimeoutMs: 10_000,
  maxKeepaliveS: 300,
};

/** Limits from the options, each checked and named when wrong. */
function resolveLimits(options: MqttGatewayOptions): ServerLimits {
  const pick = (field: keyof ServerLimits, min: number, max: number): number => {
    const value = options[field] ?? DEFAULT_LIMITS[field];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(
        `MqttGatewayOptions.${field}: expected an integer in [${min}, ${max}], got ${value}`,
      );
    }
    return value;
  };
  return {
    // 268435455 is the largest remaining length MQTT can encode (plus its 5-byte fixed header).
    maxPacketBytes: pick('maxPacketBytes', 64, 268_435_460),
    maxInflightPerClient: pick('maxInflightPerClient', 1, 65_535),
    connectTimeoutMs: pick('connectTimeoutMs', 1, 3_600_000),
    maxKeepaliveS: pick('maxKeepaliveS', 1, 65_535),
  };
}

export class MqttGateway {
  private readonly limits: ServerLimits;
  private server: net.Server | undefined;
  private readonly sessions = new Set<DeviceSession>();
  private readonly live = new Map<string, DeviceSession>();
  private closing = false;
  private closed: Promise<void> | undefined;
  private readonly counters = { received: 0, acknowledged: 0, rejected: 0 };
  private readonly host: SessionHost;

  constructor(private readonly options: MqttGatewayOptions) {
    if (!options.hooks) throw new TypeError('MqttGatewayOptions.hooks: required');
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65_535) {
      throw new RangeError(`MqttGatewayOptions.port: expected an integer in [0, 65535], got ${options.port}`);
    }
    this.limits = resolveLimits(options);
    this.host = this.sessionHost();
  }

  listen(): Promise<{ host: string; port: number }> {
    if (this.server) return Promise.reject(new Error('MqttGateway.listen: already listening'));
    if (this.closing) return Promise.reject(new Error('MqttGateway.listen: gateway is closed'));
    const server = this.createServer();
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        // A listener error after start (e.g. EMFILE on accept) must not crash the process.
        server.on('error', () => {});
        const address = server.address() as net.AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** Stop accepting, wait for every onReading in flight and send its PUBACK, then close all sessions. */
  close(): Promise<void> {
    if (!this.closed) this.closed = this.shutdown();
    return this.closed;
  }

  /** Closes the device's live session at once (v5: DISCONNECT 0x98 Administrative action). */
  disconnectDevice(deviceId: string, reason: string): boolean {
    const session = this.live.get(deviceId);
    if (!session) return false;
    session.revoke(reason);
    return true;
  }

  /** Publishes to the device's own commands topic if it is subscribed; false if not connected/subscribed. */
  sendCommand(deviceId: string, payload: Buffer | string, qos: 0 | 1 = 0): boolean {
    return this.live.get(deviceId)?.sendCommand(payload, qos) ?? false;
  }

  connectedDevices(): string[] {
    return [...this.live.keys()];
  }

  /** connections: open network connections (authenticated or not); the rest count readings since start. */
  stats(): { connections: number; received: number; acknowledged: number; rejected: number } {
    return { connections: this.sessions.size, ...this.counters };
  }

  private createServer(): net.Server {
    const accept = (socket: net.Socket): void => {
      if (this.closing) {
        socket.destroy();
        return;
      }
      this.sessions.add(new DeviceSession(socket, this.host));
    };
    if (!this.options.tls) return net.createServer({ noDelay: true }, accept);
    const server = tls.createServer({ key: this.options.tls.key, cert: this.options.tls.cert }, accept);
    // Failed handshakes never reach a session; the socket is already destroyed by node.
    server.on('tlsClientError', () => {});
    return server;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    const server = this.server;
    const stopped = new Promise<void>((resolve) => {
      if (!server?.listening) resolve();
      else server.close(() => resolve());
    });
    await Promise.all([...this.sessions].map((session) => session.shutdown()));
    await stopped;
  }

  private sessionHost(): SessionHost {
    return {
      hooks: this.options.hooks,
      limits: this.limits,
      isClosing: () => this.closing,
      authenticated: (session, deviceId) => {
        const previous = this.live.get(deviceId);
        if (previous && previous !== session) previous.takenOver();
        this.live.set(deviceId, session);
      },
      ended: (session) => {
        this.sessions.delete(session);
        const deviceId = session.deviceId;
        if (deviceId !== undefined && this.live.get(deviceId) === session) this.live.delete(deviceId);
      },
      count: (counter) => {
        this.counters[counter]++;
      },
      securityEvent: async (event) => {
        try {
          await this.options.hooks.onSecurityEvent(event);
        } catch {
          // A failing observer must not take the connection (or the process) down with it.
        }
      },
    };
  }
}
