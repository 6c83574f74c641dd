import { commandsTopic, readingsTopic } from '@openiomt/core';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttGateway } from './gateway.ts';
import type { MqttReadingOutcome } from './hooks.ts';
import { deferred, delay, passwordOf, startGateway, type TestHooks } from './test-support.ts';

let running: { gateway: MqttGateway; hooks: TestHooks; port: number } | undefined;
const clients: MqttClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true).catch(() => {});
  await running?.gateway.close();
  running = undefined;
});

async function start(options: Parameters<typeof startGateway>[0] = {}) {
  running = await startGateway(options);
  return running;
}

async function connect(port: number, deviceId: string, version: 4 | 5, extra: IClientOptions = {}) {
  const client = await connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: deviceId,
    username: deviceId,
    password: passwordOf(deviceId),
    protocolVersion: version,
    reconnectPeriod: 0,
    connectTimeout: 2_000,
    ...extra,
  });
  clients.push(client);
  return client;
}

const closeOf = (client: MqttClient): Promise<void> =>
  new Promise((resolve) => client.once('close', () => resolve()));

describe.each([4, 5] as const)('MQTT protocol version %i', (version) => {
  it('sends PUBACK only after onReading resolves', async () => {
    const { port, hooks, gateway } = await start();
    const stored = deferred<MqttReadingOutcome>();
    hooks.reading = () => stored.promise;
    const client = await connect(port, 'dev-a', version);
    let acked = false;
    const publish = client
      .publishAsync(readingsTopic('dev-a'), Buffer.from('{"v":1}'), { qos: 1 })
      .then(() => {
        acked = true;
      });
    await expect.poll(() => hooks.readings.length).toBe(1);
    await delay(150);
    expect(acked).toBe(false);
    stored.resolve({ accepted: true });
    await publish;
    expect(acked).toBe(true);
    expect(hooks.readings[0]).toMatchObject({
      deviceId: 'dev-a',
      topic: readingsTopic('dev-a'),
      qos: 1,
      protocolVersion: version,
      remoteAddress: '127.0.0.1',
    });
    expect(hooks.readings[0]!.payload.toString()).toBe('{"v":1}');
    expect(gateway.stats()).toMatchObject({ received: 1, acknowledged: 1, rejected: 0 });
  });

  it('acknowledges a refused reading: v5 with its reason code, v4 with a plain PUBACK', async () => {
    const { port, hooks, gateway } = await start();
    hooks.reading = async () => ({ accepted: false, reasonCode: 0x99, reasonString: 'bad signature' });
    const client = await connect(port, 'dev-a', version);
    const result = client.publishAsync(readingsTopic('dev-a'), 'x', { qos: 1 });
    if (version === 5) await expect(result).rejects.toMatchObject({ code: 0x99 });
    else await expect(result).resolves.toBeDefined();
    expect(client.connected).toBe(true);
    expect(gateway.stats()).toMatchObject({ received: 1, acknowledged: 0, rejected: 1 });
  });

  it('keeps PUBACK order when readings complete out of order', async () => {
    const { port, hooks } = await start();
    const pending = Array.from({ length: 5 }, () => deferred<MqttReadingOutcome>());
    let index = 0;
    hooks.reading = () => pending[index++]!.promise;
    const client = await connect(port, 'dev-a', version);
    const order: number[] = [];
    const publishes = pending.map((_, i) =>
      client.publishAsync(readingsTopic('dev-a'), `r${i}`, { qos: 1 }).then(() => order.push(i)),
    );
    await expect.poll(() => hooks.readings.length).toBe(5);
    for (const i of [4, 2, 3, 1]) pending[i]!.resolve({ accepted: true });
    await delay(100);
    expect(order).toEqual([]);
    pending[0]!.resolve({ accepted: true });
    await Promise.all(publishes);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses bad credentials with a security event that does not carry the password', async () => {
    const { port, hooks, gateway } = await start();
    await expect(connect(port, 'dev-a', version, { password: 'wrong-password' })).rejects.toThrow();
    expect(hooks.events).toHaveLength(1);
    expect(hooks.events[0]).toMatchObject({ kind: 'auth-failed', source: '127.0.0.1' });
    expect(JSON.stringify(hooks.events[0])).not.toContain('wrong-password');
    expect(gateway.connectedDevices()).toEqual([]);
  });

  it('drops a reading to another device topic and reports it with its payload', async () => {
    const { port, hooks } = await start();
    const client = await connect(port, 'dev-a', version);
    const closed = closeOf(client);
    const result = client.publishAsync(readingsTopic('dev-b'), 'forged', { qos: 1 });
    if (version === 5) {
      await expect(result).rejects.toMatchObject({ code: 0x87 });
      expect(client.connected).toBe(true);
    } else {
      result.catch(() => {});
      await closed;
    }
    expect(hooks.readings).toEqual([]);
    expect(hooks.events).toHaveLength(1);
    expect(hooks.events[0]).toMatchObject({
      kind: 'acl-denied',
      deviceId: 'dev-a',
      topic: readingsTopic('dev-b'),
    });
    expect(hooks.events[0]!.payload?.toString()).toBe('forged');
  });

  it('grants the own commands topic and delivers commands at the granted QoS', async () => {
    const { port, gateway } = await start();
    const client = await connect(port, 'dev-a', version);
    expect(gateway.sendCommand('dev-a', 'too-early')).toBe(false);
    const granted = await client.subscribeAsync(commandsTopic('dev-a'), { qos: 1 });
    expect(granted[0]).toMatchObject({ topic: commandsTopic('dev-a'), qos: 1 });
    const received = new Promise<{ topic: string; payload: string; qos: number }>((resolve) =>
      client.once('message', (topic, payload, packet) =>
        resolve({ topic, payload: payload.toString(), qos: packet.qos }),
      ),
    );
    expect(gateway.sendCommand('dev-a', '{"cmd":"identify"}', 1)).toBe(true);
    expect(await received).toEqual({ topic: commandsTopic('dev-a'), payload: '{"cmd":"identify"}', qos: 1 });
    expect(gateway.sendCommand('dev-b', 'x')).toBe(false);
    await client.unsubscribeAsync(commandsTopic('dev-a'));
    expect(gateway.sendCommand('dev-a', 'x')).toBe(false);
  });

  it('refuses subscriptions to anything but the own commands topic', async () => {
    const { port, hooks } = await start();
    const client = await connect(port, 'dev-a', version);
    for (const filter of ['#', '$SYS/#', '+/x', commandsTopic('dev-b'), 'openiomt/v1/devices/+/commands']) {
      await expect(client.subscribeAsync(filter, { qos: 1 })).rejects.toThrow(/Subscribe error/);
    }
    expect(hooks.events.map((e) => e.kind)).toEqual(Array(5).fill('acl-denied'));
    expect(hooks.events.map((e) => e.topic)).toContain('$SYS/#');
    expect(client.connected).toBe(true);
  });

  it('closes the old session when the same device connects again', async () => {
    const { port, gateway } = await start();
    const first = await connect(port, 'dev-a', version);
    const firstClosed = closeOf(first);
    const disconnectReason = new Promise<number | undefined>((resolve) =>
      first.once('disconnect', (packet) => resolve(packet.reasonCode)),
    );
    const second = await connect(port, 'dev-a', version, { clientId: 'dev-a-2' });
    await firstClosed;
    if (version === 5) expect(await disconnectReason).toBe(0x8e);
    expect(gateway.connectedDevices()).toEqual(['dev-a']);
    await second.publishAsync(readingsTopic('dev-a'), 'still works', { qos: 1 });
  });

  it('disconnectDevice closes the live session at once', async () => {
    const { port, gateway } = await start();
    const client = await connect(port, 'dev-a', version);
    const closed = closeOf(client);
    const disconnectReason = new Promise<number | undefined>((resolve) =>
      client.once('disconnect', (packet) => resolve(packet.reasonCode)),
    );
    expect(gateway.disconnectDevice('dev-a', 'device revoked')).toBe(true);
    expect(gateway.connectedDevices()).toEqual([]);
    await closed;
    if (version === 5) expect(await disconnectReason).toBe(0x98);
    expect(gateway.disconnectDevice('dev-a', 'again')).toBe(false);
  });

  it('does not acknowledge when onReading fails, and closes the connection', async () => {
    const { port, hooks } = await start();
    hooks.reading = async () => {
      throw new Error('database down');
    };
    const client = await connect(port, 'dev-a', version);
    const closed = closeOf(client);
    let acked = false;
    client.publish(readingsTopic('dev-a'), 'x', { qos: 1 }, (error) => {
      if (!error) acked = true;
    });
    await closed;
    expect(acked).toBe(false);
  });

  it('close() drains: a reading completing after close() started still gets its PUBACK', async () => {
    const { port, hooks, gateway } = await start();
    const stored = deferred<MqttReadingOutcome>();
    hooks.reading = () => stored.promise;
    const client = await connect(port, 'dev-a', version);
    const acked = client.publishAsync(readingsTopic('dev-a'), 'x', { qos: 1 });
    await expect.poll(() => hooks.readings.length).toBe(1);
    const closing = gateway.close();
    await delay(50);
    stored.resolve({ accepted: true });
    await expect(acked).resolves.toBeDefined();
    await closing;
    expect(gateway.stats().connections).toBe(0);
  });
});

describe('MQTT 5 CONNACK', () => {
  it('states what the gateway does not keep or support', async () => {
    const { port } = await start({ maxInflightPerClient: 16, maxKeepaliveS: 120 });
    const client = await connect(port, 'dev-a', 5, {
      keepalive: 0,
      properties: { sessionExpiryInterval: 3600 },
      clean: false,
    });
    expect(client.connected).toBe(true);
    expect((client as unknown as { connackPacket: unknown }).connackPacket).toMatchObject({
      sessionPresent: false,
      properties: {
        receiveMaximum: 16,
        maximumQoS: 1,
        retainAvailable: false,
        topicAliasMaximum: 0,
        wildcardSubscriptionAvailable: false,
        sharedSubscriptionAvailable: false,
        sessionExpiryInterval: 0,
        serverKeepAlive: 120,
        maximumPacketSize: 512 * 1024,
      },
    });
  });
});
