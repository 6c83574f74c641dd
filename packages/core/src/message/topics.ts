/**
 * MQTT topic layout for devices (docs/device-protocol.md). A device publishes only to its own readings
 * topic and subscribes only to its own commands topic.
 */
export const TOPIC_ROOT = 'openiomt/v1/devices';

export const readingsTopic = (deviceId: string): string => `${TOPIC_ROOT}/${deviceId}/readings`;
export const commandsTopic = (deviceId: string): string => `${TOPIC_ROOT}/${deviceId}/commands`;

/** The device id a readings topic belongs to, or undefined when it is not a readings topic. */
export function deviceOfReadingsTopic(topic: string): string | undefined {
  const prefix = `${TOPIC_ROOT}/`;
  if (!topic.startsWith(prefix) || !topic.endsWith('/readings')) return undefined;
  const id = topic.slice(prefix.length, -'/readings'.length);
  return id.length > 0 && !id.includes('/') ? id : undefined;
}
