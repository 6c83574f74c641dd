/** Protocol edge cases driven over a bare socket, where MQTT.js would not misbehave on purpose. */
import { commandsTopic, readingsTopic } from '@openiomt/core';
import type { IConnackPacket, IDisconnectPacket, IPubackPacket, ISubackPacket, Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttGateway } from './gateway.ts';
import type { MqttReadingOutcome } from './hooks.ts';
import { connectPacket, deferred, delay, RawClient, startGateway, type TestHooks } from './test-support.ts';

let running: { gateway: MqttGateway; hooks: TestHooks; port: number } | undefined;
const sockets: RawClient[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await running?.gateway.close();
  running = undefined;
});

async function start(options: Parameters<typeof startGateway>[0] = {}) {
  running = await startGateway(options);
  return running;
}

async function raw(port: number, version: 4 | 5 = 4): Promise<RawClient> {
  const client = await RawClient.connect(port, version);
  sockets.push(client);
  return client;
}

async function connected(port: number, version: 4 | 5, deviceId = 'dev-a', extra = {}): Promise<RawClient> {
  const client = await raw(port, version);
  const connack = (await client.handshake(deviceId, extra)) as IConnackPacket;
  expect(connack.cmd).toBe('connack');
  expect(version === 5 ? connack.reasonCode : connack.returnCode).toBe(0);
  return client;
}

const publish = (topic: string, messageId: number, payload = 'p', extra = {}): Packet => ({
  cmd: 'publish',
  topic,
  payload: Buffer.from(payload),
  qos: 1,
  retain: false,
  dup: false,
  messageId,
  ...extra,
});

async function expectDisconnect(client: RawClient, reasonCode: number): Promise<void> {
  const packet = (await client.next()) as IDisconnectPacket;
  expect(packet).toMatchObject({ cmd: 'disconnect', reasonCode });
  expect(await client.closesWithin(1_000)).toBe(true);
}

describe('before authentication', () => {
  it('refuses a PUBLISH before CONNECT with a protocol-error event', async () => {
    const { port, hooks } = await start();
    const client = await raw(port);
    client.send(publish(readingsTopic('dev-a'), 1));
    expect(await client.closesWithin(1_000)).toBe(true);
    expect(hooks.readings).toEqual([]);
    expect(hooks.events[0]).toMatchObject({ kind: 'protocol-error' });
  });

  it('refuses MQTT 3.1 with "unacceptable protocol version"', async () => {
    const { port, hooks } = await start();
    const client = await raw(port);
    client.send({ ...connectPacket('dev-a', 4), protocolId: 'MQIsdp', protocolVersion: 3 });
    expect(await client.next()).toMatchObject({ cmd: 'connack', returnCode: 1 });
    expect(await client.closesWithin(1_000)).toBe(true);
    expect(hooks.authRequests).toEqual([]);
  });

  it('refuses v5 enhanced authentication with 0x8C', async () => {
    const { port } = await start();
    const client = await raw(port, 5);
    const connack = await client.handshake('dev-a', { properties: { authenticationMethod: 'SCRAM-SHA-1' } });
    expect(connack).toMatchObject({ cmd: 'connack', reasonCode: 0x8c });
    expect(await client.closesWithin(1_000)).toBe(true);
  });

  it('answers "server unavailable" when authentication itself fails', async () => {
    const { port, hooks } = await start();
    hooks.authenticate = async () => {
      throw new Error('identity store down');
    };
    const v4 = await raw(port, 4);
    expect(await v4.handshake('dev-a')).toMatchObject({ cmd: 'connack', returnCode: 3 });
    const v5 = await raw(port, 5);
    expect(await v5.handshake('dev-a')).toMatchObject({ cmd: 'connack', reasonCode: 0x88 });
    expect(await v5.closesWithin(1_000)).toBe(true);
    expect(hooks.events).toEqual([]);
  });

  it('closes a connection that sends no CONNECT in time', async () => {
    const { port } = await start({ connectTimeoutMs: 150 });
    const client = await raw(port);
    expect(await client.closesWithin(1_000)).toBe(true);
  });

  it('runs a PUBLISH pipelined behind CONNECT only after authentication', async () => {
    const { port, hooks } = await start();
    const client = await raw(port, 5);
    client.send(connectPacket('dev-a', 5));
    client.send(publish(readingsTopic('dev-a'), 7));
    expect(await client.next()).toMatchObject({ cmd: 'connack', reasonCode: 0 });
    expect(await client.next()).toMatchObject({ cmd: 'puback', messageId: 7, reasonCode: 0 });
    expect(hooks.readings).toHaveLength(1);
  });

  it('a wrong password pipelined with a PUBLISH stores nothing', async () => {
    const { port, hooks } = await start();
    const client = await raw(port, 4);
    client.send(connectPacket('dev-a', 4, { password: Buffer.from('nope') }));
    client.send(publish(readingsTopic('dev-a'), 7));
    expect(await client.next()).toMatchObject({ cmd: 'connack', returnCode: 5 });
    expect(await client.closesWithin(1_000)).toBe(true);
    expect(hooks.readings).toEqual([]);
    expect(hooks.events.map((e) => e.kind)).toEqual(['auth-failed']);
  });
});

