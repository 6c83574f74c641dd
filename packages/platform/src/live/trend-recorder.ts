/**
 * Keeps the trend store current from the bus: every numeric vital sign of a stored reading (at its own
 * measurement time), every value waveform analysis derives, and every NEWS2 total the rules publish. Values
 * are summed into minute buckets in memory and written every 15 s, before a trend is read and at close,
 * so the bus handlers only touch memory. The write goes in chunks: one UPSERT of a ward's buckets took
 * ~150 ms of the embedded database for 2,000 patients, and readings' commits and alarm changes queued
 * behind it; chunks let them through in between. A crash loses at most the last 15 s of these minute
 * aggregates (the readings themselves are durable).
 *
 * It also remembers the latest value of each numeric vital sign per patient, for the census; a patient
 * not seen since start is filled from the stored readings once (store/latest-vitals.ts).
 */
import { type News2Score, VITALS, type VitalCode, type VitalSample } from '@openiomt/core';
import type { DerivedMeasurementEvent, InProcessBus, StoredReadingEvent } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import { NEWS2_TREND_CODE, NUMERIC_VITAL_CODES, TREND_CODES } from './query.ts';
import { type TrendBucket, type TrendPoint, type TrendRepository, trendRepository } from './trend-store.ts';

export interface LatestValue {
  readonly value: number;
  readonly unit?: string;
  /** Measurement time, epoch ms. */
  readonly at: number;
}

const MINUTE_MS = 60_000;
const TRENDED = new Set(TREND_CODES);
const NUMERIC = new Set(NUMERIC_VITAL_CODES);
/** Index codes of the stored observations that carry numeric vitals (BP pairs are indexed as a panel). */
const LATEST_INDEX_CODES = [...NUMERIC_VITAL_CODES, 'blood-pressure'];
/** How often pending buckets are written, and how many at most in one statement. */
const FLUSH_MS = 15_000;
const CHUNK = 500;
/** Above this many unwritten buckets (database down for long) new ones are dropped rather than kept. */
const MAX_PENDING = 500_000;

export class TrendRecorder {
  private pending = new Map<string, TrendBucket>();
  private readonly latestByPatient = new Map<string, Map<string, LatestValue>>();
  /** Patients whose latest values were read from the store (after that, memory is complete). */
  private readonly loaded = new Set<string>();
  private readonly repo: TrendRepository;
  private readonly unsubscribe: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private dropped = 0;

  constructor(private readonly deps: { store: Store; bus: InProcessBus; log?: Logger; flushMs?: number }) {
    this.repo = trendRepository(deps.store.db);
  }

  start(): this {
    const { bus } = this.deps;
    this.unsubscribe.push(
      bus.subscribe('reading.stored', (e) => this.onReading(e)),
      bus.subscribe('analysis.derived', (d) => this.onDerived(d)),
      bus.subscribe('observation.entered', (e) => this.onVitals(e.patientId, e.vitals, undefined)),
      bus.subscribe('news2.scored', (e) => this.onNews2(e.patientId, e.score, e.at)),
    );
    this.timer = setInterval(() => void this.flush(), this.deps.flushMs ?? FLUSH_MS);
    this.timer.unref();
    return this;
  }

  /** Writes what is pending; resolves when written (a failure is logged and retried at the next flush). */
  flush(patientId?: string): Promise<void> {
    this.flushing = this.flushing.then(() => this.write(patientId));
    return this.flushing;
  }

