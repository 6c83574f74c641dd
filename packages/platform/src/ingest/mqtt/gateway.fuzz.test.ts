/** Random bytes and random packet sequences from many sockets must never crash the gateway or wedge it. */
import { commandsTopic, readingsTopic } from '@openiomt/core';
import fc from 'fast-check';
import { connectAsync } from 'mqtt';
import { generate, type Packet } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttGateway } from './gateway.ts';
import { connectPacket, passwordOf, RawClient, startGateway, type TestHooks } from './test-support.ts';

let gateway: MqttGateway;
let hooks: TestHooks;
let port: number;

beforeAll(async () => {
  ({ gateway, hooks, port } = await startGateway({ maxPacketBytes: 4_096, connectTimeoutMs: 300 }));
  // Some readings fail or are refused, to drive those paths too.
  hooks.reading = async (reading) => {
    const first = reading.payload[0] ?? 0;
    if (first === 0xee) throw new Error('store failure');
    return { accepted: first % 3 !== 0, reasonCode: first % 2 === 0 ? 0x99 : 0x42 };
  };
});

afterAll(async () => {
  await gateway.close();
});

const topicArb = fc.oneof(
  fc.constant(readingsTopic('dev-a')),
  fc.constant(readingsTopic('dev-b')),
  fc.constant(commandsTopic('dev-a')),
  fc.constantFrom('#', '+/x', '$SYS/#', '', 'openiomt/v1/devices/+/readings'),
  fc.string({ maxLength: 40 }),
);

const packetArb: fc.Arbitrary<Packet> = fc.oneof(
  fc.record({
    cmd: fc.constant('publish' as const),
    topic: topicArb,
    payload: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
    retain: fc.boolean(),
    dup: fc.boolean(),
    messageId: fc.integer({ min: 1, max: 65_535 }),
  }),
  fc.record({
    cmd: fc.constant('subscribe' as const),
    messageId: fc.integer({ min: 1, max: 65_535 }),
    subscriptions: fc.array(
      fc.record({ topic: topicArb, qos: fc.constantFrom(0 as const, 1 as const, 2 as const) }),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
  }),
  fc.record({
    cmd: fc.constant('unsubscribe' as const),
    messageId: fc.integer({ min: 1, max: 65_535 }),
    unsubscriptions: fc.array(topicArb, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    cmd: fc.constantFrom('puback' as const, 'pubrel' as const, 'pubrec' as const),
    messageId: fc.integer({ min: 1, max: 65_535 }),
  }),
  fc.constant({ cmd: 'pingreq' as const }),
  fc.constant({ cmd: 'disconnect' as const }),
  fc.constant({ cmd: 'connack' as const, returnCode: 0, reasonCode: 0, sessionPresent: false }),
  fc.constantFrom('dev-a', 'dev-b', 'nobody').map((id) => connectPacket(id, 4)),
);

/** Encodes what mqtt-packet agrees to encode; the rest becomes raw garbage, which is fine too. */
function encode(item: Packet | Uint8Array, version: 4 | 5): Buffer {
  if (item instanceof Uint8Array) return Buffer.from(item);
  try {
    return generate(item, { protocolVersion: version });
  } catch {
    return Buffer.from([0xff]);
  }
}

async function playSession(
  version: 4 | 5,
  authenticate: boolean,
  items: (Packet | Uint8Array)[],
): Promise<void> {
  const client = await RawClient.connect(port, version);
  if (authenticate) client.send(connectPacket('dev-a', version));
  for (const item of items) client.writeRaw(encode(item, version));
  await client.closesWithin(40);
  client.destroy();
}

async function normalClientWorks(): Promise<void> {
  const client = await connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: 'dev-ok',
    username: 'dev-ok',
    password: passwordOf('dev-ok'),
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
  const before = hooks.readings.length;
  await client.publishAsync(readingsTopic('dev-ok'), Buffer.from([1, 2, 3]), { qos: 1 });
  expect(hooks.readings.slice(before).map((r) => r.deviceId)).toEqual(['dev-ok']);
  await client.endAsync();
}

describe('gateway fuzzing', () => {
  it('survives random byte strings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(4 as const, 5 as const),
        fc.boolean(),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { minLength: 1, maxLength: 4 }),
        (version, authenticate, chunks) => playSession(version, authenticate, chunks),
      ),
      { numRuns: 80 },
    );
    await normalClientWorks();
  });

  it('survives random sequences of valid and invalid packets', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(4 as const, 5 as const),
        fc.boolean(),
        fc.array(
          fc.oneof(
            { weight: 5, arbitrary: packetArb },
            { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }) },
          ),
          {
            maxLength: 12,
          },
        ),
        (version, authenticate, items) => playSession(version, authenticate, items),
      ),
      { numRuns: 120 },
    );
    await normalClientWorks();
    await expect.poll(() => gateway.stats().connections, { timeout: 5_000 }).toBe(0);
    expect(hooks.events.length).toBeGreaterThan(0);
  });
});
