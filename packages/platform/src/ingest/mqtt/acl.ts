/**
 * Topic rules for devices: a device publishes only to its own readings topic and subscribes only to its own
 * commands topic, named exactly (no wildcards, no shared subscriptions, no $SYS).
 */
import { commandsTopic, readingsTopic } from '@openiomt/core';
import type { MqttReadingOutcome } from './hooks.ts';
import { RC4, RC5 } from './reason-codes.ts';

export const mayPublish = (deviceId: string, topic: string): boolean => topic === readingsTopic(deviceId);

export const maySubscribe = (deviceId: string, topicFilter: string): boolean =>
  topicFilter === commandsTopic(deviceId);

/** SUBACK code for one requested subscription: granted QoS (at most 1) or the version's failure code. */
export function grantedQos(allowed: boolean, requested: number, protocolVersion: 4 | 5): number {
  if (!allowed) return protocolVersion === 5 ? RC5.notAuthorized : RC4.subscribeFailure;
  return Math.min(requested, 1);
}

/** PUBACK reason codes a server may use for a refused publication (MQTT 5, 3.4.2.1), except 0x10. */
const NEGATIVE_PUBACK_CODES = new Set([0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]);

/**
 * The MQTT 5 PUBACK reason code for a hook outcome. Accepted readings are 0x00 ("No matching subscribers",
 * 0x10, would invite a device to think nobody got it); refused ones keep their code when it is a valid
 * negative PUBACK code, otherwise 0x80 Unspecified error.
 */
export function pubackReasonCode(outcome: MqttReadingOutcome): number {
  if (outcome.accepted) return RC5.success;
  const code = outcome.reasonCode;
  return code !== undefined && NEGATIVE_PUBACK_CODES.has(code) ? code : RC5.unspecifiedError;
}
