import type { ObservationIndexEntry, ReadingMessage } from '@openiomt/core';

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

export interface BusEvents {
  'reading.stored': StoredReadingEvent;
  'device.revoked': { deviceId: string; reason: string };
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
