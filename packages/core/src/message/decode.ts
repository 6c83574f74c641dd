import { isVitalCode, isWaveformCode, VITALS, WAVEFORMS } from '../codes/vitals.ts';
import {
  DEVICE_ID_PATTERN,
  type DeviceStatus,
  MESSAGE_LIMITS,
  type ReadingMessage,
  type VitalSample,
  type WaveformChunk,
} from './reading.ts';
import { fail, ok, type Rejection, type Result, reject } from './rejection.ts';
import { parseInstant } from './time.ts';

/**
 * Decodes and validates the JSON payload of a reading message. Never throws: every refusal names the
 * field at fault as a JSON pointer. Plausibility (catalogue ranges) is checked here too, because a
 * value no body can have is a device fault, not a clinical finding.
 */
export function decodeReading(
  json: string,
  limits: Partial<typeof MESSAGE_LIMITS> = {},
): Result<ReadingMessage> {
  const lim = { ...MESSAGE_LIMITS, ...limits };
  // Checked before parsing so an oversized payload costs no JSON work.
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > lim.maxBytes)
    return fail(reject('oversize', `/: payload is ${bytes} bytes, at most ${lim.maxBytes}`, ''));
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    return fail(reject('schema-violation', `/: payload is not JSON: ${(e as Error).message}`, ''));
  }
  try {
    return ok(readMessage(raw, lim));
  } catch (e) {
    if (e instanceof FieldError) return fail(e.rejection);
    throw e;
  }
}

class FieldError extends Error {
  constructor(readonly rejection: Rejection) {
    super(rejection.detail);
  }
}

const bad = (field: string, detail: string, code: Rejection['code'] = 'schema-violation'): never => {
  throw new FieldError(reject(code, `${field || '/'}: ${detail}`, field));
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function object(v: unknown, field: string, allowed: readonly string[]): Record<string, unknown> {
  if (!isObject(v)) bad(field, 'must be an object');
  const o = v as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!allowed.includes(key)) bad(`${field}/${key}`, 'unknown field');
  return o;
}

function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(field, 'must be a finite number');
  return v as number;
}

function instant(v: unknown, field: string): string {
  if (typeof v !== 'string' || parseInstant(v) === undefined)
    bad(field, 'must be an RFC 3339 date-time with offset');
  return v as string;
}

type Limits = typeof MESSAGE_LIMITS;

function readMessage(raw: unknown, lim: Limits): ReadingMessage {
  const o = object(raw, '', ['v', 'device', 'seq', 'ts', 'vitals', 'waveforms', 'status']);
  if (o.v !== 1) bad('/v', 'must be 1 (the only message version)');
  if (typeof o.device !== 'string' || !DEVICE_ID_PATTERN.test(o.device))
    bad('/device', 'must be a device id (letters, digits, . _ -; at most 64)');
  const seq = o.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1)
    bad('/seq', 'must be a positive integer below 2^53');
  const ts = instant(o.ts, '/ts');
  const vitals = readArray(o.vitals, '/vitals', lim.maxVitals, readVital);
  const waveforms = readArray(o.waveforms, '/waveforms', lim.maxWaveforms, (w, f) => readWaveform(w, f, lim));
  if (vitals.length === 0 && waveforms.length === 0 && o.status === undefined)
    bad('', 'a message must carry vitals, waveforms or status');
  const base = { v: 1 as const, device: o.device as string, seq: seq as number, ts, vitals, waveforms };
  return o.status === undefined ? base : { ...base, status: readStatus(o.status) };
}

function readArray<T>(
  v: unknown,
  field: string,
  max: number,
  each: (item: unknown, field: string) => T,
): T[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) bad(field, 'must be an array');
  const arr = v as unknown[];
  if (arr.length > max) bad(field, `at most ${max} items`, 'oversize');
  return arr.map((item, i) => each(item, `${field}/${i}`));
}

