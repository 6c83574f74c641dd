/**
 * What one connection sends its client: packets encoded in the protocol version taken at CONNECT, the
 * PUBACK of each reading, the DISCONNECT that says why the server ends it, and the signal that the client
 * reads too slowly. The counterpart of framer.ts, which takes packets in.
 */
import type net from 'node:net';
import { generate, type Packet } from 'mqtt-packet';
import { pubackReasonCode } from './acl.ts';
import type { MqttReadingOutcome } from './hooks.ts';
import { successPuback } from './puback.ts';

/** Stop reading from a client that does not read its acknowledgements. */
export const WRITE_HIGH_WATER = 256 * 1024;

export class PacketWriter {
  /** The protocol version of the connection: 4 (3.1.1) until a CONNECT says otherwise. */
  version: 4 | 5 = 4;
  /** MQTT 5: the client takes reason strings on PUBACK (it may ask not to, 3.1.2.11.7). */
  requestProblemInformation = true;
  /** The client was let in: from now an MQTT 5 client is told why the server ends the connection. */
  connackSent = false;

  constructor(
    private readonly socket: net.Socket,
    /** Called when the client falls WRITE_HIGH_WATER bytes behind. */
    private readonly backedUp: () => void,
  ) {}

  send(packet: Packet): boolean {
    let bytes: Buffer;
    try {
      bytes = generate(packet, { protocolVersion: this.version });
    } catch {
      this.socket.destroy();
      return false;
    }
    return this.write(bytes);
  }

  /** The PUBACK of a QoS 1 reading; a refused one carries its reason when the client takes reasons. */
  puback(messageId: number, outcome: MqttReadingOutcome): void {
    const reasonCode = this.version === 4 ? 0 : pubackReasonCode(outcome);
    // The common case, built by hand: one per reading, and identical in 3.1.1 and 5 (MQTT 5 omits a success
    // reason code without properties, 3.4.2.1).
    if (reasonCode === 0) {
      this.write(successPuback(messageId));
      return;
    }
    const reasonString = outcome.reasonString;
    const withReason = reasonString !== undefined && this.requestProblemInformation;
    this.send({
      cmd: 'puback',
      messageId,
      reasonCode,
      ...(withReason ? { properties: { reasonString } } : {}),
    });
  }

  /** MQTT 5 clients past CONNACK are told why the connection ends; 3.1.1 has no way to say it. */
  disconnect(code5: number, reasonString?: string): void {
    if (this.version !== 5 || !this.connackSent) return;
    const properties = reasonString ? { reasonString: reasonString.slice(0, 256) } : undefined;
    this.send({ cmd: 'disconnect', reasonCode: code5, ...(properties ? { properties } : {}) });
  }

  private write(bytes: Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    this.socket.write(bytes);
    if (this.socket.writableLength >= WRITE_HIGH_WATER) this.backedUp();
    return true;
  }
}
