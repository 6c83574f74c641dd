export type {
  MqttAuthRequest,
  MqttAuthResult,
  MqttGatewayHooks,
  MqttGatewayOptions,
  MqttReading,
  MqttReadingOutcome,
  MqttSecurityEvent,
} from './gateway.ts';
export { MqttGateway } from './gateway.ts';
