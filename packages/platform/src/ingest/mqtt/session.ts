/**
 * One device connection: its states, framing, packet dispatch, the ordered PUBACK pipeline, backpressure and
 * keepalive; the CONNECT handshake is handshake.ts, what it sends writer.ts. Every failure ends this
 * connection only; nothing here throws to the server.
 */
import type net from 'node:net';
import { readingsTopic } from '@openiomt/core';
import { parser as createParser, type IConnectPacket, type IPublishPacket, type Packet } from 'mqtt-packet';
import { AckQueue } from './ack-queue.ts';
import { mayPublish } from './acl.ts';
import { CommandChannel } from './commands.ts';
import { acceptedConnack, negotiateKeepalive, refusedConnack, type ServerLimits } from './connack.ts';
import { MqttFramer } from './framer.ts';
import { handshake } from './handshake.ts';
import type { MqttGatewayHooks, MqttReadingOutcome, MqttSecurityEvent } from './hooks.ts';
import { KeepaliveWatch } from './keepalive.ts';
import { RC4, RC5 } from './reason-codes.ts';
import { PacketWriter, WRITE_HIGH_WATER } from './writer.ts';

export interface SessionHost {
  readonly hooks: MqttGatewayHooks;
  readonly limits: ServerLimits;
  isClosing(): boolean;
  authenticated(session: DeviceSession, deviceId: string): void;
  ended(session: DeviceSession): void;
  count(counter: 'received' | 'acknowledged' | 'rejected'): void;
  /** Resolves once the event is recorded; never rejects. */
  securityEvent(event: MqttSecurityEvent): Promise<void>;
}

type State = 'awaiting-connect' | 'authenticating' | 'connected' | 'draining' | 'closed';

/** What the pipeline releases for one publish: a PUBACK to send (QoS 1) or nothing (QoS 0). */
interface Ack {
  messageId?: number;
  outcome: MqttReadingOutcome;
}

const CONNECT_TYPE = 1;
/** After DISCONNECT/end, how long a peer gets to close before the socket is destroyed. */
const END_GRACE_MS = 2_000;

export class DeviceSession {
  deviceId: string | undefined;
  private state: State = 'awaiting-connect';
  private readonly framer: MqttFramer;
  private readonly out: PacketWriter;
  private readonly parser = createParser();
  private readonly acks: AckQueue<Ack>;
  private readonly commands: CommandChannel;
  private readonly remoteAddress: string;
  private connectTimer: NodeJS.Timeout | undefined;
  private readonly keepalive: KeepaliveWatch;
  private reading = true;
  private closedPromise: Promise<void>;

