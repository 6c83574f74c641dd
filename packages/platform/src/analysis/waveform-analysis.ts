/**
 * Live waveform analysis: listens to stored readings on the bus, feeds each device's ECG lead, PPG and
 * respiration wave to a streaming analyser, stores what every completed window measured as FHIR
 * Observations with a Provenance (core's mapDerived), then announces each measurement on the bus for the
 * rules ('analysis.derived').
 *
 * It must never slow or break ingest: the bus handler only queues (readings without waveforms are ignored
 * before their payload is even decoded), work runs later in arrival order per device, one reading at a
 * time with a yield to the event loop between readings, and the queue is bounded: past the bound a reading
 * is not analysed (counted, warned about without patient data); its storage is not affected. Errors are
 * caught, counted and logged.
 */
import { isWaveformCode, type MappedDerived, mapDerived, RATE_CODE } from '@openiomt/core';
import {
  RESP_SPAN_S,
  type StreamOptions,
  WAVEFORM_ANALYSIS_VERSION,
  WaveformStream,
  type WindowResult,
} from '@openiomt/signal';
import type { DerivedMeasurementEvent, InProcessBus, StoredReadingEvent } from '../bus/bus.ts';
import { GroupCommitter } from '../ingest/group-commit.ts';
import type { Logger } from '../log.ts';
import type { DerivedToStore } from '../store/derived.ts';
import type { Store } from '../store/types.ts';
import { type Channel, channelsOf, SourceLog, toStreamChunk } from './channels.ts';

/** Window, HRV and AF spans of the analyser (seconds); the derived Observations' periods follow them. */
export const ANALYSIS_WINDOWS = {
  windowS: 10,
  hrvWindowS: 300,
  afWindowS: 60,
} as const satisfies StreamOptions;

export interface WaveformAnalysisOptions {
  /** Readings waiting for analysis, all devices together, before new ones are skipped (default 2000). */
  readonly maxQueue?: number;
  /** The clock for Provenance.recorded. */
  readonly now?: () => Date;
}

export interface WaveformAnalysisCounts {
  /** Readings analysed, their results (if a window completed) stored and announced. */
  analysed: number;
  /** Readings not analysed because the queue was full. */
  skipped: number;
  /** Readings whose analysis failed (logged). */
  failed: number;
  /** Windows stored and announced. */
  windows: number;
}

/** One analysed waveform of one device. */
interface StreamEntry {
  readonly code: Channel['code'];
  readonly stream: WaveformStream;
  readonly sources: SourceLog;
}

interface DeviceState {
  patientId: string;
  readonly streams: Map<Channel['kind'], StreamEntry>;
}

const CHUNK_RETENTION_MS = (Math.max(ANALYSIS_WINDOWS.windowS, RESP_SPAN_S) + 15) * 1000;
const WINDOW_RETENTION_MS =
  (Math.max(ANALYSIS_WINDOWS.hrvWindowS, ANALYSIS_WINDOWS.afWindowS) + ANALYSIS_WINDOWS.windowS) * 1000;

export class WaveformAnalysis {
  readonly counts: WaveformAnalysisCounts = { analysed: 0, skipped: 0, failed: 0, windows: 0 };
  private readonly maxQueue: number;
  private readonly now: () => Date;
  private readonly lanes = new Map<string, StoredReadingEvent[]>();
  private readonly devices = new Map<string, DeviceState>();
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private unsubscribe: (() => void)[] = [];
  private closed = false;
  /**
   * What the devices' windows derived, written together: a ward's windows complete a few hundred times a
   * second, and one insert each kept the embedded database's single connection busy with round trips.
   */
  private readonly writer: GroupCommitter<readonly DerivedToStore[], undefined>;

  constructor(
    private readonly deps: { readonly bus: InProcessBus; readonly store: Store; readonly log: Logger },
    options: WaveformAnalysisOptions = {},
  ) {
    this.maxQueue = options.maxQueue ?? 2000;
    this.now = options.now ?? (() => new Date());
    this.writer = new GroupCommitter(async (batches) => {
      await deps.store.derivedObservations.addMany(batches.flat());
      return batches.map(() => undefined);
    }, 100);
  }

  /** Subscribes to the bus. */
  start(): this {
    if (this.unsubscribe.length > 0 || this.closed) return this;
    this.unsubscribe = [
      this.deps.bus.subscribe('reading.stored', (e) => this.enqueue(e)),
      this.deps.bus.subscribe('device.revoked', (e) => this.devices.delete(e.deviceId)),
    ];
    return this;
  }

  /** Resolves when every queued reading has been analysed (or failed). */
  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops listening, then finishes what is queued (call before the store closes). */
  async close(): Promise<void> {
    this.closed = true;
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    await this.drain();
  }

