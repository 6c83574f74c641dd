import type { VitalCode, WaveformCode } from '../codes/vitals.ts';

/**
 * The signed payload a device sends (version 1). It travels as the payload of a compact JWS
 * (RFC 7515, alg EdDSA) and is documented in docs/device-protocol.md.
 */
export interface ReadingMessage {
  readonly v: 1;
  /** The sending device's id; must match the authenticated device and the topic. */
  readonly device: string;
  /** Per-device sequence number, strictly increasing from 1; the key for replay protection. */
  readonly seq: number;
  /** When the message was made, by the device's clock (RFC 3339 with offset). */
  readonly ts: string;
  readonly vitals: readonly VitalSample[];
  readonly waveforms: readonly WaveformChunk[];
  readonly status?: DeviceStatus;
}

export type VitalValue = number | boolean | string;

export interface VitalSample {
  readonly code: VitalCode;
  /** number for quantities, boolean for yes/no vitals, a code (ACVPU letter) for consciousness. */
  readonly value: VitalValue;
  /** UCUM unit; when given it must be the catalogue's unit (values are not converted). */
  readonly unit?: string;
  /** When it was measured; defaults to the message ts. */
  readonly at?: string;
}

export interface WaveformChunk {
  readonly code: WaveformCode;
  /** Samples per second (any positive rate). */
  readonly rate: number;
  /** Time of the first sample (RFC 3339). */
  readonly start: string;
  /** physical value = origin + factor * sample, in the catalogue unit of this waveform. */
  readonly factor: number;
  readonly origin: number;
  /** Raw samples; null marks a missing sample (lead off, dropout). */
  readonly data: readonly (number | null)[];
}

export interface DeviceStatus {
  /** Battery charge, percent 0..100. */
  readonly battery?: number;
  readonly firmware?: string;
  /** Device-reported technical conditions such as lead-off. */
  readonly leadOff?: boolean;
}

/** Limits a decoded message must keep to; the platform may configure smaller ones. */
export const MESSAGE_LIMITS = {
  maxBytes: 256 * 1024,
  maxVitals: 64,
  maxWaveforms: 16,
  maxSamplesPerChunk: 16_384,
  maxRateHz: 10_000,
  maxDeviceIdLength: 64,
} as const;

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
