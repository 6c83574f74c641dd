/**
 * Provisions simulated devices through the platform's own admin API, concurrently: a patient, register,
 * enrol with proof of possession, assign. The HTTP API rate-limits each client address (6,000 requests a
 * minute), so requests are spread over several loopback source addresses (127.0.0.x) as a fleet-onboarding
 * tool behind several addresses would be; how many is reported.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import http from 'node:http';
import { deviceTokenClaims, type Ed25519PublicJwk, jwkThumbprint, signCompactJws } from '@openiomt/core';

export interface BenchDevice {
  readonly id: string;
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly patientId: string;
}

export interface ProvisionOptions {
  readonly httpUrl: string;
  readonly adminToken: string;
  readonly count: number;
  readonly concurrency?: number;
  /** Requests per source address per minute to stay under (the platform allows 6,000). */
  readonly requestsPerAddress?: number;
  /** Number of the first device (names bench-NNNNN), for a fleet provisioned in several rounds. */
  readonly firstIndex?: number;
  /** Last octet of the first source address (127.0.0.x), so a later round uses fresh addresses. */
  readonly firstAddress?: number;
  /** Extra registration fields, e.g. `{ expectedIntervalS: 600 }`. */
  readonly register?: Readonly<Record<string, unknown>>;
  readonly onProgress?: (done: number) => void;
}

const REQUESTS_PER_DEVICE = 4;

export async function provisionDevices(
  o: ProvisionOptions,
): Promise<{ devices: BenchDevice[]; addresses: number }> {
  const addresses = Math.max(1, Math.ceil((o.count * REQUESTS_PER_DEVICE) / (o.requestsPerAddress ?? 5_000)));
  const agents = Array.from(
    { length: addresses },
    (_, i) =>
      new http.Agent({
        keepAlive: true,
        maxSockets: 64,
        localAddress: `127.0.0.${(o.firstAddress ?? 1) + i}`,
      }),
  );
  const devices: BenchDevice[] = new Array(o.count);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < o.count) {
      const i = next++;
      const api = apiClient(o.httpUrl, o.adminToken, agents[i % addresses]!);
      const id = `bench-${String((o.firstIndex ?? 0) + i).padStart(5, '0')}`;
      devices[i] = await provisionOne(api, id, o.register);
      done++;
      if (done % 250 === 0 || done === o.count) o.onProgress?.(done);
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency ?? 32 }, worker));
  } finally {
    for (const a of agents) a.destroy();
  }
  return { devices, addresses };
}

/** One JSON request to the platform's API; refuses any answer but 200/201 (waits out 429). */
export type Api = (
  method: string,
  path: string,
  body: unknown,
  admin?: boolean,
) => Promise<Record<string, unknown>>;

/** The device's MQTT password: a JWT it signs itself, valid for an hour. */
export function deviceToken(d: BenchDevice): string {
  return signCompactJws(deviceTokenClaims(d.id, Date.now(), 3600), d.privateKey, d.kid, 'JWT');
}

async function provisionOne(
  api: Api,
  id: string,
  register: Readonly<Record<string, unknown>> = {},
): Promise<BenchDevice> {
  const patient = await api('POST', '/api/v1/admin/patients', {});
  const reg = await api('POST', '/api/v1/admin/devices', { id, kind: 'ecg-patch', ...register });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = String((publicKey.export({ format: 'jwk' }) as { x: string }).x);
  const jwk: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x };
  const kid = jwkThumbprint(jwk);
  const proof = signCompactJws(
    { iat: Math.floor(Date.now() / 1000), device: id, enrolmentCode: reg.enrolmentCode },
    privateKey,
    kid,
  );
  await api('POST', `/api/v1/devices/${id}/enrol`, { jwk, proof }, false);
  const from = new Date(Date.now() - 3_600_000).toISOString();
  await api('POST', `/api/v1/admin/devices/${id}/assignments`, { patientId: patient.id, from });
  return { id, kid, privateKey, publicKey, patientId: String(patient.id) };
}

export function apiClient(baseUrl: string, adminToken: string, agent: http.Agent): Api {
  return async (method, path, body, admin = true) => {
    for (let attempt = 0; ; attempt++) {
      const res = await request(new URL(path, baseUrl), method, body, agent, admin ? adminToken : undefined);
      if (res.status === 429 && attempt < 20) {
        await new Promise((r) => setTimeout(r, 1_000));
        continue;
      }
      if (res.status !== 201 && res.status !== 200)
        throw new Error(`${method} ${path}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
      return res.text ? (JSON.parse(res.text) as Record<string, unknown>) : {};
    }
  };
}

function request(
  url: URL,
  method: string,
  body: unknown,
  agent: http.Agent,
  token: string | undefined,
): Promise<{ status: number; text: string }> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': data.length,
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}