  private enqueue(e: StoredReadingEvent): void {
    // The index says whether there is any waveform; the payload is decoded only when there is.
    if (this.closed || !e.observations.some((o) => isWaveformCode(o.code))) return;
    if (this.pending >= this.maxQueue) {
      this.counts.skipped++;
      if (this.counts.skipped === 1 || this.counts.skipped % 1000 === 0)
        this.deps.log.warn(
          { skipped: this.counts.skipped, queued: this.pending },
          'waveform analysis queue full: readings not analysed',
        );
      return;
    }
    this.pending++;
    const lane = this.lanes.get(e.deviceId);
    if (lane) {
      lane.push(e);
      return;
    }
    const fresh = [e];
    this.lanes.set(e.deviceId, fresh);
    setImmediate(() => void this.runLane(e.deviceId, fresh));
  }

  private async runLane(deviceId: string, lane: StoredReadingEvent[]): Promise<void> {
    for (let e = lane.shift(); e !== undefined; e = lane.shift()) {
      try {
        await this.analyse(e);
      } catch (err) {
        this.counts.failed++;
        this.deps.log.error({ deviceId, err: errorText(err) }, 'waveform analysis failed for a reading');
      } finally {
        this.pending--;
      }
      // Let ingest and everything else run between readings.
      if (lane.length > 0) await new Promise((r) => setImmediate(r));
    }
    this.lanes.delete(deviceId);
    if (this.pending === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private async analyse(e: StoredReadingEvent): Promise<void> {
    const channels = channelsOf(e.message);
    if (channels.length === 0) return;
    const device = this.deviceState(e);
    const produced: { mapped: MappedDerived; result: WindowResult }[] = [];
    for (const channel of channels) {
      const entry = streamFor(device, channel);
      for (const { chunk, observationId } of channel.chunks) {
        const input = toStreamChunk(chunk);
        if (!input) continue;
        entry.sources.addChunk({ id: observationId, startMs: input.startMs, endMs: input.endMs });
        for (const result of entry.stream.push(input)) {
          const mapped = this.map(e, entry, result);
          produced.push({ mapped, result });
          // ECG windows are cited by later HRV and rhythm Observations through their rate Observation.
          if (result.kind === 'ecg')
            entry.sources.addWindow({
              id: mapped.observations[0]?.id as string,
              startMs: result.startMs,
              endMs: result.endMs,
            });
        }
      }
    }
    if (produced.length > 0) {
      const windows: DerivedToStore[] = produced.map(({ mapped }) => ({
        ...mapped,
        patientId: e.patientId,
        deviceId: e.deviceId,
      }));
      await this.writer.submit(windows);
    }
    this.counts.analysed++;
    this.counts.windows += produced.length;
    for (const p of produced)
      this.deps.bus.publish('analysis.derived', measurementEvent(e, p.result, p.mapped));
  }

  private deviceState(e: StoredReadingEvent): DeviceState {
    let device = this.devices.get(e.deviceId);
    // A device moved to another patient starts afresh: no window may mix two people's signals.
    if (device && device.patientId !== e.patientId) device = undefined;
    if (!device) {
      device = { patientId: e.patientId, streams: new Map() };
      this.devices.set(e.deviceId, device);
    }
    return device;
  }

  private map(e: StoredReadingEvent, entry: StreamEntry, result: WindowResult): MappedDerived {
    return mapDerived({
      deviceId: e.deviceId,
      patientId: e.patientId,
      sourceCode: entry.code,
      window: result,
      sources: entry.sources.sourcesFor(result.endMs),
      algorithmVersion: WAVEFORM_ANALYSIS_VERSION,
      recorded: this.now().toISOString(),
      // What was looked at: the nominal span, or less while the stream is younger than it.
      ...(result.kind === 'resp'
        ? { rateSpanMs: result.endMs - (result.rateFromMs ?? result.endMs - RESP_SPAN_S * 1000) }
        : {}),
      rhythmSpanMs: result.endMs - (result.rhythmFromMs ?? result.endMs - ANALYSIS_WINDOWS.afWindowS * 1000),
    });
  }
}

/** The device's stream for the channel's kind; a different ECG lead than before starts a new stream. */
function streamFor(device: DeviceState, channel: Channel): StreamEntry {
  const existing = device.streams.get(channel.kind);
  if (existing && existing.code === channel.code) return existing;
  const entry: StreamEntry = {
    code: channel.code,
    stream: new WaveformStream(channel.kind, ANALYSIS_WINDOWS),
    sources: new SourceLog(CHUNK_RETENTION_MS, WINDOW_RETENTION_MS),
  };
  device.streams.set(channel.kind, entry);
  return entry;
}

function measurementEvent(
  e: StoredReadingEvent,
  result: WindowResult,
  mapped: MappedDerived,
): DerivedMeasurementEvent {
  const rate = mapped.observations[0]?.resource.valueQuantity?.value;
  return {
    patientId: e.patientId,
    deviceId: e.deviceId,
    code: RATE_CODE[result.kind],
    ...(rate === undefined ? {} : { value: rate }),
    at: result.endMs,
    signalQuality: result.quality,
    leadOff: result.leadOff,
    ...(result.kind === 'ecg' && result.rhythm ? { rhythm: result.rhythm } : {}),
    ...(result.kind === 'ecg' && result.rhythmBasis ? { rhythmBasis: result.rhythmBasis } : {}),
    observationIds: mapped.observations.map((o) => o.id),
  };
}

/** An error's name and message only: nothing of the reading goes into the log. */
function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error';
}
