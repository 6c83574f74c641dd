import type { KeyObject } from 'node:crypto';
import { importEd25519 } from '@openiomt/core';
import { LookupBatch } from '../store/lookup-batch.ts';
import type { Assignment, Device, DeviceKey, Store } from '../store/types.ts';

export interface LiveKey {
  readonly kid: string;
  readonly deviceId: string;
  readonly key: KeyObject;
  /** The public key's JWK `x` (base64url of the raw 32 bytes), how verify workers receive it. */
  readonly x: string;
  readonly notAfterMs?: number;
  readonly revoked: boolean;
}

/**
 * What ingest needs to know about devices, cached in memory because it is asked for every message:
 * keys by kid, device status, assignment history and the highest sequence number. Administrative
 * changes in this process invalidate the cache entry they touch.
 */
export class DeviceRegistry {
  // Only known keys are cached: caching misses would let a flood of made-up kids grow memory.
  private readonly keys = new Map<string, LiveKey>();
  private readonly devices = new Map<string, Device | null>();
  private readonly assignments = new Map<string, Assignment[]>();
  private readonly highSeq = new Map<string, number>();

  // A burst of devices seen for the first time (a ward reconnecting, a fleet provisioned at once) is looked
  // up in one query per kind, not three per device.
  private readonly keyLookups: LookupBatch<string, DeviceKey>;
  private readonly deviceLookups: LookupBatch<string, Device>;
  private readonly historyLookups: LookupBatch<string, Assignment[]>;

  constructor(private readonly store: Store) {
    this.keyLookups = new LookupBatch((kids) => store.devices.keysByKids(kids));
    this.deviceLookups = new LookupBatch((ids) => store.devices.getMany(ids));
    this.historyLookups = new LookupBatch((ids) => store.assignments.historyMany(ids));
  }

  /**
   * Loads what the devices seen since `sinceMs` will be asked for (keys, status, assignment history), in a
   * few queries, before the broker opens: after a restart the whole ward reconnects within a second and
   * sends its backlog, and looking each device up then queued its login behind that backlog's commits.
   * Returns how many devices were loaded.
   */
  async warm(sinceMs: number, limit = 20_000): Promise<number> {
    const { devices, keys } = await this.store.devices.recentlySeen(new Date(sinceMs).toISOString(), limit);
    for (const d of devices) {
      this.devices.set(d.id, d);
      if (!this.highSeq.has(d.id)) this.highSeq.set(d.id, d.highSeq);
    }
    for (const k of keys) this.keys.set(k.kid, toLiveKey(k));
    const ids = devices.map((d) => d.id);
    for (let i = 0; i < ids.length; i += 500) {
      const histories = await this.store.assignments.historyMany(ids.slice(i, i + 500));
      for (const [id, history] of histories) this.assignments.set(id, history);
    }
    return devices.length;
  }

  /** The key if it is cached (the hot path skips a promise then); otherwise use key(). */
  cachedKey(kid: string): LiveKey | undefined {
    return this.keys.get(kid);
  }

  /** The device if it is cached; undefined if unknown or not yet looked up. */
  cachedDevice(id: string): Device | undefined {
    return this.devices.get(id) ?? undefined;
  }

  async key(kid: string): Promise<LiveKey | undefined> {
    const cached = this.keys.get(kid);
    if (cached) return cached;
    const row = await this.keyLookups.load(kid);
    if (!row) return undefined;
    const k = toLiveKey(row);
    this.keys.set(kid, k);
    return k;
  }

  async device(id: string): Promise<Device | undefined> {
    let d = this.devices.get(id);
    if (d === undefined) {
      d = (await this.deviceLookups.load(id)) ?? null;
      this.devices.set(id, d);
      // The row's high_seq moves in the same statement that stores readings, so it is the highest stored
      // sequence number as of this read: no second query for it. Claims made since are kept.
      if (d && !this.highSeq.has(id)) this.highSeq.set(id, d.highSeq);
    }
    return d ?? undefined;
  }

  /** The patient the device was assigned to at `atMs`, from the cached assignment history. */
  async patientAt(deviceId: string, atMs: number): Promise<string | undefined> {
    let history = this.assignments.get(deviceId);
    if (history === undefined) {
      history = (await this.historyLookups.load(deviceId)) ?? [];
      this.assignments.set(deviceId, history);
    }
    for (const a of history) {
      const from = Date.parse(a.from);
      const to = a.to === undefined ? Number.POSITIVE_INFINITY : Date.parse(a.to);
      if (atMs >= from && atMs < to) return a.patientId;
    }
    return undefined;
  }

  async highestSeq(deviceId: string): Promise<number> {
    let s = this.highSeq.get(deviceId);
    if (s === undefined) {
      s = await this.store.readings.highSeq(deviceId);
      this.highSeq.set(deviceId, s);
    }
    return s;
  }

  /** Records a sequence number as taken (before its commit finishes, so a concurrent copy is caught). */
  claimSeq(deviceId: string, seq: number): void {
    if (seq > (this.highSeq.get(deviceId) ?? 0)) this.highSeq.set(deviceId, seq);
  }

  /** Forgets everything about a device (after an admin change, or a failed commit). */
  invalidateDevice(deviceId: string): void {
    this.devices.delete(deviceId);
    this.assignments.delete(deviceId);
    this.highSeq.delete(deviceId);
    for (const [kid, k] of this.keys) if (k.deviceId === deviceId) this.keys.delete(kid);
  }

  invalidateAll(): void {
    this.keys.clear();
    this.devices.clear();
    this.assignments.clear();
    this.highSeq.clear();
  }
}

function toLiveKey(k: DeviceKey): LiveKey {
  const base = {
    kid: k.kid,
    deviceId: k.deviceId,
    key: importEd25519(k.jwk),
    x: k.jwk.x,
    revoked: k.revokedAt !== undefined,
  };
  return k.notAfter === undefined ? base : { ...base, notAfterMs: Date.parse(k.notAfter) };
}