describe('refused publications', () => {
  it('v5: QoS 2 -> DISCONNECT 0x9B; v4: close', async () => {
    const { port, hooks } = await start();
    const v5 = await connected(port, 5);
    v5.send(publish(readingsTopic('dev-a'), 1, 'p', { qos: 2 }));
    await expectDisconnect(v5, 0x9b);
    const v4 = await connected(port, 4, 'dev-b');
    v4.send(publish(readingsTopic('dev-b'), 1, 'p', { qos: 2 }));
    expect(await v4.closesWithin(1_000)).toBe(true);
    expect(hooks.readings).toEqual([]);
  });

  it('v5: retain -> DISCONNECT 0x9A; v4: stored as not retained', async () => {
    const { port, hooks } = await start();
    const v5 = await connected(port, 5);
    v5.send(publish(readingsTopic('dev-a'), 1, 'p', { retain: true }));
    await expectDisconnect(v5, 0x9a);
    const v4 = await connected(port, 4, 'dev-b');
    v4.send(publish(readingsTopic('dev-b'), 2, 'p', { retain: true }));
    expect(await v4.next()).toMatchObject({ cmd: 'puback', messageId: 2 });
    expect(hooks.readings.map((r) => r.deviceId)).toEqual(['dev-b']);
  });

  it('v5: a topic alias -> DISCONNECT 0x94', async () => {
    const { port } = await start();
    const client = await connected(port, 5);
    client.send(publish(readingsTopic('dev-a'), 1, 'p', { properties: { topicAlias: 1 } }));
    await expectDisconnect(client, 0x94);
  });

  it('oversize packet: v5 DISCONNECT 0x95, v4 close, with a protocol-error event', async () => {
    const { port, hooks } = await start({ maxPacketBytes: 1024 });
    const v5 = await connected(port, 5);
    v5.send(publish(readingsTopic('dev-a'), 1, 'x'.repeat(2048)));
    await expectDisconnect(v5, 0x95);
    const v4 = await connected(port, 4, 'dev-b');
    v4.send(publish(readingsTopic('dev-b'), 1, 'x'.repeat(2048)));
    expect(await v4.closesWithin(1_000)).toBe(true);
    expect(hooks.events.filter((e) => e.kind === 'protocol-error')).toHaveLength(2);
    expect(hooks.readings).toEqual([]);
  });

  it('v5 QoS 0 to a foreign topic is dropped and reported; the connection stays', async () => {
    const { port, hooks } = await start();
    const client = await connected(port, 5);
    client.send(publish(readingsTopic('dev-b'), 0, 'p', { qos: 0, messageId: undefined }));
    client.send({ cmd: 'pingreq' });
    expect(await client.next()).toMatchObject({ cmd: 'pingresp' });
    expect(hooks.events).toMatchObject([{ kind: 'acl-denied', topic: readingsTopic('dev-b') }]);
  });

  it('omits the reason string when the client asked for no problem information', async () => {
    const { port, hooks } = await start();
    hooks.reading = async () => ({ accepted: false, reasonCode: 0x87, reasonString: 'revoked key' });
    const quiet = await connected(port, 5, 'dev-a', { properties: { requestProblemInformation: false } });
    quiet.send(publish(readingsTopic('dev-a'), 3));
    const puback = (await quiet.next()) as IPubackPacket;
    expect(puback).toMatchObject({ cmd: 'puback', messageId: 3, reasonCode: 0x87 });
    expect(puback.properties?.reasonString).toBeUndefined();
    const chatty = await connected(port, 5, 'dev-b');
    chatty.send(publish(readingsTopic('dev-b'), 4));
    expect(await chatty.next()).toMatchObject({
      reasonCode: 0x87,
      properties: { reasonString: 'revoked key' },
    });
  });
});

