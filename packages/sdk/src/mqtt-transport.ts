import { commandsTopic, readingsTopic } from '@openiomt/core';
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import { Backoff, type BackoffOptions } from './backoff.ts';
import type { Outbox, OutboxRecord } from './outbox.ts';
import type { ReadingSigner } from './signer.ts';
import { seqOf } from './wire.ts';

export interface MqttPublisherOptions {
  /** mqtt://host:port or mqtts://host:port */
  readonly url: string;
  readonly deviceId: string;
  /** Signs a fresh device token for every connection attempt. */
  readonly signer: ReadingSigner;
  readonly outbox: Outbox;
  readonly protocolVersion?: 4 | 5;
  readonly tls?: { readonly ca?: string | Buffer; readonly rejectUnauthorized?: boolean };
  /** Publishes awaiting PUBACK at once. Default 32. */
  readonly maxInflight?: number;
  readonly reconnect?: BackoffOptions;
  readonly keepaliveS?: number;
  readonly connectTimeoutMs?: number;
  /** Lifetime of the CONNECT token; it is only checked at CONNECT. Default 300 s. */
  readonly tokenLifetimeS?: number;
  /** The platform refused a reading for good (MQTT 5 PUBACK reason code >= 0x80), or it was not sent at
   * all because its packet exceeds the broker's Maximum Packet Size (reason 'oversize …'). Not resent. */
  readonly onRejected?: (seq: number | undefined, reason: string, jws: string) => void;
  readonly onCommand?: (payload: Buffer) => void;
  /** Connection state changes, for status displays; `error` is the cause of a failed attempt. */
  readonly onConnection?: (connected: boolean, error?: Error) => void;
}

interface Slot {
  readonly id: number;
  done: boolean;
}

/**
 * Delivers the outbox over MQTT at QoS 1, oldest first, with a bounded window in flight. The outbox is
 * acknowledged only for contiguous PUBACKs, so a record leaves it only once it and everything before it is
 * durable at the platform. Records sent before (per the outbox's durable sent mark) are resent with DUP.
 * Every connection attempt is a new client with a freshly signed token.
 */
export class MqttPublisher {
  private readonly maxInflight: number;
  private readonly backoff: Backoff;
  private client: MqttClient | undefined;
  /** Incremented per connection; callbacks of an older connection are ignored. */
  private generation = 0;
  private connected = false;
  private running = false;
  private inflight: Slot[] = [];
  private nextId = 0;
  private pumping = false;
  private pumpAgain = false;
  private lastAck: Promise<void> = Promise.resolve();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  /** The broker's Maximum Packet Size from the CONNACK (MQTT 5); a larger packet makes it drop us. */
  private maxPacketBytes = Number.POSITIVE_INFINITY;

  constructor(private readonly opts: MqttPublisherOptions) {
    checkMqttUrl(opts as MqttPublisherOptions & { baseUrl?: unknown });
    this.maxInflight = opts.maxInflight ?? 32;
    if (!Number.isInteger(this.maxInflight) || this.maxInflight < 1 || this.maxInflight > 65_535)
      throw new Error('maxInflight must be an integer 1..65535');
    this.backoff = new Backoff(opts.reconnect);
  }

  get isConnected(): boolean {
    return this.connected;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.opts.outbox.onAvailable(() => this.pump());
    this.connect();
  }

  /** Disconnects at once. Records in flight stay in the outbox and are resent (DUP) next time. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    await this.dropClient();
    await this.lastAck;
  }

  /** Resolves when the outbox is empty: everything appended was acknowledged (or dropped/rejected). */
  flushed(): Promise<void> {
    return this.opts.outbox.drained();
  }

  private connect(): void {
    const gen = ++this.generation;
    const { tls } = this.opts;
    const options: IClientOptions = {
      clientId: this.opts.deviceId,
      username: this.opts.deviceId,
      password: this.opts.signer.token(this.opts.tokenLifetimeS ?? 300),
      protocolVersion: this.opts.protocolVersion ?? 5,
      clean: true,
      reconnectPeriod: 0, // we reconnect ourselves, with a fresh token
      resubscribe: false,
      keepalive: this.opts.keepaliveS ?? 60,
      connectTimeout: this.opts.connectTimeoutMs ?? 10_000,
      ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls?.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
    };
    const client = mqtt.connect(this.opts.url, options);
    this.client = client;
    let lastError: Error | undefined;
    client.on('error', (e) => {
      lastError = e;
    });
    client.on('connect', (connack) => {
      if (gen !== this.generation) return;
      this.maxPacketBytes = connack.properties?.maximumPacketSize ?? Number.POSITIVE_INFINITY;
      this.connected = true;
      this.backoff.reset();
      this.inflight = [];
      this.nextId = 0;
      this.notify(true);
      client.subscribe(commandsTopic(this.opts.deviceId), { qos: 1 }, () => undefined);
      this.pump();
    });
    client.on('message', (topic, payload) => {
      if (topic !== commandsTopic(this.opts.deviceId)) return;
      try {
        this.opts.onCommand?.(payload);
      } catch {
        // The application's handler must not break delivery.
      }
    });
    client.on('close', () => {
      if (gen !== this.generation) return;
      this.disconnected(lastError);
    });
  }

