export type { MqttGatewayOptions } from './gateway.ts';
export { MqttGateway } from './gateway.ts';
export type {
  MqttAuthRequest,
  MqttAuthResult,
  MqttGatewayHooks,
  MqttReading,
  MqttReadingOutcome,
  MqttSecurityEvent,
} from './hooks.ts';
