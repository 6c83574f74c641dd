/**
 * Throughput of QoS 1 publishes of a 3 KB payload through the gateway, with a hook that resolves at once.
 * The MQTT.js clients run in a child process so that the gateway's own CPU cost per publish can be measured.
 * Run: npx tsx packages/platform/bench/gateway.bench.ts [clients=8] [seconds=5] [window=32]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readingsTopic } from '@openiomt/core';
import { connectAsync, type MqttClient } from 'mqtt';
import { MqttGateway } from '../src/ingest/mqtt/gateway.ts';

const PAYLOAD = Buffer.alloc(3 * 1024, 0x61);

/** Keeps `window` publishes in flight on one client until the deadline; returns how many were acknowledged. */
async function drive(client: MqttClient, topic: string, deadline: number, window: number): Promise<number> {
  let acknowledged = 0;
  const lane = async (): Promise<void> => {
    while (Date.now() < deadline) {
      await client.publishAsync(topic, PAYLOAD, { qos: 1 });
      acknowledged++;
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  return acknowledged;
}

async function runClients(port: number, clientCount: number, seconds: number, window: number): Promise<void> {
  const clients = await Promise.all(
    Array.from({ length: clientCount }, (_, i) =>
      connectAsync(`mqtt://127.0.0.1:${port}`, {
        clientId: `bench-${i}`,
        protocolVersion: 5,
        reconnectPeriod: 0,
      }),
    ),
  );
  process.send?.({ ready: true });
  await once(process, 'message');
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const counts = await Promise.all(
    clients.map((c, i) => drive(c, readingsTopic(`bench-${i}`), deadline, window)),
  );
  const elapsedS = (Date.now() - started) / 1000;
  await Promise.all(clients.map((client) => client.endAsync()));
  process.send?.({ total: counts.reduce((a, b) => a + b, 0), elapsedS });
}

async function runGateway(clientCount: number, seconds: number, window: number): Promise<void> {
  const gateway = new MqttGateway({
    host: '127.0.0.1',
    port: 0,
    hooks: {
      authenticate: async (req) => ({ ok: true, deviceId: req.clientId }),
      onReading: async () => ({ accepted: true }),
      onSecurityEvent: () => {},
    },
  });
  const { port } = await gateway.listen();
  const child = fork(import.meta.filename, [
    '--clients',
    String(port),
    String(clientCount),
    String(seconds),
    String(window),
  ]);
  await once(child, 'message');
  const cpuBefore = process.cpuUsage();
  child.send({ go: true });
  const [result] = (await once(child, 'message')) as [{ total: number; elapsedS: number }];
  const cpu = process.cpuUsage(cpuBefore);
  const cpuUs = cpu.user + cpu.system;
  console.log(
    `${clientCount} clients x window ${window}, 3 KB QoS 1: ${result.total} PUBACKs in ${result.elapsedS.toFixed(2)} s = ` +
      `${Math.round(result.total / result.elapsedS)} publishes/s; gateway CPU ${(cpuUs / result.total).toFixed(1)} µs per ` +
      `publish (~${Math.round((result.total * 1e6) / cpuUs)} publishes per CPU-second)`,
  );
  await gateway.close();
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === '--clients') {
  const [port, clientCount, seconds, window] = rest.map(Number) as [number, number, number, number];
  await runClients(port, clientCount, seconds, window);
} else {
  await runGateway(Number(mode ?? 8), Number(rest[0] ?? 5), Number(rest[1] ?? 32));
}