function readVital(v: unknown, field: string): VitalSample {
  const o = object(v, field, ['code', 'value', 'unit', 'at']);
  if (typeof o.code !== 'string' || !isVitalCode(o.code)) bad(`${field}/code`, 'not a known vital-sign code');
  const def = VITALS[o.code as keyof typeof VITALS];
  const value = o.value;
  switch (def.valueKind) {
    case 'quantity': {
      const n = finite(value, `${field}/value`);
      if ((def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max))
        bad(`${field}/value`, `${n} is outside ${def.min}..${def.max} ${def.unit}`, 'implausible-value');
      break;
    }
    case 'boolean':
      if (typeof value !== 'boolean') bad(`${field}/value`, 'must be true or false');
      break;
    case 'code':
      if (typeof value !== 'string' || !def.allowedCodes?.includes(value))
        bad(`${field}/value`, `must be one of ${def.allowedCodes?.join(', ')}`);
      break;
  }
  if (o.unit !== undefined && o.unit !== def.unit)
    bad(`${field}/unit`, def.unit ? `must be the UCUM unit ${def.unit}` : 'this vital has no unit');
  const sample: VitalSample = { code: def.code, value: value as VitalSample['value'] };
  const withUnit = o.unit === undefined ? sample : { ...sample, unit: o.unit as string };
  return o.at === undefined ? withUnit : { ...withUnit, at: instant(o.at, `${field}/at`) };
}

function readWaveform(v: unknown, field: string, lim: Limits): WaveformChunk {
  const o = object(v, field, ['code', 'rate', 'start', 'factor', 'origin', 'data', 'unit']);
  if (typeof o.code !== 'string' || !isWaveformCode(o.code))
    bad(`${field}/code`, 'not a known waveform code');
  const def = WAVEFORMS[o.code as keyof typeof WAVEFORMS];
  const rate = finite(o.rate, `${field}/rate`);
  if (rate <= 0 || rate > lim.maxRateHz)
    bad(`${field}/rate`, `must be above 0 and at most ${lim.maxRateHz} Hz`);
  const start = instant(o.start, `${field}/start`);
  const factor = o.factor === undefined ? 1 : finite(o.factor, `${field}/factor`);
  if (factor === 0) bad(`${field}/factor`, 'must not be 0');
  const origin = o.origin === undefined ? 0 : finite(o.origin, `${field}/origin`);
  if (o.unit !== undefined && o.unit !== def.unit) bad(`${field}/unit`, `must be the UCUM unit ${def.unit}`);
  if (!Array.isArray(o.data)) bad(`${field}/data`, 'must be an array of samples');
  const data = o.data as unknown[];
  if (data.length === 0) bad(`${field}/data`, 'must hold at least one sample');
  if (data.length > lim.maxSamplesPerChunk)
    bad(`${field}/data`, `at most ${lim.maxSamplesPerChunk} samples per chunk`, 'oversize');
  for (let i = 0; i < data.length; i++) {
    const s = data[i];
    if (s !== null && (typeof s !== 'number' || !Number.isFinite(s)))
      bad(`${field}/data/${i}`, 'must be a finite number or null');
  }
  return { code: def.code, rate, start, factor, origin, data: data as (number | null)[] };
}

function readStatus(v: unknown): DeviceStatus {
  const o = object(v, '/status', ['battery', 'firmware', 'leadOff']);
  const status: { battery?: number; firmware?: string; leadOff?: boolean } = {};
  if (o.battery !== undefined) {
    const b = finite(o.battery, '/status/battery');
    if (b < 0 || b > 100) bad('/status/battery', 'must be a percentage 0..100');
    status.battery = b;
  }
  if (o.firmware !== undefined) {
    if (typeof o.firmware !== 'string' || o.firmware.length > 64)
      bad('/status/firmware', 'must be a string of at most 64');
    status.firmware = o.firmware as string;
  }
  if (o.leadOff !== undefined) {
    if (typeof o.leadOff !== 'boolean') bad('/status/leadOff', 'must be true or false');
    status.leadOff = o.leadOff as boolean;
  }
  return status;
}
