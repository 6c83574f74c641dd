/**
 * Intrusion detection on device traffic: the security events ingest records (forged signatures, ACL
 * violations, replays, malformed packets) feed core's sliding-window detector; a device that crosses a
 * threshold is quarantined at once, with a reason naming the rule and the counts. Failed logins are not
 * counted against the device they name (anyone can name any device): source-blocks.ts blocks the address.
 * Refused enrolments (`enrolment-refused`) are not counted either, for the same reason; nothing counts them
 * per address yet (source-blocks.ts guards MQTT connections only, and enrolment is HTTPS).
 *
 * Webhooks are not told: the outbox only carries patient events (each delivery is filtered by patient).
 */
import {
  IntrusionDetector,
  type IntrusionThresholds,
  type IntrusionVerdict,
  intrusionRules,
  intrusionSignalOf,
  type SecuritySubsystem,
} from '@openiomt/core';
import type { DeviceAdmin, QuarantineActor } from '../admin/service.ts';
import type { Logger } from '../log.ts';
import type { SecurityEvent, Store } from '../store/types.ts';

export const INTRUSION_DETECTOR = 'intrusion-detection' satisfies SecuritySubsystem;

const DETECTOR: QuarantineActor = {
  by: INTRUSION_DETECTOR,
  actor: 'system',
  actorRole: 'system',
  subsystem: INTRUSION_DETECTOR,
};

export class IntrusionWatch {
  private readonly detector: IntrusionDetector;
  private unsubscribe: (() => void) | undefined;
  /** Quarantines under way, so a burst of refusals past the threshold quarantines once. */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: {
      store: Store;
      devices: DeviceAdmin;
      log: Logger;
      thresholds: IntrusionThresholds;
    },
  ) {
    this.detector = new IntrusionDetector(intrusionRules(deps.thresholds));
  }

  start(): this {
    if (this.detector.rules.length > 0 && !this.unsubscribe)
      this.unsubscribe = this.deps.store.securityEvents.observe((e) => this.onEvent(e));
    return this;
  }

  /** Stops listening and waits for quarantines under way. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await Promise.all(this.pending.values());
  }

  private onEvent(e: SecurityEvent): void {
    if (e.deviceId === undefined) return;
    if (e.kind === 'device-quarantined' || e.kind === 'device-released') {
      this.detector.forget(e.deviceId);
      return;
    }
    const signal = intrusionSignalOf(e.kind);
    if (!signal || this.pending.has(e.deviceId)) return;
    const verdict = this.detector.observe(e.deviceId, signal, Date.parse(e.at));
    if (!verdict) return;
    const deviceId = e.deviceId;
    const done = this.quarantine(verdict)
      .catch((err) => this.deps.log.error({ err, deviceId }, 'intrusion detection could not quarantine'))
      .finally(() => this.pending.delete(deviceId));
    this.pending.set(deviceId, done);
  }

  private async quarantine(v: IntrusionVerdict): Promise<void> {
    // Only a registered device that is not revoked or already quarantined is acted on.
    const device = await this.deps.store.devices.get(v.deviceId);
    if (!device || device.status === 'revoked' || device.quarantine) return;
    await this.deps.store.securityEvents.add({
      kind: 'intrusion-detected',
      deviceId: v.deviceId,
      subsystem: INTRUSION_DETECTOR,
      detail: v.reason,
    });
    this.deps.log.warn({ deviceId: v.deviceId, rule: v.rule, count: v.count }, 'intrusion detected');
    await this.deps.devices.quarantine(v.deviceId, v.reason, DETECTOR);
  }
}
