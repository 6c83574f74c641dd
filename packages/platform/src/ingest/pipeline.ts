import { isSecurityRejection, type Rejection, reject } from '@openiomt/core';
import type { InProcessBus, StoredReadingEvent } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import type { CommitOutcome, DeadLetter, ReadingToStore, SecurityEventKind, Store } from '../store/types.ts';
import type { DeviceRegistry } from './device-registry.ts';
import { GroupCommitter } from './group-commit.ts';
import { type VerifiedMessage, type VerifyPolicy, verifyMessage } from './verify.ts';
import { sharedVerifyPool, type VerifyPool } from './verify-pool.ts';

/** One message as a transport received it. */
export interface IncomingMessage {
  readonly raw: Buffer;
  readonly via: 'mqtt' | 'https';
  /** The device the transport authenticated (MQTT session), if any. */
  readonly authenticatedDevice?: string;
  readonly topic?: string;
  /**
   * The sender marks this as a retry of something it sent before (MQTT DUP flag; HTTPS batch whose
   * Idempotency-Key was seen before). An exact copy of a stored message is a harmless duplicate only then;
   * otherwise it is a replay.
   */
  readonly retry: boolean;
  /** Remote address, for the security log. */
  readonly source: string;
}

export type IngestOutcome =
  | { readonly status: 'accepted' | 'duplicate'; readonly deviceId: string; readonly seq: number }
  | {
      readonly status: 'rejected';
      readonly rejection: Rejection;
      readonly deviceId?: string;
      readonly seq?: number;
    };

interface Refusal {
  readonly letter: Omit<DeadLetter, 'id'>;
  readonly security?: { kind: SecurityEventKind; deviceId?: string; source: string; detail: string };
}

/**
 * The path of a reading from transport to durable store: verify, judge replays, map to FHIR, commit.
 * Nothing is silent: every refusal is dead-lettered (and, for attacks, logged as a security event)
 * before the caller hears the outcome, and the caller acknowledges the device only after that.
 */
export class IngestPipeline {
  private readonly readings: GroupCommitter<ReadingToStore, CommitOutcome>;
  private readonly refusals: GroupCommitter<Refusal, true>;
  private readonly inFlight = new Map<string, { jws: string; done: Promise<CommitOutcome> }>();
  private readonly lanes = new Map<string, Promise<void>>();
  private readonly counts = { accepted: 0, duplicate: 0, rejected: 0 };

  constructor(
    private readonly store: Store,
    private readonly registry: DeviceRegistry,
    private readonly policy: VerifyPolicy,
    private readonly bus: InProcessBus,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
    private readonly pool: VerifyPool | undefined = sharedVerifyPool(),
  ) {
    // One flush at a time, on PostgreSQL too: a transaction's cost is mostly per commit, not per reading
    // (commit.bench: 0.42 ms per reading in batches of 13, 0.28 in batches of 50), so fewer, larger batches
    // spend less CPU. Two overlapping flushes halved the batches and cost the server 15-20 % more CPU per
    // reading, with no better latency (docs/benchmarks.md, stop 12).
    this.readings = new GroupCommitter((batch) => this.commitReadings(batch), 500);
    this.refusals = new GroupCommitter((batch) => this.commitRefusals(batch));
  }

  stats(): Readonly<typeof this.counts> {
    return { ...this.counts };
  }

  /** Waits until everything submitted so far is durable. */
  async drain(): Promise<void> {
    await Promise.all([this.readings.settled(), this.refusals.settled()]);
  }

  /**
   * Messages from one sender are admitted (verified, their sequence number judged and claimed) strictly in
   * arrival order, one lane per authenticated device; commits then overlap freely and are grouped.
   */
  async ingest(m: IncomingMessage): Promise<IngestOutcome> {
    const laneKey = m.authenticatedDevice ?? '';
    const previous = this.lanes.get(laneKey) ?? Promise.resolve();
    const admitted = previous.then(() => this.admit(m));
    const tail = admitted.then(
      () => undefined,
      () => undefined,
    );
    this.lanes.set(laneKey, tail);
    void tail.then(() => {
      if (this.lanes.get(laneKey) === tail) this.lanes.delete(laneKey);
    });
    const next = await admitted;
    return typeof next === 'function' ? next() : next;
  }

  /** Returns an outcome, or the commit still to await (as a thunk, so the lane is not held by it). */
  private async admit(m: IncomingMessage): Promise<IngestOutcome | (() => Promise<IngestOutcome>)> {
    const now = this.clock();
    const verified = await verifyMessage(
      m.raw,
      m.authenticatedDevice,
      now,
      this.policy,
      this.registry,
      this.pool,
    );
    // A refusal the message itself cannot be pinned on (an unknown key, a malformed JWS) is the sender's:
    // its session authenticated as a device, so intrusion detection and the dead-letter filter see it.
    if (!verified.ok)
      return this.refuse(m, verified.rejection, verified.deviceId ?? m.authenticatedDevice, verified.seq);
    const { device, seq } = verified.value.reading;
    const highest = await this.registry.highestSeq(device);
    if (seq <= highest) return this.judgeRepeat(m, verified.value);
    this.registry.claimSeq(device, seq);
    const receivedAt = new Date(now).toISOString();
    const event = readingEvent(verified.value, receivedAt);
    this.bus.publish('reading.verified', event);
    const commit = this.commitNew(m, verified.value, receivedAt, event);
    commit.catch(() => undefined); // awaited by the caller; avoid an unhandled rejection meanwhile
    return () => commit;
  }

