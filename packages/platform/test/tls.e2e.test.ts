import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceClient, MemorySequenceStore } from '@openiomt/device-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backends,
  connectMqtt,
  provisionDevice,
  publish,
  sdkKey,
  startTestPlatform,
  type TestPlatform,
  topicOf,
} from './harness.ts';

/** A throwaway certificate authority and a server certificate for 127.0.0.1, made with openssl. */
function makeCertificates(dir: string) {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  ]);
  run([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  ]);
  const ext = join(dir, 'ext.cnf');
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ${ext}`]);
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    ext,
    '-out',
    'server.pem',
  ]);
  return {
    ca: readFileSync(join(dir, 'ca.pem')),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server.key'),
  };
}

function httpsGet(
  url: string,
  ca: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(backends.slice(0, 1))('TLS on every listener ($name)', (backend) => {
  let dir: string;
  let certs: ReturnType<typeof makeCertificates>;
  let t: TestPlatform;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openiomt-tls-'));
    certs = makeCertificates(dir);
    t = await startTestPlatform(backend, { tlsCertFile: certs.cert, tlsKeyFile: certs.key });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS and MQTT over TLS with the given certificate', async () => {
    expect(t.platform.httpUrl).toMatch(/^https:/);
    expect(t.platform.mqttUrl).toMatch(/^mqtts:/);
    const health = await httpsGet(`${t.platform.httpUrl}/healthz`, certs.ca);
    expect(health.status).toBe(200);
    // A client that does not trust the CA is refused.
    await expect(httpsGet(`${t.platform.httpUrl}/healthz`, Buffer.from(''))).rejects.toThrow();
  });

  it('takes a signed reading over mqtts', async () => {
    // Provisioning goes through the same HTTPS API; node's fetch takes no CA, so route it through node:https.
    const api = t.api;
    t.api = async (method, path, body, headers = {}) => {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `${t.platform.httpUrl}${path}`,
          {
            method,
            ca: certs.ca,
            headers: {
              authorization: `Bearer ${t.adminToken}`,
              'content-type': 'application/json',
              ...headers,
            },
          },
          (res) => {
            let text = '';
            res.on('data', (c) => {
              text += c;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
      return { status: res.status, body: res.body ? JSON.parse(res.body) : undefined };
    };
    try {
      const d = await provisionDevice(t, 'tls-dev');
      // The SDK over mqtts, trusting only the private CA.
      const dir = mkdtempSync(join(tmpdir(), 'openiomt-tls-sdk-'));
      const sdk = await DeviceClient.open({
        deviceId: d.id,
        key: sdkKey(d),
        dataDir: dir,
        sequence: new MemorySequenceStore(100),
        transport: { kind: 'mqtt', url: t.platform.mqttUrl, tls: { ca: certs.ca, rejectUnauthorized: true } },
      });
      const sent = await sdk.send({ vitals: [{ code: 'heart-rate', value: 77 }] });
      await sdk.flushed();
      await sdk.close();
      rmSync(dir, { recursive: true, force: true });
      expect((await t.api('GET', `/api/v1/admin/readings/${d.id}/${sent}`)).status).toBe(200);
      const client = await d.connect(5, { ca: certs.ca, rejectUnauthorized: true });
      expect(await publish(client, topicOf(d.id), d.sign(200))).toBe(0);
      client.end();
      await expect(
        connectMqtt(t.platform.mqttUrl.replace('mqtts:', 'mqtt:'), {
          username: d.id,
          password: d.token(),
          connectTimeout: 2000,
        }),
      ).rejects.toThrow();
    } finally {
      t.api = api;
    }
  });
});
