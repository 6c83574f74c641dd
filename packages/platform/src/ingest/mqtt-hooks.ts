import {
  checkDeviceToken,
  DEVICE_ID_PATTERN,
  isSecurityRejection,
  parseCompactJws,
  reject,
  verifyJws,
} from '@openiomt/core';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import type { DeviceRegistry } from './device-registry.ts';
import type { MqttAuthRequest, MqttAuthResult, MqttGatewayHooks } from './mqtt/index.ts';
import type { IngestPipeline } from './pipeline.ts';
import type { FailedLoginGuard } from './source-blocks.ts';

/** MQTT 5 reason codes for a refused reading (PUBACK). */
const NOT_AUTHORIZED = 0x87;
const PAYLOAD_FORMAT_INVALID = 0x99;

/**
 * Connects the MQTT gateway to the platform: a device authenticates with a token signed by its own key
 * (username = device id); each reading goes through the ingest pipeline; ACL violations and failed logins
 * become security events, and a refused publish's payload is dead-lettered, never dropped.
 */
export function mqttHooks(deps: {
  store: Store;
  registry: DeviceRegistry;
  pipeline: IngestPipeline;
  log: Logger;
  /** Counts failed logins per address; a blocked address is refused before its credentials are read. */
  logins?: FailedLoginGuard;
  clock?: () => number;
}): MqttGatewayHooks {
  const clock = deps.clock ?? Date.now;
  /** The device token check: the device's own key signed it, for this device, and it is current. */
  const checkLogin = async (req: MqttAuthRequest): Promise<MqttAuthResult> => {
    const deviceId = req.username;
    if (!deviceId || !DEVICE_ID_PATTERN.test(deviceId) || !req.password)
      return { ok: false, reason: 'missing credentials' };
    const parsed = parseCompactJws(req.password.toString('latin1'));
    if (!parsed.ok) return { ok: false, reason: `token: ${parsed.rejection.detail}` };
    const key = await deps.registry.key(parsed.value.header.kid);
    if (!key || key.deviceId !== deviceId) return { ok: false, reason: 'unknown key for this device' };
    const device = await deps.registry.device(deviceId);
    if (device?.status !== 'active' || key.revoked) return { ok: false, reason: 'device not active' };
    const now = clock();
    if (key.notAfterMs !== undefined && now > key.notAfterMs) return { ok: false, reason: 'key rotated out' };
    if (!verifyJws(parsed.value, key.key)) return { ok: false, reason: 'token signature does not verify' };
    const claims = checkDeviceToken(parsed.value, deviceId, now);
    if (!claims.ok) return { ok: false, reason: claims.rejection.detail };
    return { ok: true, deviceId };
  };
  return {
    async authenticate(req) {
      if (deps.logins?.blocked(req.remoteAddress, clock()))
        return { ok: false, reason: 'address blocked after repeated failed logins', unrecorded: true };
      const result = await checkLogin(req);
      if (!result.ok) deps.logins?.failed(req.remoteAddress, clock());
      return result;
    },

    async onReading(r) {
      const outcome = await deps.pipeline.ingest({
        raw: r.payload,
        via: 'mqtt',
        authenticatedDevice: r.deviceId,
        topic: r.topic,
        retry: r.dup,
        source: r.remoteAddress,
      });
      if (outcome.status !== 'rejected') return { accepted: true };
      const code = outcome.rejection.code;
      return {
        accepted: false,
        // A quarantined device is not authorized to file readings, though the refusal is no attack itself.
        reasonCode:
          isSecurityRejection(code) || code === 'device-quarantined'
            ? NOT_AUTHORIZED
            : PAYLOAD_FORMAT_INVALID,
        reasonString: code,
      };
    },

    async onSecurityEvent(e) {
      // A broken or oversize MQTT packet is not a JWS at all: it is the client breaking the protocol.
      const kind =
        e.kind === 'acl-denied'
          ? 'acl-denied'
          : e.kind === 'auth-failed'
            ? 'auth-failed'
            : 'protocol-violation';
      if (e.kind === 'acl-denied' && e.payload) {
        // A publish on a topic that is not the device's own: refused, and its payload kept with the reason
        // before the device hears the refusal.
        await deps.pipeline
          .refuseRaw(
            {
              raw: e.payload,
              via: 'mqtt',
              retry: false,
              source: e.source,
              ...(e.topic ? { topic: e.topic } : {}),
            },
            reject('topic-not-allowed', `${e.detail}${e.topic ? ` (topic ${e.topic})` : ''}`),
            e.deviceId,
          )
          .catch((err) => deps.log.error({ err }, 'could not dead-letter a refused publish'));
        return;
      }
      // Only a well-formed device id is kept (a failed login's username is whatever the client sent).
      const deviceId = e.deviceId && DEVICE_ID_PATTERN.test(e.deviceId) ? e.deviceId : undefined;
      await deps.store.securityEvents
        .add({ kind, source: e.source, detail: e.detail, ...(deviceId ? { deviceId } : {}) })
        .catch((err) => deps.log.error({ err }, 'could not record a security event'));
    },
  };
}
