/**
 * The MQTT publisher against the platform's own MQTT gateway (packages/platform/src/ingest/mqtt) over
 * loopback, with hooks that verify tokens and signatures and apply the replay rule.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MqttGateway, type MqttGatewayHooks } from '../../platform/src/ingest/mqtt/index.ts';
import { generateDeviceKey } from './keys.ts';
import { MqttPublisher, type MqttPublisherOptions } from './mqtt-transport.ts';
import { Outbox } from './outbox.ts';
import { FileSequenceStore } from './sequence.ts';
import { ReadingSigner } from './signer.ts';
import { delay, TestPlatform, waitFor } from './test-platform.ts';

const DEVICE = 'ecg-patch-1';
const key = generateDeviceKey();

let dir: string;
let platform: TestPlatform;
let gateway: MqttGateway;
let port: number;
/** Seqs whose connection is cut after the reading is stored but before its PUBACK (first time only). */
let cutBeforeAck: Set<number>;
/** When set, onReading waits for this before completing. */
let hold: ((seq: number) => Promise<void>) | undefined;
const cleanups: (() => Promise<void>)[] = [];

function hooks(): MqttGatewayHooks {
  return {
    authenticate: async (req) =>
      req.username === DEVICE && req.password && platform.checkToken(req.password.toString())
        ? { ok: true, deviceId: DEVICE }
        : { ok: false, reason: 'bad token' },
    onReading: async (reading) => {
      const verdict = platform.receive(reading.payload.toString(), reading.dup);
      const seq = verdict.seq ?? -1;
      if (hold) await hold(seq);
      if (cutBeforeAck.delete(seq)) {
        gateway.disconnectDevice(DEVICE, 'test: lose the PUBACK');
        await delay(5);
      }
      if (verdict.status === 'rejected')
        return { accepted: false, reasonCode: 0x99, reasonString: verdict.reason };
      return { accepted: true };
    },
    onSecurityEvent: () => undefined,
  };
}

async function startGateway(atPort = 0): Promise<void> {
  gateway = new MqttGateway({ host: '127.0.0.1', port: atPort, hooks: hooks() });
  port = (await gateway.listen()).port;
}

async function device(extra: Partial<MqttPublisherOptions> = {}) {
  const outbox = await Outbox.open(join(dir, 'outbox'));
  const signer = new ReadingSigner({
    deviceId: DEVICE,
    key,
    sequence: new FileSequenceStore(join(dir, 'seq')),
  });
  const publisher = new MqttPublisher({
    url: `mqtt://127.0.0.1:${port}`,
    deviceId: DEVICE,
    signer,
    outbox,
    maxInflight: 8,
    reconnect: { minMs: 20, maxMs: 200 },
    ...extra,
  });
  const stop = async () => {
    await publisher.stop();
    await outbox.close();
  };
  cleanups.push(stop);
  const send = async (hr: number) => {
    const { seq, jws } = await signer.sign({ vitals: [{ code: 'heart-rate', value: hr }] });
    await outbox.append(jws);
    return seq;
  };
  return { outbox, signer, publisher, send, stop };
}

const inOrderOnce = (order: number[], n: number) =>
  expect(order).toEqual(Array.from({ length: n }, (_, i) => i + 1));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mqtt-pub-'));
  platform = new TestPlatform(DEVICE, key.publicJwk);
  cutBeforeAck = new Set();
  hold = undefined;
  await startGateway();
});

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
});

