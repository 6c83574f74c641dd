import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readingsTopic } from '@openiomt/core';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttGateway } from './gateway.ts';
import { connectPacket, passwordOf, RawClient, startGateway, type TestHooks } from './test-support.ts';

let dir: string;
let cert: Buffer;
let key: Buffer;
let gateway: MqttGateway;
let hooks: TestHooks;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openiomt-mqtt-tls-'));
  // A throwaway self-signed certificate for this run only.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ed25519',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  cert = readFileSync(join(dir, 'cert.pem'));
  key = readFileSync(join(dir, 'key.pem'));
  ({ gateway, hooks, port } = await startGateway({ tls: { key, cert } }));
});

afterAll(async () => {
  await gateway?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('MQTT over TLS', () => {
  it('accepts an mqtts client that verifies the certificate and acknowledges its reading', async () => {
    const client = await connectAsync(`mqtts://127.0.0.1:${port}`, {
      clientId: 'dev-a',
      username: 'dev-a',
      password: passwordOf('dev-a'),
      protocolVersion: 5,
      reconnectPeriod: 0,
      ca: cert,
      rejectUnauthorized: true,
    });
    await client.publishAsync(readingsTopic('dev-a'), 'over tls', { qos: 1 });
    expect(hooks.readings.at(-1)?.payload.toString()).toBe('over tls');
    await client.endAsync();
  });

  it('refuses a plain-text MQTT client on the TLS port', async () => {
    const plain = await RawClient.connect(port, 4);
    plain.send(connectPacket('dev-b', 4));
    expect(await plain.closesWithin(2_000)).toBe(true);
    expect(plain.packets).toEqual([]);
    expect(hooks.authRequests.map((r) => r.clientId)).not.toContain('dev-b');
  });
});
