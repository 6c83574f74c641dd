/**
 * The alarm benchmark's background load as a real fleet would make it: one device per message/s of the
 * step, each sending the ingest benchmark's reading (1 s of 250 Hz ECG + four vitals, signed) once a second,
 * stamped with the time it is planned to go. Each device's ECG is then one continuous signal, so waveform
 * analysis completes its windows and stores what it derives, and the rules follow each vital as a series:
 * the platform does all the work a live fleet gives it. Vitals are steady and normal, so the fleet raises
 * no alarm of its own.
 *
 * The fleet grows as the ramp needs more devices: provisioned (on fresh source addresses, under the API's
 * per-address rate limit), connected, then warmed with one reading each before the step that uses them.
 */
import { type AckSink, connectFleet, type FleetConnection } from './mqtt-fleet.ts';
import type { PlatformChild } from './platform-process.ts';
import { type BenchDevice, deviceToken, provisionDevices } from './provision.ts';
import { type PreparedStep, prepareStep, type StepPlan } from './ramp.ts';

/**
 * Background devices pause between steps; a device-offline alarm is not what is measured here, so they
 * say they report at least every 10 minutes (offline after 20).
 */
export const BACKGROUND_REGISTRATION = { expectedIntervalS: 600 } as const;

/** Longer than the analysis's largest bridged gap (5 s), plus the 1 s a chunk covers, plus a margin. */
const QUIET_MS = 7_000;

/**
 * A fleet that starts all at once would complete its 10 s analysis windows in the same second, a burst every
 * 10 s that a real fleet (devices attached at any time) spreads out. So device d's signal starts afresh at
 * its (d mod 10)-th message: the ones before are stamped 7 s earlier, and the jump restarts the analysis
 * there. Stamps stay in order; every message is still sent on the same schedule.
 */
function staggeredStart(device: number, round: number, plannedMs: number): number {
  return round < device % 10 ? plannedMs - QUIET_MS : plannedMs;
}

export class BackgroundFleet {
  readonly devices: BenchDevice[] = [];
  readonly connections: FleetConnection[] = [];
  /** Readings acknowledged with reason 0, over the whole run. */
  acknowledged = 0;
  provisionSeconds = 0;
  connectSeconds = 0;
  private nextSeq = new Int32Array(0);
  /** Wall-clock end of the last prepared step's time stamps. */
  private stampsEnd = 0;
  private current: AckSink | undefined;
  private nextAddress: number;

  constructor(
    private readonly child: PlatformChild,
    /** Number of the first device name (bench-NNNNN); the ones before are the probes. */
    private readonly firstIndex: number,
    firstAddress: number,
    private readonly log: (line: string) => void,
  ) {
    this.nextAddress = firstAddress;
  }

  /** Where the step under way wants the acknowledgements (ramp.ts's runStep sets it). */
  setSink(sink: AckSink): void {
    this.current = sink;
  }

  /** Provisions and connects devices until there are `count`. */
  async growTo(count: number): Promise<void> {
    const more = count - this.devices.length;
    if (more <= 0) return;
    const base = this.devices.length;
    let t0 = performance.now();
    const { devices, addresses } = await provisionDevices({
      httpUrl: this.child.httpUrl,
      adminToken: this.child.adminToken,
      count: more,
      firstIndex: this.firstIndex + base,
      firstAddress: this.nextAddress,
      register: BACKGROUND_REGISTRATION,
      onProgress: (done) => this.log(`  provisioned ${base + done}/${count} background devices`),
    });
    this.nextAddress += addresses;
    this.provisionSeconds += (performance.now() - t0) / 1000;
    t0 = performance.now();
    // Connections of this round number from 0; the ramp knows devices by their place in the whole fleet.
    const sink: AckSink = {
      acked: (device, messageId, code, at) => {
        if (code === 0) this.acknowledged++;
        this.current?.acked(base + device, messageId, code, at);
      },
      lost: (device, reason) => this.current?.lost(base + device, reason),
    };
    const connections = await connectFleet(
      this.child.mqttUrl,
      devices.map((d) => ({ id: d.id, token: deviceToken(d) })),
      () => sink,
      (n) => this.log(`  connected ${base + n}/${count} background devices`),
    );
    this.connectSeconds += (performance.now() - t0) / 1000;
    this.devices.push(...devices);
    this.connections.push(...connections);
    const seq = new Int32Array(this.devices.length);
    seq.set(this.nextSeq);
    this.nextSeq = seq;
  }

  /**
   * Waits until the devices' signals have been quiet for longer than the waveform analysis bridges (5 s),
   * so the next step starts each device's signal afresh. A shorter pause between steps would be filled
   * with missing samples, and a 10 s analysis window half missing reads as electrodes off: the benchmark
   * itself would raise a lead-off alarm for every background patient.
   */
  async restSignals(): Promise<void> {
    // The next step's first stamps are QUIET_MS early (staggeredStart): they too must come after the gap.
    const wait = this.stampsEnd + 2 * QUIET_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  /** The signed messages of a step: `rate` devices once a second each (fewer devices if there are fewer). */
  prepare(rate: number, seconds: number): PreparedStep {
    const activeDevices = Math.min(rate, this.devices.length);
    return this.signed({ rate, seconds, activeDevices });
  }

  /** Every device once (caches and the patients' rule monitors filled), at most 1,000 a second. */
  prepareWarmup(): PreparedStep {
    const rate = Math.min(this.devices.length, 1_000);
    const seconds = Math.ceil(this.devices.length / rate);
    return this.signed({ rate, seconds, activeDevices: this.devices.length });
  }

  private signed(plan: StepPlan): PreparedStep {
    this.stampsEnd = Date.now() + plan.seconds * 1000;
    return prepareStep(plan, this.devices, this.nextSeq, {
      profile: 'steady',
      scheduledTimes: true,
      adjustTime: staggeredStart,
    });
  }

  close(): void {
    for (const c of this.connections) c?.close();
  }
}
