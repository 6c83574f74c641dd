/** What the gateway tells a client in CONNACK, and the keepalive it then enforces. */
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet';

export interface ServerLimits {
  maxPacketBytes: number;
  maxInflightPerClient: number;
  connectTimeoutMs: number;
  maxKeepaliveS: number;
}

/**
 * Keepalive in seconds the gateway enforces. A client asking for none (0) or for more than the maximum
 * gets the maximum: a silent device must not hold a connection (and its device slot) forever. MQTT 5 clients
 * are told so through Server Keep Alive; 3.1.1 has no way to tell them.
 */
export function negotiateKeepalive(requestedS: number, maxKeepaliveS: number): number {
  return requestedS === 0 || requestedS > maxKeepaliveS ? maxKeepaliveS : requestedS;
}

/** Successful CONNACK. No session state is ever kept, so sessionPresent is always false. */
export function acceptedConnack(
  connect: IConnectPacket,
  limits: ServerLimits,
  assignedClientId: string | undefined,
): IConnackPacket {
  if (connect.protocolVersion !== 5) return { cmd: 'connack', returnCode: 0, sessionPresent: false };
  const requestedKeepalive = connect.keepalive ?? 0;
  const keepalive = negotiateKeepalive(requestedKeepalive, limits.maxKeepaliveS);
  const properties: NonNullable<IConnackPacket['properties']> = {
    receiveMaximum: limits.maxInflightPerClient,
    maximumQoS: 1,
    retainAvailable: false,
    maximumPacketSize: limits.maxPacketBytes,
    topicAliasMaximum: 0,
    wildcardSubscriptionAvailable: false,
    subscriptionIdentifiersAvailable: false,
    sharedSubscriptionAvailable: false,
  };
  if ((connect.properties?.sessionExpiryInterval ?? 0) > 0) properties.sessionExpiryInterval = 0;
  if (keepalive !== requestedKeepalive) properties.serverKeepAlive = keepalive;
  if (assignedClientId !== undefined) properties.assignedClientIdentifier = assignedClientId;
  return { cmd: 'connack', reasonCode: 0, sessionPresent: false, properties };
}

/** Refusing CONNACK with the code for the connection's protocol version. */
export function refusedConnack(protocolVersion: number, code4: number, code5: number): IConnackPacket {
  return protocolVersion === 5
    ? { cmd: 'connack', reasonCode: code5, sessionPresent: false }
    : { cmd: 'connack', returnCode: code4, sessionPresent: false };
}