  /** Dead-letters a message a transport refused before it reached the pipeline (e.g. an ACL violation). */
  async refuseRaw(m: IncomingMessage, rejection: Rejection, deviceId?: string): Promise<IngestOutcome> {
    return this.refuse(m, rejection, deviceId);
  }

  private async commitNew(
    m: IncomingMessage,
    v: VerifiedMessage,
    receivedAt: string,
    event: StoredReadingEvent,
  ): Promise<IngestOutcome> {
    const { reading, compact, kid, patientId, observations } = v;
    const key = `${reading.device}/${reading.seq}`;
    const record: ReadingToStore = {
      deviceId: reading.device,
      seq: reading.seq,
      patientId,
      kid,
      ts: reading.ts,
      receivedAt,
      via: m.via,
      jws: compact,
      observations,
      ...(reading.status ? { status: reading.status } : {}),
    };
    const done = this.readings.submit(record);
    this.inFlight.set(key, { jws: compact, done });
    let outcome: CommitOutcome;
    try {
      outcome = await done;
    } catch (e) {
      // Not durable: forget what we assumed about the device and let the sender retry.
      this.registry.invalidateDevice(reading.device);
      throw e;
    } finally {
      this.inFlight.delete(key);
    }
    if (!outcome.stored) return this.judgeRepeat(m, v, outcome.existingJws);
    this.counts.accepted++;
    this.bus.publish('reading.stored', event);
    return { status: 'accepted', deviceId: reading.device, seq: reading.seq };
  }

  /** A sequence number at or below the device's highest: a duplicate delivery or a replay. */
  private async judgeRepeat(
    m: IncomingMessage,
    v: VerifiedMessage,
    knownJws?: string,
  ): Promise<IngestOutcome> {
    const { device, seq } = v.reading;
    let existing = knownJws;
    if (existing === undefined) {
      const pending = this.inFlight.get(`${device}/${seq}`);
      if (pending) {
        const outcome = await pending.done.catch(() => undefined);
        existing = pending.jws;
        if (!outcome)
          return this.refuse(
            m,
            reject('replay', `seq ${seq} arrived while its original failed to commit`),
            device,
          );
      } else {
        existing = (await this.store.readings.get(device, seq))?.jws;
      }
    }
    if (existing === undefined)
      return this.refuse(
        m,
        reject('replay', `seq ${seq} is below the device's highest and was never stored`, '/seq'),
        device,
        seq,
      );
    if (existing !== v.compact)
      return this.refuse(
        m,
        reject('replay', `seq ${seq} was already used for a different message`, '/seq'),
        device,
        seq,
      );
    if (!m.retry)
      return this.refuse(
        m,
        reject('replay', `exact copy of stored seq ${seq} without a retry marker`, '/seq'),
        device,
        seq,
      );
    this.counts.duplicate++;
    return { status: 'duplicate', deviceId: device, seq };
  }

  private async refuse(
    m: IncomingMessage,
    rejection: Rejection,
    deviceId?: string,
    seq?: number,
  ): Promise<IngestOutcome> {
    const receivedAt = new Date(this.clock()).toISOString();
    const letter: Omit<DeadLetter, 'id'> = {
      receivedAt,
      via: m.via,
      reason: rejection.code,
      detail: rejection.detail,
      payloadBase64: m.raw.toString('base64'),
      ...(deviceId !== undefined ? { deviceId } : {}),
      ...(m.topic !== undefined ? { topic: m.topic } : {}),
      ...(rejection.field !== undefined ? { field: rejection.field } : {}),
    };
    const security = isSecurityRejection(rejection.code)
      ? {
          kind: rejection.code,
          source: m.source,
          detail: rejection.detail,
          ...(deviceId ? { deviceId } : {}),
        }
      : undefined;
    await this.refusals.submit(security ? { letter, security } : { letter });
    this.counts.rejected++;
    this.log.warn({ reason: rejection.code, deviceId, via: m.via }, 'device message rejected');
    return {
      status: 'rejected',
      rejection,
      ...(deviceId !== undefined ? { deviceId } : {}),
      ...(seq !== undefined ? { seq } : {}),
    };
  }

  private async commitReadings(batch: ReadingToStore[]): Promise<CommitOutcome[]> {
    try {
      return await this.store.readings.commit(batch);
    } catch (e) {
      // Nothing was acknowledged: each device's session is closed and it sends the readings again. Said
      // here, once per failed batch, so an operator sees why devices are being dropped.
      this.log.error(
        { err: (e as Error).message, readings: batch.length },
        'readings could not be stored: their devices were not acknowledged and will send them again',
      );
      throw e;
    }
  }

  private async commitRefusals(batch: Refusal[]): Promise<true[]> {
    try {
      await this.store.deadLetters.addMany(batch.map((r) => r.letter));
      for (const r of batch) if (r.security) await this.store.securityEvents.add(r.security);
    } catch (e) {
      this.log.error(
        { err: (e as Error).message, refusals: batch.length },
        'dead letters could not be stored',
      );
      throw e;
    }
    return batch.map(() => true);
  }
}

/** The bus event (verified, then stored); its message is decoded only if a subscriber reads it. */
function readingEvent(v: VerifiedMessage, receivedAt: string): StoredReadingEvent {
  return {
    deviceId: v.reading.device,
    seq: v.reading.seq,
    patientId: v.patientId,
    receivedAt,
    observations: v.observations,
    get message() {
      return v.message();
    },
  };
}
