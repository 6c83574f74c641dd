import type {
  AfScreenBasis,
  Alarm,
  AlarmNotice,
  AlarmTransition,
  News2Score,
  ObservationIndexEntry,
  ReadingMessage,
  VitalSample,
} from '@openiomt/core';

/**
 * The in-process bus between stages (embedded mode). Stored readings are published here for what comes
 * after the store: analysis, rules, live dashboards. A durable, partitioned bus (NATS JetStream) replaces
 * it in scale-out mode behind the same interface.
 */
export interface StoredReadingEvent {
  readonly deviceId: string;
  readonly seq: number;
  readonly patientId: string;
  readonly receivedAt: string;
  /**
   * The verified message; subscribers that want FHIR map it with core's mapReading (pure, same ids). Ingest
   * supplies it as a getter that decodes the stored JWS payload on first read (the signature was checked
   * on a verify worker), so the hot path pays for decoding on this thread only if a subscriber asks.
   */
  readonly message: ReadingMessage;
  readonly observations: readonly ObservationIndexEntry[];
}

/**
 * What waveform analysis measured over one stretch of a device's signal (analysis/). Rules treat `value`
 * as a point of the vital `code`; `signalQuality` (0..1) feeds the poor-signal technical rule, and the
 * rhythm call feeds the AF rule. The derived Observation is already stored when this is published.
 */
export interface DerivedMeasurementEvent {
  readonly patientId: string;
  readonly deviceId: string;
  /** A vital code of the catalogue: heart-rate (from ECG), pulse-rate (PPG), respiratory-rate. */
  readonly code: 'heart-rate' | 'pulse-rate' | 'respiratory-rate';
  /** Absent when the stretch was too noisy to measure. */
  readonly value?: number;
  /** End of the analysed stretch, epoch ms (device clock). */
  readonly at: number;
  readonly signalQuality: number;
  readonly leadOff?: boolean;
  /** ECG only, when enough beats were seen to call the rhythm. */
  readonly rhythm?: 'af-suspected' | 'not-af';
  /** What the rhythm call rests on (RR irregularity and P waves; the signal package's AfBasis). */
  readonly rhythmBasis?: AfScreenBasis;
  readonly observationIds: readonly string[];
}

/**
 * A vital sign a person entered (FHIR create, alone or in a transaction), published after it committed. The
 * rules, NEWS2, trends, live views and subscriptions treat it like a device's reading; there is no device.
 */
export interface ObservationEnteredEvent {
  readonly patientId: string;
  readonly observationId: string;
  /** Index code of the Observation (a vital code, or blood-pressure for the panel). */
  readonly code: string;
  readonly vitals: readonly VitalSample[];
  /** The stored FHIR Observation. */
  readonly resource: Readonly<Record<string, unknown>>;
}

/** A notification an alarm transition caused (also delivered by webhook; FHIR Communication). */
export type AlarmNotification = AlarmNotice;

/** An alarm changed durably: published after the transaction that recorded it committed. */
export interface AlarmChangedEvent {
  readonly alarm: Alarm;
  readonly transitions: readonly AlarmTransition[];
  readonly notifications: readonly AlarmNotification[];
}

export interface BusEvents {
  /**
   * A reading passed every check and its sequence number is claimed; its commit is under way. The rules
   * listen here, so an alarm does not wait for the reading's own batch to commit (the alarm's transaction
   * may even go first). A commit that fails is retried by the device and seen again.
   */
  'reading.verified': StoredReadingEvent;
  /** The reading is durable and acknowledged to the device. */
  'reading.stored': StoredReadingEvent;
  'device.revoked': { deviceId: string; reason: string };
  /** Quarantined (admin/service.ts): readings refused until released; the live census shows it. */
  'device.quarantined': { deviceId: string; reason: string };
  'device.released': { deviceId: string };
  'analysis.derived': DerivedMeasurementEvent;
  'observation.entered': ObservationEnteredEvent;
  'alarm.changed': AlarmChangedEvent;
  /** A patient's NEWS2 total, band or completeness changed (rules/engine.ts); `at` is when, epoch ms. */
  'news2.scored': { patientId: string; score: News2Score; at: number };
}

type Handler<T> = (event: T) => void;

export class InProcessBus {
  private readonly handlers = new Map<keyof BusEvents, Set<Handler<never>>>();

  subscribe<K extends keyof BusEvents>(topic: K, handler: Handler<BusEvents[K]>): () => void {
    let set = this.handlers.get(topic);
    if (!set) {
      set = new Set();
      this.handlers.set(topic, set);
    }
    set.add(handler as Handler<never>);
    return () => set.delete(handler as Handler<never>);
  }

  /** Delivers synchronously; a failing subscriber does not stop the others or the publisher. */
  publish<K extends keyof BusEvents>(topic: K, event: BusEvents[K]): void {
    for (const h of this.handlers.get(topic) ?? []) {
      try {
        (h as Handler<BusEvents[K]>)(event);
      } catch {
        // Subscribers own their errors; the reading is already durable.
      }
    }
  }
}