  constructor(
    private readonly socket: net.Socket,
    private readonly host: SessionHost,
  ) {
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.framer = new MqttFramer(host.limits.maxPacketBytes);
    this.out = new PacketWriter(socket, () => this.updateReading());
    this.acks = new AckQueue<Ack>({
      release: (ack) => this.sendPuback(ack),
      fail: () => this.terminate(RC5.unspecifiedError, 'reading could not be stored'),
      drained: () => this.pump(),
    });
    this.commands = new CommandChannel((packet) => this.out.send(packet));
    this.keepalive = new KeepaliveWatch(
      () => this.state !== 'connected' || !this.reading || this.acks.inFlight > 0,
      () => this.terminate(RC5.keepAliveTimeout, 'keep alive timeout'),
    );
    this.parser.on('packet', (packet: Packet) => this.onPacket(packet));
    this.parser.on('error', (error: Error) => this.protocolError(`malformed packet: ${error.message}`));
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.pump());
    socket.on('error', () => {}); // 'close' follows; a reset by one client is not an error of the server
    socket.on('close', () => this.onClosed());
    socket.setNoDelay(true);
    this.connectTimer = setTimeout(() => this.terminate(), host.limits.connectTimeoutMs);
    this.connectTimer.unref();
  }

  /** The device's session is revoked: close at once, whatever is in flight. */
  revoke(reason: string): void {
    this.terminate(RC5.administrativeAction, reason);
  }

  /** A newer authenticated connection for the same device replaces this one. */
  takenOver(): void {
    this.terminate(RC5.sessionTakenOver, 'another connection for this device was accepted');
  }

  sendCommand(payload: Buffer | string, qos: 0 | 1): boolean {
    if (this.state !== 'connected' || this.deviceId === undefined) return false;
    if (this.socket.writableLength > WRITE_HIGH_WATER) return false;
    return this.commands.publish(payload, qos);
  }

  /** Gateway shutdown: take no new packets, flush the PUBACKs of readings in flight, then disconnect. */
  async shutdown(): Promise<void> {
    if (this.state === 'connected') {
      this.state = 'draining';
      this.framer.clear();
      this.updateReading();
      await this.acks.whenSettled();
      this.terminate(RC5.serverShuttingDown, 'server shutting down');
    } else if (this.state === 'draining') {
      await this.acks.whenSettled();
    } else {
      this.terminate();
    }
    await this.closedPromise;
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed' || this.state === 'draining') return;
    this.keepalive.touch();
    this.framer.push(chunk);
    this.pump();
  }

  private canTakePackets(): boolean {
    if (this.state !== 'awaiting-connect' && this.state !== 'connected') return false;
    return this.acks.inFlight < this.host.limits.maxInflightPerClient && !this.acks.hasFailed;
  }

  /** Called from socket events and promise callbacks: a fault here must end this connection only. */
  private pump(): void {
    try {
      this.takePackets();
    } catch {
      this.socket.destroy();
    }
  }

  /** Takes whole packets while the client is within its limits, then pauses or resumes the socket. */
  private takePackets(): void {
    while (this.canTakePackets()) {
      const next = this.framer.next();
      if (next.kind === 'need-more') break;
      if (next.kind === 'oversize') {
        this.protocolError(
          `packet of ${next.size} bytes exceeds ${this.host.limits.maxPacketBytes}`,
          RC5.packetTooLarge,
        );
        break;
      }
      if (next.kind === 'malformed') {
        this.protocolError(`malformed packet: ${next.detail}`);
        break;
      }
      if (this.state === 'awaiting-connect' && next.type !== CONNECT_TYPE) {
        this.protocolError(`packet type ${next.type} before CONNECT`);
        break;
      }
      this.parseFrame(next.frame);
    }
    this.updateReading();
  }

  /** The parser reports most faults as 'error' events; anything it throws is a malformed packet too. */
  private parseFrame(frame: Buffer): void {
    try {
      this.parser.parse(frame);
    } catch (error) {
      this.protocolError(`malformed packet: ${error instanceof Error ? error.message : 'parser failure'}`);
    }
  }

  private updateReading(): void {
    const wantRead =
      (this.state === 'awaiting-connect' || this.state === 'connected' || this.state === 'authenticating') &&
      this.canTakePacketsOrAuthenticating() &&
      this.socket.writableLength < WRITE_HIGH_WATER;
    if (wantRead && !this.reading) {
      // Time spent paused by us is not the client's silence.
      this.keepalive.touch();
      this.socket.resume();
    }
    if (!wantRead && this.reading) this.socket.pause();
    this.reading = wantRead;
  }

  /** While authenticating, bytes are buffered (not parsed) so nothing but CONNECT runs before auth. */
  private canTakePacketsOrAuthenticating(): boolean {
    if (this.state === 'authenticating') return this.framer.pendingBytes < this.host.limits.maxPacketBytes;
    return this.canTakePackets();
  }

  private onPacket(packet: Packet): void {
    if (this.state === 'awaiting-connect') {
      if (packet.cmd === 'connect') this.onConnect(packet);
      else this.protocolError(`${packet.cmd} before CONNECT`);
      return;
    }
    if (this.state !== 'connected') return;
    switch (packet.cmd) {
      case 'publish':
        this.onPublish(packet);
        return;
      case 'subscribe':
        this.commands.subscribe(packet, this.deviceId!, this.out.version, (topic) =>
          this.emit({ kind: 'acl-denied', detail: `subscribe to ${topic} refused`, topic }),
        );
        return;
      case 'unsubscribe':
        this.commands.unsubscribe(packet);
        return;
      case 'puback':
        this.commands.acknowledged(packet.messageId);
        return;
      case 'pingreq':
        this.out.send({ cmd: 'pingresp' });
        return;
      case 'disconnect':
        this.terminate();
        return;
      default:
        this.protocolError(`unexpected ${packet.cmd} packet`);
        return;
    }
  }

  private onConnect(connect: IConnectPacket): void {
    this.state = 'authenticating';
    this.updateReading();
    const version = connect.protocolVersion;
    if (version !== 4 && version !== 5) {
      this.out.send(refusedConnack(4, RC4.unacceptableProtocolVersion, RC5.unsupportedProtocolVersion));
      this.terminate();
      return;
    }
    this.out.version = version;
    this.out.requestProblemInformation = connect.properties?.requestProblemInformation !== false;
    handshake(connect, version, {
      hooks: this.host.hooks,
      remoteAddress: this.remoteAddress,
      authenticating: () => this.state === 'authenticating',
      serverClosing: () => this.host.isClosing(),
      accept: (deviceId) => this.accept(connect, deviceId),
      refuse: (code4, code5) => this.refuse(code4, code5),
      record: (event) => this.emit(event),
    });
  }

  private accept(connect: IConnectPacket, deviceId: string): void {
    this.deviceId = deviceId;
    this.state = 'connected';
    clearTimeout(this.connectTimer);
    this.host.authenticated(this, deviceId);
    const assigned = connect.clientId === '' && this.out.version === 5 ? deviceId : undefined;
    this.out.send(acceptedConnack(connect, this.host.limits, assigned));
    this.out.connackSent = true;
    this.commands.configure(this.out.version, deviceId, connect.properties);
    this.keepalive.start(negotiateKeepalive(connect.keepalive ?? 0, this.host.limits.maxKeepaliveS));
    this.pump();
  }

  private refuse(code4: number, code5: number): void {
    this.out.send(refusedConnack(this.out.version, code4, code5));
    this.terminate();
  }

  private onPublish(publish: IPublishPacket): void {
    const deviceId = this.deviceId!;
    const version = this.out.version;
    if (version === 5 && publish.properties?.topicAlias !== undefined) {
      this.protocolError('topic alias used (Topic Alias Maximum is 0)', RC5.topicAliasInvalid);
      return;
    }
    if (publish.qos === 2) {
      this.protocolError('QoS 2 publish', RC5.qosNotSupported);
      return;
    }
    if (publish.retain && version === 5) {
      this.protocolError('retained publish', RC5.retainNotSupported);
      return;
    }
    const payload = typeof publish.payload === 'string' ? Buffer.from(publish.payload) : publish.payload;
    if (!mayPublish(deviceId, publish.topic)) {
      this.host.count('rejected');
      const recorded = this.emit({
        kind: 'acl-denied',
        detail: 'publish to a topic other than its own readings topic',
        topic: publish.topic,
        payload,
      });
      if (version === 4) {
        this.terminate();
        return;
      }
      if (publish.qos === 1) {
        const reasonString = `publish only to ${readingsTopic(deviceId)}`;
        // The refusal is answered after its dead letter is written, like any other refused reading.
        this.acks.push(
          recorded.then(() => ({
            messageId: publish.messageId!,
            outcome: { accepted: false, reasonCode: RC5.notAuthorized, reasonString },
          })),
        );
      }
      return;
    }
    this.host.count('received');
    const reading = {
      deviceId,
      topic: publish.topic,
      payload,
      qos: publish.qos,
      dup: publish.dup,
      protocolVersion: version,
      remoteAddress: this.remoteAddress,
    };
    const stored = Promise.resolve()
      .then(() => this.host.hooks.onReading(reading))
      .then((outcome) => {
        this.host.count(outcome.accepted ? 'acknowledged' : 'rejected');
        return { ...(publish.qos === 1 ? { messageId: publish.messageId! } : {}), outcome };
      });
    this.acks.push(stored);
  }

  private sendPuback(ack: Ack): void {
    if (ack.messageId === undefined || this.state === 'closed') return;
    this.out.puback(ack.messageId, ack.outcome);
  }

  private protocolError(detail: string, code5: number = RC5.protocolError): void {
    if (this.state === 'closed') return;
    this.emit({ kind: 'protocol-error', detail });
    this.terminate(code5, detail);
  }

  private emit(event: Omit<MqttSecurityEvent, 'source' | 'deviceId'>): Promise<void> {
    return this.host.securityEvent({
      ...event,
      source: this.remoteAddress,
      ...(this.deviceId !== undefined ? { deviceId: this.deviceId } : {}),
    });
  }

  /**
   * Ends the connection: MQTT 5 clients past CONNACK get a DISCONNECT with the reason (3.1.1 has none), then
   * the socket is ended and destroyed if the peer does not close it promptly.
   */
  private terminate(code5?: number, reasonString?: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimers();
    this.framer.clear();
    this.host.ended(this);
    if (code5 !== undefined) this.out.disconnect(code5, reasonString);
    this.socket.end();
    // Keep draining (and discarding) input so the peer's FIN is seen and 'close' comes promptly.
    this.socket.resume();
    setTimeout(() => this.socket.destroy(), END_GRACE_MS).unref();
  }

  private onClosed(): void {
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.clearTimers();
      this.framer.clear();
    }
    this.host.ended(this);
  }

  private clearTimers(): void {
    clearTimeout(this.connectTimer);
    this.keepalive.stop();
  }
}
