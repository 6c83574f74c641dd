/**
 * The benchmark's device message: one second of 250 Hz ECG (lead II) and four vitals, signed by the device
 * key as a compact JWS, ready to go as the bytes of an MQTT 5 QoS 1 PUBLISH. Everything here runs before a
 * measured step so signing costs nothing during it.
 */
import type { KeyObject } from 'node:crypto';
import { readingsTopic, signCompactJws } from '@openiomt/core';
import { generate } from 'mqtt-packet';

export const ECG_RATE_HZ = 250;

export interface SigningDevice {
  readonly id: string;
  readonly kid: string;
  readonly privateKey: KeyObject;
}

/** A few different seconds of a synthetic ECG as JSON arrays; the platform's cost depends on size, not shape. */
const ECG_SECONDS: readonly string[] = Array.from({ length: 8 }, (_, s) => JSON.stringify(ecgSecond(s)));

function ecgSecond(offset: number): number[] {
  // A QRS-like spike once a second over a slow baseline wander, in raw ADC units (factor 0.005 mV).
  return Array.from({ length: ECG_RATE_HZ }, (_, i) => {
    const t = (i + offset * 37) % ECG_RATE_HZ;
    const qrs = t >= 100 && t < 110 ? 220 * Math.sin(((t - 100) / 10) * Math.PI) : 0;
    return Math.round(qrs + 12 * Math.sin((i + offset) / 20) + ((i * 13) % 7));
  });
}

/** The payload text of one reading; built by concatenation (cheaper than JSON.stringify of the object). */
export function readingPayload(deviceId: string, seq: number, nowMs: number): string {
  const ts = new Date(nowMs).toISOString();
  const start = new Date(nowMs - 1000).toISOString();
  const hr = 60 + (seq % 40);
  const vitals =
    `[{"code":"heart-rate","value":${hr}},{"code":"spo2","value":${94 + (seq % 6)}},` +
    `{"code":"respiratory-rate","value":${12 + (seq % 8)}},{"code":"body-temperature","value":36.${seq % 10}}]`;
  const ecg = ECG_SECONDS[seq % ECG_SECONDS.length];
  const waveforms = `[{"code":"ecg-ii","rate":${ECG_RATE_HZ},"start":"${start}","factor":0.005,"origin":0,"data":${ecg}}]`;
  return `{"v":1,"device":${JSON.stringify(deviceId)},"seq":${seq},"ts":"${ts}","vitals":${vitals},"waveforms":${waveforms}}`;
}

export function signReading(device: SigningDevice, seq: number, nowMs: number): string {
  return signCompactJws(
    readingPayload(device.id, seq, nowMs),
    device.privateKey,
    device.kid,
    'openiomt-reading+jws',
  );
}

/** The wire bytes of an MQTT 5 QoS 1 PUBLISH of `jws` on the device's readings topic. */
export function publishPacket(deviceId: string, messageId: number, jws: string): Buffer {
  return generate(
    {
      cmd: 'publish',
      topic: readingsTopic(deviceId),
      payload: Buffer.from(jws, 'latin1'),
      qos: 1,
      messageId,
      dup: false,
      retain: false,
    },
    { protocolVersion: 5 },
  );
}
