/**
 * The device's only subscription: its own commands topic. Handles SUBSCRIBE / UNSUBSCRIBE and the commands the
 * platform sends (QoS 0 or 1; no retransmission, as no session state is kept across connections).
 */
import { commandsTopic } from '@openiomt/core';
import type { IConnectPacket, ISubscribePacket, IUnsubscribePacket, Packet } from 'mqtt-packet';
import { grantedQos, maySubscribe } from './acl.ts';
import { RC5 } from './reason-codes.ts';

const MAX_MESSAGE_ID = 65_535;

export class CommandChannel {
  private version: 4 | 5 = 4;
  private topic: string | undefined;
  private grantedQos: 0 | 1 | undefined;
  /** MQTT 5 limits the client set in CONNECT: how many unacknowledged QoS 1 messages and how big a packet. */
  private receiveMaximum = MAX_MESSAGE_ID;
  private maximumPacketSize = Number.POSITIVE_INFINITY;
  private readonly unacknowledged = new Set<number>();
  private nextMessageId = 1;

  constructor(private readonly send: (packet: Packet) => boolean) {}

  configure(version: 4 | 5, deviceId: string, properties: IConnectPacket['properties']): void {
    this.version = version;
    this.topic = commandsTopic(deviceId);
    if (properties?.receiveMaximum) this.receiveMaximum = properties.receiveMaximum;
    if (properties?.maximumPacketSize) this.maximumPacketSize = properties.maximumPacketSize;
  }

  subscribe(
    packet: ISubscribePacket,
    deviceId: string,
    version: 4 | 5,
    denied: (topicFilter: string) => void,
  ): void {
    const granted = packet.subscriptions.map((subscription) => {
      const allowed = maySubscribe(deviceId, subscription.topic);
      if (!allowed) denied(subscription.topic);
      else this.grantedQos = Math.min(subscription.qos, 1) as 0 | 1;
      return grantedQos(allowed, subscription.qos, version);
    });
    this.send({ cmd: 'suback', messageId: packet.messageId!, granted });
  }

  unsubscribe(packet: IUnsubscribePacket): void {
    const granted = packet.unsubscriptions.map((topicFilter) => {
      if (topicFilter !== this.topic || this.grantedQos === undefined) return RC5.noSubscriptionExisted;
      this.grantedQos = undefined;
      return RC5.success;
    });
    // MQTT 3.1.1 UNSUBACK carries no codes; the generator leaves them out for version 4.
    this.send({ cmd: 'unsuback', messageId: packet.messageId!, granted });
  }

  /** The client's PUBACK for a command; unknown ids are ignored (the command is not resent anyway). */
  acknowledged(messageId: number | undefined): void {
    if (messageId !== undefined) this.unacknowledged.delete(messageId);
  }

  /** Sends a command at min(requested, granted) QoS; false when unsubscribed or over the client's limits. */
  publish(payload: Buffer | string, requestedQos: 0 | 1): boolean {
    if (this.topic === undefined || this.grantedQos === undefined) return false;
    const qos = Math.min(requestedQos, this.grantedQos) as 0 | 1;
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (this.approximateSize(body) > this.maximumPacketSize) return false;
    if (qos === 0) {
      return this.send({
        cmd: 'publish',
        topic: this.topic,
        payload: body,
        qos: 0,
        retain: false,
        dup: false,
      });
    }
    const messageId = this.allocateMessageId();
    if (messageId === undefined) return false;
    const sent = this.send({
      cmd: 'publish',
      topic: this.topic,
      payload: body,
      qos: 1,
      retain: false,
      dup: false,
      messageId,
    });
    if (!sent) this.unacknowledged.delete(messageId);
    return sent;
  }

  /** Upper bound of the PUBLISH packet size: fixed header (5), topic (2 + n), id (2), properties (1). */
  private approximateSize(body: Buffer): number {
    return 5 + 2 + Buffer.byteLength(this.topic ?? '') + 2 + (this.version === 5 ? 1 : 0) + body.length;
  }

  private allocateMessageId(): number | undefined {
    const limit = this.version === 5 ? this.receiveMaximum : MAX_MESSAGE_ID;
    if (this.unacknowledged.size >= limit) return undefined;
    for (let tries = 0; tries < MAX_MESSAGE_ID; tries++) {
      const id = this.nextMessageId;
      this.nextMessageId = id === MAX_MESSAGE_ID ? 1 : id + 1;
      if (!this.unacknowledged.has(id)) {
        this.unacknowledged.add(id);
        return id;
      }
    }
    return undefined;
  }
}
