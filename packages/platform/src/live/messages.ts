/**
 * What the live dashboard is told, made from bus events: pure functions, so the stream and the census say
 * the same thing. Times are ISO instants; waveform samples are physical values (origin + factor * raw) in
 * the catalogue unit, rounded to 4 significant digits (a missing sample stays null).
 */
import {
  isVitalCode,
  type News2Score,
  type ReadingMessage,
  VITALS,
  type VitalSample,
  WAVEFORMS,
} from '@openiomt/core';
import type { DerivedMeasurementEvent } from '../bus/bus.ts';

export type DeviceLiveStatus = 'online' | 'stale' | 'offline' | 'never' | 'quarantined';

/** No message for more than this many expected intervals: stale; for more than OFFLINE_AFTER: offline. */
export const STALE_AFTER_INTERVALS = 2;
export const OFFLINE_AFTER_INTERVALS = 10;

/**
 * A device's status from its last message (platform receive time, epoch ms) and expected interval; a
 * quarantined device says so, so clinicians see why its data stopped.
 */
export function deviceLiveStatus(
  lastSeenAt: number | undefined,
  expectedIntervalS: number,
  now: number,
  quarantined = false,
): DeviceLiveStatus {
  if (quarantined) return 'quarantined';
  if (lastSeenAt === undefined) return 'never';
  const silentMs = now - lastSeenAt;
  const intervalMs = expectedIntervalS * 1000;
  if (silentMs > OFFLINE_AFTER_INTERVALS * intervalMs) return 'offline';
  if (silentMs > STALE_AFTER_INTERVALS * intervalMs) return 'stale';
  return 'online';
}

export interface LiveValue {
  readonly code: string;
  readonly value: number;
  readonly unit?: string;
}

export interface VitalsMessage {
  readonly type: 'vitals';
  readonly patientId: string;
  /** The device that measured them; absent when a person entered them (`entered`). */
  readonly deviceId?: string;
  readonly entered?: true;
  readonly at: string;
  readonly values: LiveValue[];
}

export interface WaveformMessage {
  readonly type: 'waveform';
  readonly patientId: string;
  readonly deviceId: string;
  readonly code: string;
  readonly rateHz: number;
  readonly start: string;
  readonly samples: (number | null)[];
  readonly unit: string;
}

const iso = (t: string | number) => new Date(t).toISOString();

/** The numeric vital signs of a reading, one message per measurement time (usually one). */
export function vitalsMessages(patientId: string, deviceId: string, m: ReadingMessage): VitalsMessage[] {
  return vitalsMessagesOf(patientId, { deviceId }, m.vitals, m.ts);
}

/** The vitals a person entered (FHIR create), each with its own time. */
export function enteredVitalsMessages(patientId: string, vitals: readonly VitalSample[]): VitalsMessage[] {
  return vitalsMessagesOf(patientId, { entered: true }, vitals, undefined);
}

/** One message per measurement time; only numeric vital signs (not activity) are shown live. */
function vitalsMessagesOf(
  patientId: string,
  source: { deviceId: string } | { entered: true },
  vitals: readonly VitalSample[],
  ts: string | undefined,
): VitalsMessage[] {
  const byTime = new Map<string, LiveValue[]>();
  for (const v of vitals) {
    if (typeof v.value !== 'number' || !isVitalCode(v.code)) continue;
    const def = VITALS[v.code];
    if (def.category !== 'vital-signs') continue;
    const when = v.at ?? ts;
    if (when === undefined) continue;
    const at = iso(when);
    const unit = v.unit ?? def.unit;
    let values = byTime.get(at);
    if (!values) {
      values = [];
      byTime.set(at, values);
    }
    values.push({ code: v.code, value: v.value, ...(unit ? { unit } : {}) });
  }
  return [...byTime].map(([at, values]) => ({ type: 'vitals', patientId, ...source, at, values }));
}

export function waveformMessages(patientId: string, deviceId: string, m: ReadingMessage): WaveformMessage[] {
  return (m.waveforms ?? []).map((w) => ({
    type: 'waveform',
    patientId,
    deviceId,
    code: w.code,
    rateHz: w.rate,
    start: iso(w.start),
    samples: w.data.map((s) => (s === null ? null : significant4(w.origin + w.factor * s))),
    unit: WAVEFORMS[w.code]?.unit ?? '1',
  }));
}

/** Rounds to 4 significant digits (enough for a display; keeps frames small). */
export function significant4(x: number): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(4));
}

export function derivedMessage(d: DerivedMeasurementEvent) {
  return {
    type: 'derived' as const,
    patientId: d.patientId,
    deviceId: d.deviceId,
    code: d.code,
    ...(d.value === undefined ? {} : { value: d.value }),
    at: iso(d.at),
    signalQuality: d.signalQuality,
    ...(d.rhythm === undefined ? {} : { rhythm: d.rhythm }),
    ...(d.rhythmBasis === undefined ? {} : { rhythmBasis: d.rhythmBasis }),
    ...(d.leadOff === undefined ? {} : { leadOff: d.leadOff }),
  };
}

/** The parts of a NEWS2 score a dashboard shows; `missing` lists parameters missing, stale or invalid. */
export function news2Summary(score: News2Score) {
  return {
    total: score.total,
    band: score.band,
    complete: score.complete,
    missing: [...new Set(score.issues.map((i) => i.parameter))],
  };
}

export function news2Message(patientId: string, score: News2Score, at: number) {
  return { type: 'news2' as const, patientId, at: iso(at), score: news2Summary(score) };
}

export function deviceMessage(
  patientId: string,
  deviceId: string,
  status: DeviceLiveStatus,
  lastSeenAt: number | undefined,
) {
  return {
    type: 'device' as const,
    patientId,
    deviceId,
    status,
    ...(lastSeenAt === undefined ? {} : { lastSeenAt: iso(lastSeenAt) }),
  };
}
