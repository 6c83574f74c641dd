import type { InProcessBus } from '../bus/bus.ts';
import type { DeviceRegistry } from '../ingest/device-registry.ts';
import type { Assignment, Device, Store } from '../store/types.ts';

export interface SessionControl {
  /** Closes a device's live MQTT session at once. */
  disconnectDevice(deviceId: string, reason: string): boolean;
}

/**
 * Administrative operations on devices that must also reach the live parts of the platform: the ingest
 * caches forget what changed, and a revoked device's session is closed at once.
 */
export class DeviceAdmin {
  constructor(
    private readonly store: Store,
    private readonly registry: DeviceRegistry,
    private readonly bus: InProcessBus,
    private readonly sessions: SessionControl,
  ) {}

  async revoke(deviceId: string, reason: string, actor: string): Promise<Device> {
    const device = await this.store.devices.revoke(deviceId, reason);
    this.registry.invalidateDevice(deviceId);
    this.sessions.disconnectDevice(deviceId, 'device revoked');
    await this.store.securityEvents.add({ kind: 'device-revoked', deviceId, source: actor, detail: reason });
    this.bus.publish('device.revoked', { deviceId, reason });
    return device;
  }

  async assign(a: { deviceId: string; patientId: string; from?: string; to?: string }): Promise<Assignment> {
    const assignment = await this.store.assignments.assign(a);
    this.registry.invalidateDevice(a.deviceId);
    return assignment;
  }

  async endAssignment(deviceId: string, at?: string): Promise<Assignment | undefined> {
    const ended = await this.store.assignments.end(deviceId, at);
    this.registry.invalidateDevice(deviceId);
    return ended;
  }
}
