/**
 * A successful PUBACK, built by hand: the platform sends one per reading, and building it through
 * mqtt-packet's generic generator cost more than the packet is worth. MQTT 3.1.1 and 5 agree on its bytes:
 * MQTT 5 leaves out a Success reason code that has no properties (3.4.2.1), so both are
 * type 4, remaining length 2, then the packet identifier.
 */
export function successPuback(messageId: number): Buffer {
  const bytes = Buffer.allocUnsafe(4);
  bytes[0] = 0x40;
  bytes[1] = 0x02;
  bytes.writeUInt16BE(messageId, 2);
  return bytes;
}
