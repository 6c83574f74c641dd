import type { SecuritySubsystem } from '@openiomt/core';
import type { InProcessBus } from '../bus/bus.ts';
import type { DeviceRegistry } from '../ingest/device-registry.ts';
import type { Assignment, Device, DeviceQuarantine, Store } from '../store/types.ts';

/** Who revokes, quarantines or releases a device, for the device row, the security log and the audit log. */
export interface QuarantineActor {
  /** A user id, or 'intrusion-detection'. */
  readonly by: string;
  /** The audit log's actor: the user id, or 'system'. */
  readonly actor: string;
  readonly actorRole: string;
  /** The client's network address, when a request asked for it. */
  readonly source?: string;
  /** The part of the platform that acted on its own (the intrusion detector). */
  readonly subsystem?: SecuritySubsystem;
}

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

  async revoke(deviceId: string, reason: string, who: QuarantineActor): Promise<Device> {
    const device = await this.store.devices.revoke(deviceId, reason);
    this.registry.invalidateDevice(deviceId);
    this.sessions.disconnectDevice(deviceId, 'device revoked');
    await this.recordChange('device-revoked', 'revoke', deviceId, reason, who);
    this.bus.publish('device.revoked', { deviceId, reason });
    return device;
  }

  /**
   * Quarantine: unlike a revocation its keys stay valid, but every reading is refused and dead-lettered
   * until a release, and the live session is closed at once (a reconnect is allowed: what it sends is kept).
   */
  async quarantine(deviceId: string, reason: string, who: QuarantineActor): Promise<Device> {
    const device = await this.store.devices.quarantine(deviceId, { reason, by: who.by });
    this.registry.invalidateDevice(deviceId);
    this.sessions.disconnectDevice(deviceId, 'device quarantined');
    await this.recordChange('device-quarantined', 'quarantine', deviceId, reason, who);
    this.bus.publish('device.quarantined', { deviceId, reason });
    return device;
  }

  async release(
    deviceId: string,
    reason: string,
    who: QuarantineActor,
  ): Promise<{ device: Device; lifted: DeviceQuarantine }> {
    const released = await this.store.devices.release(deviceId);
    this.registry.invalidateDevice(deviceId);
    await this.recordChange('device-released', 'release', deviceId, reason, who);
    this.bus.publish('device.released', { deviceId });
    return released;
  }

  /**
   * A revocation, quarantine or release: a security event (its source where the request came from, or the
   * subsystem that acted; the person in the detail) and an audit record.
   */
  private async recordChange(
    kind: 'device-revoked' | 'device-quarantined' | 'device-released',
    change: string,
    deviceId: string,
    reason: string,
    who: QuarantineActor,
  ) {
    await this.store.securityEvents.add({
      kind,
      deviceId,
      ...(who.source !== undefined ? { source: who.source } : {}),
      ...(who.subsystem !== undefined ? { subsystem: who.subsystem } : {}),
      detail: `by ${who.by}: ${reason}`,
    });
    await this.audit(change, deviceId, reason, who);
  }

  private async audit(change: string, deviceId: string, reason: string, who: QuarantineActor) {
    await this.store.audit.record({
      action: 'update',
      actor: who.actor,
      actorRole: who.actorRole,
      resourceType: 'Device',
      resourceId: deviceId,
      reason,
      ...auditSource(who),
      detail: { change },
    });
  }

  /** Whose readings a device's are: audited against the patient (it decides where their data goes). */
  async assign(
    a: { deviceId: string; patientId: string; from?: string; to?: string },
    who: QuarantineActor,
  ): Promise<Assignment> {
    const assignment = await this.store.assignments.assign(a);
    this.registry.invalidateDevice(a.deviceId);
    await this.auditAssignment('assign', assignment, who);
    return assignment;
  }

  async endAssignment(deviceId: string, who: QuarantineActor, at?: string): Promise<Assignment | undefined> {
    const ended = await this.store.assignments.end(deviceId, at);
    this.registry.invalidateDevice(deviceId);
    if (ended) await this.auditAssignment('end-assignment', ended, who);
    return ended;
  }

  private async auditAssignment(change: string, a: Assignment, who: QuarantineActor) {
    await this.store.audit.record({
      action: 'update',
      actor: who.actor,
      actorRole: who.actorRole,
      resourceType: 'Device',
      resourceId: a.deviceId,
      patientId: a.patientId,
      ...auditSource(who),
      detail: { change, assignment: a.id, from: a.from, ...(a.to ? { to: a.to } : {}) },
    });
  }
}

/** The audit log's source is the client's address or the client itself (docs/audit.md): the detector's name. */
function auditSource(who: QuarantineActor): { source?: string } {
  const source = who.source ?? who.subsystem;
  return source !== undefined ? { source } : {};
}
