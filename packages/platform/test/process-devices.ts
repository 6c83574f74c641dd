/**
 * Devices for tests that run the platform as a child process (process.ts): provisioned through the admin
 * and device APIs as an administrator and a device would, and connected over real MQTT.
 */
import { deviceTokenClaims, signCompactJws } from '@openiomt/core';
import mqtt, { type MqttClient } from 'mqtt';
import { newKey, proof } from './harness.ts';
import { api, type PlatformProcess } from './process.ts';

export interface ProcessDevice {
  readonly id: string;
  readonly patientId: string;
  readonly key: ReturnType<typeof newKey>;
  /** The last sequence number sent. */
  seq: number;
}

/** A new patient and a monitor enrolled and assigned to them since a minute ago; `register` adds to the registration. */
export async function provisionProcessDevice(
  p: PlatformProcess,
  token: string,
  id: string,
  register: Record<string, unknown> = {},
): Promise<ProcessDevice> {
  const patient = await api(p.httpUrl, token, 'POST', '/api/v1/admin/patients', {});
  const reg = await api(p.httpUrl, token, 'POST', '/api/v1/admin/devices', {
    id,
    kind: 'monitor',
    ...register,
  });
  if (reg.status !== 201) throw new Error(`register ${id}: ${JSON.stringify(reg.body)}`);
  const key = newKey();
  await api(p.httpUrl, token, 'POST', `/api/v1/devices/${id}/enrol`, {
    jwk: key.jwk,
    proof: proof(key, { device: id, enrolmentCode: reg.body.enrolmentCode }),
  });
  await api(p.httpUrl, token, 'POST', `/api/v1/admin/devices/${id}/assignments`, {
    patientId: patient.body.id,
    from: new Date(Date.now() - 60_000).toISOString(),
  });
  return { id, patientId: patient.body.id as string, key, seq: 0 };
}

/** An MQTT 5 session as the device, which does not reconnect by itself. */
export async function connectProcessDevice(
  mqttUrl: string,
  d: Pick<ProcessDevice, 'id' | 'key'>,
): Promise<MqttClient> {
  const client = mqtt.connect(mqttUrl, {
    username: d.id,
    password: signCompactJws(deviceTokenClaims(d.id, Date.now()), d.key.privateKey, d.key.kid, 'JWT'),
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  client.on('error', () => undefined);
  return client;
}
