/**
 * Test harness: a real platform on free ports over a real store (PGlite, and PostgreSQL when
 * OPENIOMT_TEST_POSTGRES_URL is set), and devices with real Ed25519 keys provisioned through the admin API.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deviceTokenClaims,
  type Ed25519PublicJwk,
  jwkThumbprint,
  readingsTopic,
  signCompactJws,
} from '@openiomt/core';
import mqtt, { type MqttClient } from 'mqtt';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { type RunningPlatform, startPlatform } from '../src/platform.ts';
import { storeBackends } from '../src/store/testing.ts';

export interface TestPlatform {
  readonly platform: RunningPlatform;
  readonly adminToken: string;
  api<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export const backends = storeBackends();

export async function startTestPlatform(
  backend: (typeof backends)[number],
  flags: Record<string, unknown> = {},
  timing: { streamRescopeMs?: number } = {},
): Promise<TestPlatform> {
  const store = await backend.open();
  // The platform keeps files beside its database (the audit log's signing key and tree heads): a temp folder.
  const dataDir = await mkdtemp(join(tmpdir(), 'openiomt-test-'));
  const config = loadConfig({
    flags: { httpPort: 0, mqttPort: 0, logLevel: 'silent', dataDir, ...flags },
    env: {},
  });
  const platform = await startPlatform(config, { store, logger: createLogger('silent'), ...timing });
  const adminToken = platform.firstAdminToken as string;
  return {
    platform,
    adminToken,
    async api(method, path, body, headers = {}) {
      const res = await fetch(`${platform.httpUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async close() {
      await platform.close();
      await store.dispose();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestDevice {
  readonly id: string;
  readonly patientId: string;
  readonly privateKey: KeyObject;
  readonly kid: string;
  readonly jwk: Ed25519PublicJwk;
  token(lifetimeS?: number): string;
  /** A signed reading with one heart-rate value unless content says otherwise. */
  sign(seq: number, content?: Record<string, unknown>, ts?: string): string;
  connect(protocolVersion?: 4 | 5, extra?: mqtt.IClientOptions): Promise<MqttClient>;
}

export function newKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as unknown as Ed25519PublicJwk;
  const pub = { kty: 'OKP', crv: 'Ed25519', x: jwk.x } as Ed25519PublicJwk;
  return { privateKey, jwk: pub, kid: jwkThumbprint(pub) };
}

export const proof = (key: ReturnType<typeof newKey>, payload: Record<string, unknown>): string =>
  signCompactJws({ iat: Math.floor(Date.now() / 1000), ...payload }, key.privateKey, key.kid);

/** Registers, enrols (proof of possession) and assigns a device to a fresh patient, all through the API. */
export async function provisionDevice(
  t: TestPlatform,
  id: string,
  assignFrom?: string,
  kind = 'ecg-patch',
  register: Record<string, unknown> = {},
): Promise<TestDevice> {
  const patient = await t.api('POST', '/api/v1/admin/patients', {});
  if (patient.status !== 201) throw new Error(`patient: ${JSON.stringify(patient.body)}`);
  const reg = await t.api('POST', '/api/v1/admin/devices', { id, kind, ...register });
  if (reg.status !== 201) throw new Error(`register: ${JSON.stringify(reg.body)}`);
  const key = newKey();
  const enrol = await t.api('POST', `/api/v1/devices/${id}/enrol`, {
    jwk: key.jwk,
    proof: proof(key, { device: id, enrolmentCode: reg.body.enrolmentCode }),
  });
  if (enrol.status !== 201) throw new Error(`enrol: ${JSON.stringify(enrol.body)}`);
  const from = assignFrom ?? new Date(Date.now() - 3600_000).toISOString();
  const assign = await t.api('POST', `/api/v1/admin/devices/${id}/assignments`, {
    patientId: patient.body.id,
    from,
  });
  if (assign.status !== 201) throw new Error(`assign: ${JSON.stringify(assign.body)}`);
  return deviceWithKey(t, id, patient.body.id, key);
}

/** The SDK's key shape for a test device. */
export const sdkKey = (d: Pick<TestDevice, 'privateKey' | 'jwk' | 'kid'>) => ({
  privateKey: d.privateKey,
  publicJwk: d.jwk,
  kid: d.kid,
});

export function deviceWithKey(
  t: TestPlatform,
  id: string,
  patientId: string,
  key: ReturnType<typeof newKey>,
): TestDevice {
  return {
    id,
    patientId,
    privateKey: key.privateKey,
    kid: key.kid,
    jwk: key.jwk,
    token: (lifetimeS = 300) =>
      signCompactJws(deviceTokenClaims(id, Date.now(), lifetimeS), key.privateKey, key.kid, 'JWT'),
    sign: (seq, content = { vitals: [{ code: 'heart-rate', value: 72 }] }, ts = new Date().toISOString()) =>
      signCompactJws(
        { v: 1, device: id, seq, ts, ...content },
        key.privateKey,
        key.kid,
        'openiomt-reading+jws',
      ),
    connect(protocolVersion = 5, extra = {}) {
      return connectMqtt(t.platform.mqttUrl, {
        username: id,
        password: signCompactJws(deviceTokenClaims(id, Date.now()), key.privateKey, key.kid, 'JWT'),
        protocolVersion,
        ...extra,
      });
    },
  };
}

export function connectMqtt(url: string, opts: mqtt.IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    let connected = false;
    client.once('connect', () => {
      connected = true;
      resolve(client);
    });
    client.once('error', (e) => {
      client.end(true);
      reject(e);
    });
    client.once('close', () => {
      if (!connected) reject(new Error('connection closed before CONNACK'));
    });
  });
}

/** Publishes at QoS 1 and resolves with the PUBACK reason code (0 for MQTT 3.1.1 acknowledgements). */
export function publish(
  client: MqttClient,
  topic: string,
  payload: string,
  opts: { dup?: boolean } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    client.publish(topic, payload, { qos: 1, ...(opts.dup ? { dup: true } : {}) }, (err, packet) => {
      const code =
        (packet as { reasonCode?: number } | undefined)?.reasonCode ??
        (err as { code?: number } | undefined)?.code;
      if (err && code === undefined) reject(err);
      else resolve(code ?? 0);
    });
  });
}

export const topicOf = readingsTopic;