  /** Stops listening and writes what is pending. */
  async close(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe.length = 0;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  /** A patient's series, with their values received so far written first (a chart shows the last values). */
  async trends(
    patientId: string,
    codes: readonly string[] | undefined,
    from: number,
    to: number,
    bucketSeconds: number,
  ): Promise<Record<string, TrendPoint[]>> {
    await this.flush(patientId);
    return this.repo.trends(patientId, codes, from, to, bucketSeconds);
  }

  /** The latest value of each numeric vital sign measured at or after `since` (epoch ms). */
  async latest(patientId: string, since: number): Promise<Record<string, LatestValue>> {
    if (!this.loaded.has(patientId)) {
      const stored = await this.deps.store.vitals.latest(
        patientId,
        LATEST_INDEX_CODES,
        new Date(since).toISOString(),
      );
      for (const v of stored)
        if (typeof v.value === 'number') this.remember(patientId, v.code, v.value, v.at);
      this.loaded.add(patientId);
    }
    const out: Record<string, LatestValue> = {};
    for (const [code, v] of this.latestByPatient.get(patientId) ?? []) if (v.at >= since) out[code] = v;
    return out;
  }

  private onReading(e: StoredReadingEvent): void {
    this.onVitals(e.patientId, e.message.vitals, e.message.ts);
  }

  /** Vitals from a device's reading or entered by a person (`ts`: when the vitals without a time were taken). */
  private onVitals(patientId: string, vitals: readonly VitalSample[], ts: string | undefined): void {
    for (const v of vitals) {
      if (typeof v.value !== 'number' || !TRENDED.has(v.code)) continue;
      const at = Date.parse(v.at ?? ts ?? '');
      if (!Number.isFinite(at)) continue;
      this.add(patientId, v.code, v.value, at);
      this.remember(patientId, v.code, v.value, at);
    }
  }

  private onDerived(d: DerivedMeasurementEvent): void {
    if (d.value === undefined || !Number.isFinite(d.value)) return;
    this.add(d.patientId, d.code, d.value, d.at);
    this.remember(d.patientId, d.code, d.value, d.at);
  }

  private onNews2(patientId: string, score: News2Score, at: number): void {
    this.add(patientId, NEWS2_TREND_CODE, score.total, at);
  }

  private add(patientId: string, code: string, value: number, at: number): void {
    if (!Number.isFinite(at) || !Number.isFinite(value)) return;
    const bucket = Math.floor(at / MINUTE_MS) * MINUTE_MS;
    const key = keyOf(patientId, code, bucket);
    const b = this.pending.get(key);
    if (b) {
      b.n++;
      b.sum += value;
      if (value < b.min) b.min = value;
      if (value > b.max) b.max = value;
      return;
    }
    if (this.pending.size >= MAX_PENDING) {
      this.dropped++;
      return;
    }
    this.pending.set(key, { patientId, code, bucket, n: 1, sum: value, min: value, max: value });
  }

  private remember(patientId: string, code: string, value: number, at: number): void {
    if (!NUMERIC.has(code)) return;
    let codes = this.latestByPatient.get(patientId);
    if (!codes) {
      codes = new Map();
      this.latestByPatient.set(patientId, codes);
    }
    const previous = codes.get(code);
    if (previous && previous.at > at) return;
    const unit = VITALS[code as VitalCode].unit;
    codes.set(code, { value, at, ...(unit ? { unit } : {}) });
  }

  /** One patient's pending buckets, taken out of the rest (a chart read writes only what it shows). */
  private takePatient(patientId: string): Map<string, TrendBucket> {
    const taken = new Map<string, TrendBucket>();
    for (const [key, b] of this.pending)
      if (b.patientId === patientId) {
        taken.set(key, b);
        this.pending.delete(key);
      }
    return taken;
  }

  /** Writes the pending buckets (only one patient's when named). */
  private async write(patientId?: string): Promise<void> {
    if (this.dropped > 0) {
      this.deps.log?.warn({ dropped: this.dropped }, 'trend buckets dropped: the database kept refusing');
      this.dropped = 0;
    }
    if (this.pending.size === 0) return;
    const batch = patientId === undefined ? this.pending : this.takePatient(patientId);
    if (patientId === undefined) this.pending = new Map();
    try {
      const buckets = [...batch.values()];
      for (let i = 0; i < buckets.length; i += CHUNK) {
        await this.repo.upsert(buckets.slice(i, i + CHUNK));
        // Written: a failure in a later chunk must not put these back (they would count twice).
        for (const b of buckets.slice(i, i + CHUNK)) batch.delete(keyOf(b.patientId, b.code, b.bucket));
      }
    } catch (err) {
      this.deps.log?.error({ err }, 'writing vital trends failed; retrying at the next flush');
      // Put the batch back, merged with whatever arrived meanwhile.
      for (const [key, b] of batch) {
        const now = this.pending.get(key);
        if (!now) this.pending.set(key, b);
        else {
          now.n += b.n;
          now.sum += b.sum;
          now.min = Math.min(now.min, b.min);
          now.max = Math.max(now.max, b.max);
        }
      }
    }
  }
}

const keyOf = (patientId: string, code: string, bucket: number) => `${patientId}\u0000${code}\u0000${bucket}`;
