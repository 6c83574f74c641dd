/** MQTT 5 reason codes (spec 2.4) and MQTT 3.1.1 CONNACK return codes the gateway sends. */
export const RC5 = {
  success: 0x00,
  grantedQos1: 0x01,
  noSubscriptionExisted: 0x11,
  unspecifiedError: 0x80,
  malformedPacket: 0x81,
  protocolError: 0x82,
  unsupportedProtocolVersion: 0x84,
  notAuthorized: 0x87,
  serverUnavailable: 0x88,
  badAuthenticationMethod: 0x8c,
  serverShuttingDown: 0x8b,
  keepAliveTimeout: 0x8d,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  packetTooLarge: 0x95,
  topicAliasInvalid: 0x94,
  administrativeAction: 0x98,
  payloadFormatInvalid: 0x99,
  retainNotSupported: 0x9a,
  qosNotSupported: 0x9b,
  subscriptionIdentifiersNotSupported: 0xa1,
} as const;

export const RC4 = {
  accepted: 0x00,
  unacceptableProtocolVersion: 0x01,
  identifierRejected: 0x02,
  serverUnavailable: 0x03,
  notAuthorized: 0x05,
  subscribeFailure: 0x80,
} as const;
