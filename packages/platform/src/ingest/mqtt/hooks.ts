/**
 * What the MQTT gateway asks of the platform and tells it: the contract between the device-facing server
 * (gateway.ts and the session it runs per connection) and the ingest pipeline behind it (mqtt-hooks.ts).
 */
export interface MqttAuthRequest {
  clientId: string;
  username?: string;
  password?: Buffer;
  protocolVersion: 4 | 5;
  remoteAddress: string;
}
/** `unrecorded`: refused without a security event (an address already blocked: the block is on record). */
export type MqttAuthResult =
  | { ok: true; deviceId: string }
  | { ok: false; reason: string; unrecorded?: true };
export interface MqttReading {
  deviceId: string;
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  dup: boolean;
  protocolVersion: 4 | 5;
  remoteAddress: string;
}
export interface MqttReadingOutcome {
  accepted: boolean;
  reasonCode?: number;
  reasonString?: string;
}
export interface MqttSecurityEvent {
  kind: 'auth-failed' | 'acl-denied' | 'protocol-error';
  deviceId?: string;
  source: string;
  detail: string;
  topic?: string;
  payload?: Buffer;
}
export interface MqttGatewayHooks {
  authenticate(req: MqttAuthRequest): Promise<MqttAuthResult>;
  /** Resolves only once the reading is durable (or durably dead-lettered); the gateway then sends PUBACK. */
  onReading(reading: MqttReading): Promise<MqttReadingOutcome>;
  /** May return a promise: a refused QoS 1 publish is answered only once its record is written. */
  onSecurityEvent(event: MqttSecurityEvent): void | Promise<void>;
}
