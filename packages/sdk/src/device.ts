import { join } from 'node:path';
import { type DataDirLock, lockDataDir } from './data-dir-lock.ts';
import { checkBaseUrl, HttpPublisher, type HttpPublisherOptions } from './http-transport.ts';
import type { DeviceKeyPair } from './keys.ts';
import { checkMqttUrl, MqttPublisher, type MqttPublisherOptions } from './mqtt-transport.ts';
import { Outbox, type OutboxOptions, type OutboxStats } from './outbox.ts';
import { FileSequenceStore, type SequenceStore } from './sequence.ts';
import { type ReadingContent, ReadingSigner } from './signer.ts';

type Common = 'deviceId' | 'signer' | 'outbox';
export type DeviceTransportOptions =
  | ({ readonly kind: 'mqtt' } & Omit<MqttPublisherOptions, Common>)
  | ({ readonly kind: 'http' } & Omit<HttpPublisherOptions, Common>);

export interface DeviceClientOptions {
  readonly deviceId: string;
  readonly key: DeviceKeyPair;
  /** Holds the sequence file and the outbox folder; one folder per device (a gateway opens several). */
  readonly dataDir: string;
  readonly transport: DeviceTransportOptions;
  readonly outbox?: OutboxOptions;
  /** Replaces the file sequence store in dataDir (tests, or a device with its own secure counter). */
  readonly sequence?: SequenceStore;
  readonly clock?: () => number;
}

/**
 * One device end to end: sign a reading, store it durably, deliver it in the background. `send` resolves
 * once the reading is on disk, so it survives a crash or an outage from then on.
 */
export class DeviceClient {
  private constructor(
    readonly signer: ReadingSigner,
    readonly outbox: Outbox,
    private readonly publisher: MqttPublisher | HttpPublisher,
    private readonly lock: DataDirLock,
  ) {}

  static async open(opts: DeviceClientOptions): Promise<DeviceClient> {
    // Checked before anything is opened: a transport without its address would never deliver.
    const transport = opts.transport as { kind?: unknown; url?: unknown; baseUrl?: unknown };
    if (transport.kind === 'mqtt') checkMqttUrl(transport);
    else if (transport.kind === 'http') checkBaseUrl(transport);
    else throw new Error("transport.kind must be 'mqtt' or 'http'");
    const lock = await lockDataDir(opts.dataDir);
    let outbox: Outbox;
    try {
      outbox = await Outbox.open(join(opts.dataDir, 'outbox'), opts.outbox);
    } catch (e) {
      await lock.release();
      throw e;
    }
    const sequence = opts.sequence ?? new FileSequenceStore(join(opts.dataDir, 'sequence'));
    const signer = new ReadingSigner({
      deviceId: opts.deviceId,
      key: opts.key,
      sequence,
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    const common = { deviceId: opts.deviceId, signer, outbox };
    const { kind, ...rest } = opts.transport;
    const publisher =
      kind === 'mqtt'
        ? new MqttPublisher({ ...(rest as Omit<MqttPublisherOptions, Common>), ...common })
        : new HttpPublisher({ ...(rest as Omit<HttpPublisherOptions, Common>), ...common });
    publisher.start();
    return new DeviceClient(signer, outbox, publisher, lock);
  }

  /** Signs and stores one reading; returns its seq. Delivery happens in the background. */
  async send(content: ReadingContent): Promise<number> {
    const { seq, jws } = await this.signer.sign(content);
    await this.outbox.append(jws);
    return seq;
  }

  /** The outbox's counters (records waiting, bytes, dropped since it was opened, …). */
  stats(): OutboxStats {
    return this.outbox.stats();
  }

  /** Resolves when everything sent so far has been acknowledged by the platform (stored, or refused and
   * reported to onRejected) or dropped by the outbox policy (reported to onDrop). */
  flushed(): Promise<void> {
    return this.publisher.flushed();
  }

  /** Stops delivery and closes the outbox; undelivered readings are sent after the next open. */
  async close(): Promise<void> {
    await this.publisher.stop();
    await this.outbox.close();
    await this.lock.release();
  }
}
