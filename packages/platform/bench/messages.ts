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

/**
 * The four vitals of a reading. `varied` walks through ranges (the ingest benchmark); `steady` stays at
 * normal adult values (NEWS2 0, inside every default limit, no trend) so that a background fleet raises no
 * alarm of its own (the alarm benchmark).
 */
export type VitalsProfile = 'varied' | 'steady';

const STEADY_VITALS =
  '[{"code":"heart-rate","value":72},{"code":"spo2","value":97},' +
  '{"code":"respiratory-rate","value":14},{"code":"body-temperature","value":36.8}]';

function vitalsJson(seq: number, profile: VitalsProfile, spo2?: number): string {
  if (spo2 !== undefined) return STEADY_VITALS.replace('"spo2","value":97', `"spo2","value":${spo2}`);
  if (profile === 'steady') return STEADY_VITALS;
  return (
    `[{"code":"heart-rate","value":${60 + (seq % 40)}},{"code":"spo2","value":${94 + (seq % 6)}},` +
    `{"code":"respiratory-rate","value":${12 + (seq % 8)}},{"code":"body-temperature","value":36.${seq % 10}}]`
  );
}

/** The payload text of one reading; built by concatenation (cheaper than JSON.stringify of the object). */
export function readingPayload(
  deviceId: string,
  seq: number,
  nowMs: number,
  profile: VitalsProfile = 'varied',
  spo2?: number,
): string {
  const ts = new Date(nowMs).toISOString();
  const start = new Date(nowMs - 1000).toISOString();
  // `spo2`: the steady vitals with this SpO2 instead (an alarm probe riding on a full reading).
  const vitals = vitalsJson(seq, profile, spo2);
  // A steady fleet sends the same regular beat every second; the varied one shifts it (irregular RR).
  const ecg = ECG_SECONDS[profile === 'steady' ? 0 : seq % ECG_SECONDS.length];
  const waveforms = `[{"code":"ecg-ii","rate":${ECG_RATE_HZ},"start":"${start}","factor":0.005,"origin":0,"data":${ecg}}]`;
  return `{"v":1,"device":${JSON.stringify(deviceId)},"seq":${seq},"ts":"${ts}","vitals":${vitals},"waveforms":${waveforms}}`;
}

export function signReading(
  device: SigningDevice,
  seq: number,
  nowMs: number,
  profile: VitalsProfile = 'varied',
  spo2?: number,
): string {
  return signCompactJws(
    readingPayload(device.id, seq, nowMs, profile, spo2),
    device.privateKey,
    device.kid,
    'openiomt-reading+jws',
  );
}

/** A signed reading of one vital and nothing else (no waveform), e.g. an SpO2 probe of the alarm benchmark. */
export function signVital(device: SigningDevice, seq: number, nowMs: number, code: string, value: number) {
  const payload =
    `{"v":1,"device":${JSON.stringify(device.id)},"seq":${seq},"ts":"${new Date(nowMs).toISOString()}",` +
    `"vitals":[{"code":${JSON.stringify(code)},"value":${value}}]}`;
  return signCompactJws(payload, device.privateKey, device.kid, 'openiomt-reading+jws');
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