  private disconnected(error: Error | undefined): void {
    const wasConnected = this.connected;
    this.connected = false;
    this.generation += 1;
    const old = this.client;
    this.client = undefined;
    old?.end(true);
    if (wasConnected || error) this.notify(false, error);
    if (!this.running) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.running) this.connect();
    }, this.backoff.next());
  }

  private async dropClient(): Promise<void> {
    this.generation += 1;
    const wasConnected = this.connected;
    this.connected = false;
    const client = this.client;
    this.client = undefined;
    if (client) await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
    if (wasConnected) this.notify(false);
  }

  private notify(connected: boolean, error?: Error): void {
    try {
      this.opts.onConnection?.(connected, error);
    } catch {
      // Observers must not break delivery.
    }
  }

  /** Fills the in-flight window from the outbox. One pump at a time; a request during it re-runs it. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.fill()
      .catch((e: Error) => {
        // A failing outbox read or sent-mark write: drop the connection and retry later.
        if (this.client) this.disconnected(e);
      })
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.pump();
        }
      });
  }

  private async fill(): Promise<void> {
    const gen = this.generation;
    while (this.connected && gen === this.generation && this.inflight.length < this.maxInflight) {
      const records = await this.opts.outbox.peek(this.maxInflight - this.inflight.length, this.nextId);
      if (records.length === 0 || gen !== this.generation) return;
      // The sent mark is on disk before the first send, so a crash cannot turn a resend into a replay.
      if (records.some((r) => !r.sent)) await this.opts.outbox.markSent(records.at(-1)!.id);
      if (gen !== this.generation) return;
      for (const r of records) this.publish(gen, r);
    }
  }

  private publish(gen: number, record: OutboxRecord): void {
    const client = this.client!;
    const slot: Slot = { id: record.id, done: false };
    this.inflight.push(slot);
    this.nextId = record.id + 1;
    const size = publishPacketBytes(
      readingsTopic(this.opts.deviceId),
      record.jws,
      this.opts.protocolVersion ?? 5,
    );
    if (size > this.maxPacketBytes) {
      // The broker would close the connection and we would resend it forever, blocking everything behind.
      this.rejected(
        record,
        `oversize: packet of ${size} bytes exceeds the broker's maximum of ${this.maxPacketBytes}`,
      );
      this.complete(slot);
      return;
    }
    client.publish(
      readingsTopic(this.opts.deviceId),
      record.jws,
      { qos: 1, dup: record.sent },
      (err?: Error, packet?: Packet) => this.onPuback(gen, slot, record, err, packet),
    );
  }

  private onPuback(gen: number, slot: Slot, record: OutboxRecord, err?: Error, packet?: Packet): void {
    if (gen !== this.generation) return; // that connection is gone; the record is resent with DUP
    if (err) {
      const code = (err as Error & { code?: unknown }).code;
      if (typeof code !== 'number' || code < 0x80) return; // not a verdict on the message
      const props = (packet as { properties?: { reasonString?: string } } | undefined)?.properties;
      this.rejected(record, props?.reasonString ?? `${err.message} (0x${code.toString(16)})`);
    }
    this.complete(slot);
  }

  private rejected(record: OutboxRecord, reason: string): void {
    try {
      this.opts.onRejected?.(seqOf(record.jws), reason, record.jws);
    } catch {
      // The record is dead-lettered at the platform (or unsendable) either way.
    }
  }

  /** Marks a slot finished and acknowledges the outbox through the contiguous run of finished slots. */
  private complete(slot: Slot): void {
    slot.done = true;
    let through = -1;
    while (this.inflight[0]?.done) through = this.inflight.shift()!.id;
    if (through >= 0) {
      // The outbox drops the records from memory at once and coalesces the cursor writes.
      const acked = this.opts.outbox.ackThrough(through).catch(() => undefined);
      this.lastAck = Promise.all([this.lastAck, acked]).then(() => undefined);
    }
    this.pump();
  }
}

/** Bytes of a QoS 1 PUBLISH without properties: fixed header, topic, packet id, (v5) property length, payload. */
export function publishPacketBytes(topic: string, payload: string, protocolVersion: 4 | 5): number {
  const remaining =
    2 + Buffer.byteLength(topic) + 2 + (protocolVersion === 5 ? 1 : 0) + Buffer.byteLength(payload);
  const lengthBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  return 1 + lengthBytes + remaining;
}

/** Throws a clear error for a missing url (a `baseUrl` given instead never connects). */
export function checkMqttUrl(opts: { url?: unknown; baseUrl?: unknown }): void {
  if (typeof opts.url !== 'string' || opts.url === '')
    throw new Error(
      opts.baseUrl !== undefined
        ? "the MQTT transport takes url (e.g. 'mqtts://iomt.example.org:8883'), not baseUrl (that is HTTPS's)"
        : "the MQTT transport needs url, e.g. 'mqtts://iomt.example.org:8883'",
    );
  const scheme = /^([a-z]+):\/\//.exec(opts.url)?.[1];
  if (!scheme || !['mqtt', 'mqtts', 'ws', 'wss'].includes(scheme))
    throw new Error(`url must be an mqtts:// (or mqtt://) URL, got ${opts.url}`);
}