describe('MqttPublisher against the platform gateway', () => {
  it('delivers in order, resends with DUP after a lost PUBACK, and loses nothing', async () => {
    cutBeforeAck = new Set([10, 30]);
    const d = await device();
    d.publisher.start();
    for (let i = 0; i < 50; i++) await d.send(60 + (i % 40));
    await d.publisher.flushed();
    inOrderOnce(platform.order, 50);
    expect(platform.replays).toBe(0);
    expect(platform.arrivalsOf(10).map((a) => a.dup)).toEqual([false, true]);
    expect(platform.arrivalsOf(30).map((a) => a.dup)).toEqual([false, true]);
    expect(platform.arrivalsOf(1).map((a) => a.dup)).toEqual([false]);
    // Every connection used a fresh token.
    expect(platform.tokens.length).toBeGreaterThanOrEqual(3);
    expect(new Set(platform.tokens).size).toBe(platform.tokens.length);
    expect(d.outbox.stats().records).toBe(0);
  });

  it('reports an MQTT 5 rejection once and does not resend it', async () => {
    platform.rejectSeqs.add(3);
    const rejected: [number | undefined, string][] = [];
    const d = await device({ onRejected: (seq, reason) => rejected.push([seq, reason]) });
    d.publisher.start();
    for (let i = 0; i < 6; i++) await d.send(70);
    await d.publisher.flushed();
    expect(rejected).toEqual([[3, 'implausible-value: test']]);
    expect(platform.order).toEqual([1, 2, 4, 5, 6]);
    expect(platform.arrivalsOf(3)).toHaveLength(1);
  });

  it('after a device crash between send and PUBACK, resends with DUP (never a replay)', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    hold = (seq) => (seq === 2 ? held : Promise.resolve());
    const first = await device({ maxInflight: 1 });
    first.publisher.start();
    await first.send(80);
    await first.send(81);
    await waitFor(() => platform.arrivalsOf(2).length === 1);
    await first.stop(); // the "crash": connection gone, outbox closed, nothing acknowledged for seq 2
    release();
    hold = undefined;
    const second = await device();
    second.publisher.start();
    await second.send(82);
    await second.publisher.flushed();
    expect(platform.arrivalsOf(2).map((a) => a.dup)).toEqual([false, true]);
    expect(platform.replays).toBe(0);
    expect(platform.order).toEqual([1, 2, 1001]); // the restarted sequence store skips the rest of its block
  });

  it('survives a platform outage: keeps buffering, reconnects, delivers everything in order once', async () => {
    const connections: boolean[] = [];
    const d = await device({ onConnection: (c) => connections.push(c) });
    d.publisher.start();
    for (let i = 0; i < 20; i++) await d.send(90);
    await gateway.close(); // outage
    for (let i = 0; i < 40; i++) {
      await d.send(91);
      if (i % 10 === 0) await delay(20);
    }
    expect(d.outbox.stats().records).toBeGreaterThan(0);
    await startGateway(port); // the same port: devices are configured with one address
    for (let i = 0; i < 20; i++) await d.send(92);
    await d.publisher.flushed();
    inOrderOnce(platform.order, 80);
    expect(platform.replays).toBe(0);
    expect(connections.filter((c) => c).length).toBeGreaterThanOrEqual(2);
  });

  it('speaks MQTT 3.1.1 too and receives commands on its own topic', async () => {
    const commands: string[] = [];
    const d = await device({ protocolVersion: 4, onCommand: (p) => commands.push(p.toString()) });
    d.publisher.start();
    await d.send(65);
    await d.publisher.flushed();
    await waitFor(() => gateway.sendCommand(DEVICE, '{"cmd":"ping"}', 1));
    await waitFor(() => commands.length === 1);
    expect(commands).toEqual(['{"cmd":"ping"}']);
    inOrderOnce(platform.order, 1);
  });

  it('does not connect with a token the platform refuses, and keeps the readings', async () => {
    const other = generateDeviceKey();
    const outbox = await Outbox.open(join(dir, 'other'));
    const signer = new ReadingSigner({
      deviceId: DEVICE,
      key: other,
      sequence: new FileSequenceStore(join(dir, 's2')),
    });
    const errors: (Error | undefined)[] = [];
    const publisher = new MqttPublisher({
      url: `mqtt://127.0.0.1:${port}`,
      deviceId: DEVICE,
      signer,
      outbox,
      reconnect: { minMs: 20, maxMs: 50 },
      onConnection: (_c, e) => errors.push(e),
    });
    cleanups.push(async () => {
      await publisher.stop();
      await outbox.close();
    });
    await outbox.append((await signer.sign({ vitals: [{ code: 'heart-rate', value: 60 }] })).jws);
    publisher.start();
    await waitFor(() => errors.length >= 2);
    expect(publisher.isConnected).toBe(false);
    expect(outbox.stats().records).toBe(1);
    expect(platform.arrivals).toHaveLength(0);
  });
});