describe('subscriptions and session control', () => {
  it.each([4, 5] as const)(
    'v%i SUBACK codes: own commands topic granted at most QoS 1, others refused',
    async (v) => {
      const { port } = await start();
      const client = await connected(port, v);
      client.send({
        cmd: 'subscribe',
        messageId: 9,
        subscriptions: [
          { topic: commandsTopic('dev-a'), qos: 2 },
          { topic: '#', qos: 0 },
          { topic: '$share/g/x', qos: 0 },
        ],
      });
      const suback = (await client.next()) as ISubackPacket;
      const refused = v === 5 ? 0x87 : 0x80;
      expect(suback).toMatchObject({ cmd: 'suback', messageId: 9, granted: [1, refused, refused] });
    },
  );

  it('a second CONNECT on the same connection is a protocol error', async () => {
    const { port, hooks } = await start();
    const client = await connected(port, 5);
    client.send(connectPacket('dev-a', 5));
    await expectDisconnect(client, 0x82);
    expect(hooks.events[0]).toMatchObject({ kind: 'protocol-error', deviceId: 'dev-a' });
  });

  it('closes a client silent for 1.5 x keepalive (v5 DISCONNECT 0x8D)', async () => {
    const { port } = await start();
    const client = await connected(port, 5, 'dev-a', { keepalive: 1 });
    const started = Date.now();
    await expectDisconnect(client, 0x8d);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_300);
  });

  it('keeps a client that pings', async () => {
    const { port } = await start();
    const client = await connected(port, 4, 'dev-a', { keepalive: 1 });
    for (let i = 0; i < 4; i++) {
      await delay(500);
      client.send({ cmd: 'pingreq' });
      expect(await client.next()).toMatchObject({ cmd: 'pingresp' });
    }
    expect(client.isClosed).toBe(false);
  });

  it('enforces the maximum keepalive on a v4 client asking for none', async () => {
    const { port } = await start({ maxKeepaliveS: 1 });
    const client = await connected(port, 4, 'dev-a', { keepalive: 0 });
    expect(await client.closesWithin(3_000)).toBe(true);
  });
});

describe('backpressure', () => {
  it('takes no more than maxInflightPerClient readings until some complete, PUBACKs in order', async () => {
    const { port, hooks } = await start({ maxInflightPerClient: 2 });
    const pending: ReturnType<typeof deferred<MqttReadingOutcome>>[] = [];
    hooks.reading = () => {
      const d = deferred<MqttReadingOutcome>();
      pending.push(d);
      return d.promise;
    };
    const client = await connected(port, 4);
    for (let id = 1; id <= 5; id++) client.send(publish(readingsTopic('dev-a'), id));
    await expect.poll(() => hooks.readings.length).toBe(2);
    await delay(100);
    expect(hooks.readings).toHaveLength(2);
    pending[1]!.resolve({ accepted: true });
    await delay(50);
    expect(hooks.readings).toHaveLength(2);
    pending[0]!.resolve({ accepted: true });
    await expect.poll(() => hooks.readings.length).toBe(4);
    for (const d of pending.slice(2)) d.resolve({ accepted: true });
    await expect.poll(() => hooks.readings.length).toBe(5);
    pending[4]!.resolve({ accepted: true });
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(((await client.next()) as IPubackPacket).messageId!);
    expect(ids).toEqual([1, 2, 3, 4, 5]);
  });
});
