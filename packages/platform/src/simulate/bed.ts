/**
 * One simulated bedside monitor: replays a patient recording as signed readings through the device SDK
 * (signer, outbox, MQTT publisher at QoS 1), one message per second of recording.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { VitalSample, WaveformChunk } from '@openiomt/core';
import { DeviceClient, MemorySequenceStore, type ReadingContent } from '@openiomt/device-sdk';
import type { ProvisionedBed } from './provision.ts';
import { loopedSamples, type PatientRecording, type RecordedWaveform, secondSpan } from './recordings.ts';

export interface BedCounts {
  readonly sent: number;
  /** Stored by the platform (PUBACK success). */
  readonly acknowledged: number;
  /** Refused for good by the platform (PUBACK reason code >= 0x80). */
  readonly rejected: number;
  /** Refusal reasons as the platform gave them, with how often each came. */
  readonly rejections: Readonly<Record<string, number>>;
}

export interface BedOptions {
  readonly bed: ProvisionedBed;
  readonly recording: PatientRecording;
  readonly mqttUrl: string;
  /** Folder for this device's outbox (removed by finish()). */
  readonly workDir: string;
  /** Seconds of recording per numerics row. */
  readonly vitalsEveryS: number;
  /** Wall-clock instant (ms) of the first sample of second 0. */
  readonly startMs: number;
}

/** The content of second `second` of a recording: 1 s of each waveform, and vitals when due. */
export function secondOfRecording(
  recording: PatientRecording,
  second: number,
  startMs: number,
  vitalsEveryS: number,
): ReadingContent {
  const start = new Date(startMs + second * 1000).toISOString();
  const chunk = (w: RecordedWaveform): WaveformChunk => {
    const { from, count } = secondSpan(w.rate, second);
    return {
      code: w.code,
      rate: w.rate,
      start,
      factor: w.factor,
      origin: w.origin,
      data: loopedSamples(w, from, count),
    };
  };
  const waveforms = [recording.ecg, recording.ppg, recording.respiration]
    .filter((w): w is RecordedWaveform => w !== undefined)
    .map(chunk);
  const rows = recording.vitals;
  let vitals: VitalSample[] = [];
  if (rows.length > 0 && second % vitalsEveryS === 0) {
    const row = rows[Math.floor(second / vitalsEveryS) % rows.length]!;
    vitals = row.map((v) => ({ code: v.code, value: v.value, at: start }));
  }
  return { waveforms, vitals };
}

export class SimulatedBed {
  private sent = 0;
  private rejected = 0;
  private readonly rejections: Record<string, number> = {};

  private constructor(
    private readonly opts: BedOptions,
    private readonly client: DeviceClient,
  ) {}

  static async open(opts: BedOptions): Promise<SimulatedBed> {
    let bed: SimulatedBed | undefined;
    const client = await DeviceClient.open({
      deviceId: opts.bed.deviceId,
      key: opts.bed.key,
      dataDir: opts.workDir,
      // Numbers continue above what the platform has stored, or they would be refused as replays.
      sequence: new MemorySequenceStore(opts.bed.lastSeq),
      // A simulator need not survive power loss: no fsync per reading.
      outbox: { sync: false },
      transport: {
        kind: 'mqtt',
        url: opts.mqttUrl,
        reconnect: { minMs: 100, maxMs: 5_000 },
        onRejected: (_seq, reason) => bed?.countRejection(reason),
      },
    });
    bed = new SimulatedBed(opts, client);
    return bed;
  }

  get deviceId(): string {
    return this.opts.bed.deviceId;
  }

  /** Signs and queues second `second` of the recording (delivery happens in the background). */
  async sendSecond(second: number): Promise<void> {
    const { recording, startMs, vitalsEveryS } = this.opts;
    await this.client.send(secondOfRecording(recording, second, startMs, vitalsEveryS));
    this.sent += 1;
  }

  counts(): BedCounts {
    // Rejected readings leave the outbox too, so they are inside the outbox's acknowledged count.
    const acked = this.client.outbox.stats().acked;
    return {
      sent: this.sent,
      acknowledged: acked - this.rejected,
      rejected: this.rejected,
      rejections: { ...this.rejections },
    };
  }

  /** Waits (at most timeoutMs) for outstanding acknowledgements, then disconnects and removes the outbox. */
  async finish(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.client.flushed(), timeout]);
    clearTimeout(timer);
    await this.client.close();
    await rm(this.opts.workDir, { recursive: true, force: true });
  }

  private countRejection(reason: string): void {
    this.rejected += 1;
    this.rejections[reason] = (this.rejections[reason] ?? 0) + 1;
  }
}

export const bedWorkDir = (root: string, deviceId: string) => join(root, deviceId);
