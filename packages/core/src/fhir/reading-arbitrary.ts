/**
 * Test support (not exported from the package): fast-check arbitraries for valid device messages, built
 * from the vital-sign catalogue so every code, unit, range and answer set is exercised.
 */
import fc from 'fast-check';
import { VITAL_CODES, VITALS, type VitalCode, WAVEFORM_CODES } from '../codes/vitals.ts';
import {
  DEVICE_ID_PATTERN,
  type ReadingMessage,
  type VitalSample,
  type WaveformChunk,
} from '../message/reading.ts';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** RFC 3339 instants between 2000 and 2100 with any offset in ±14:00 and 0..9 fraction digits. */
export const instantArb: fc.Arbitrary<string> = fc
  .record({
    ms: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
    offsetMin: fc.oneof(fc.constant(0), fc.integer({ min: -14 * 60, max: 14 * 60 })),
    zulu: fc.boolean(),
    fraction: fc.oneof(fc.constant(''), fc.stringMatching(/^\.\d{1,9}$/)),
  })
  .map(({ ms, offsetMin, zulu, fraction }) => {
    const off = zulu ? 0 : offsetMin;
    const d = new Date(ms + off * 60_000);
    const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    const sign = off < 0 ? '-' : '+';
    const zone = zulu ? 'Z' : `${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
    return `${date}T${time}${fraction}${zone}`;
  });

function valueArb(code: VitalCode): fc.Arbitrary<VitalSample['value']> {
  const def = VITALS[code];
  if (def.valueKind === 'boolean') return fc.boolean();
  if (def.valueKind === 'code') return fc.constantFrom(...(def.allowedCodes ?? []));
  const min = def.min ?? -1e6;
  const max = def.max ?? 1e6;
  return fc.oneof(
    fc.integer({ min: Math.ceil(min), max: Math.floor(max) }),
    fc.double({ min, max, noNaN: true }),
  );
}

export function vitalArb(code: VitalCode, at?: string): fc.Arbitrary<VitalSample> {
  const def = VITALS[code];
  return fc
    .record({ value: valueArb(code), withUnit: fc.boolean(), at: fc.option(instantArb, { nil: undefined }) })
    .map(({ value, withUnit, at: ownAt }) => {
      const when = at ?? ownAt;
      return {
        code,
        value,
        ...(withUnit && def.unit ? { unit: def.unit } : {}),
        ...(when === undefined ? {} : { at: when }),
      };
    });
}

/** Systolic + diastolic (+ mean, sometimes) at one instant, in any order: what a BP cuff sends. */
const bpGroupArb: fc.Arbitrary<VitalSample[]> = fc
  .record({ at: fc.option(instantArb, { nil: undefined }), withMean: fc.boolean() })
  .chain(({ at, withMean }) => {
    const codes: VitalCode[] = withMean
      ? ['bp-systolic', 'bp-diastolic', 'bp-mean']
      : ['bp-systolic', 'bp-diastolic'];
    return fc.tuple(...codes.map((c) => vitalArb(c, at)));
  })
  .chain((group) => fc.shuffledSubarray(group, { minLength: group.length, maxLength: group.length }));

export const vitalsArb: fc.Arbitrary<VitalSample[]> = fc
  .array(
    fc.oneof(
      fc.constantFrom(...VITAL_CODES).chain((c) => vitalArb(c).map((v) => [v])),
      bpGroupArb,
    ),
    {
      maxLength: 8,
    },
  )
  .map((groups) => groups.flat());

export const waveformArb: fc.Arbitrary<WaveformChunk> = fc.record({
  code: fc.constantFrom(...WAVEFORM_CODES),
  rate: fc.oneof(
    fc.constantFrom(125, 250, 256, 360, 500),
    fc.double({ min: 0.01, max: 10_000, noNaN: true }),
  ),
  start: instantArb,
  factor: fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((f) => f !== 0),
  origin: fc.oneof(fc.constant(0), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
  data: fc.array(
    fc.oneof(
      fc.integer({ min: -32768, max: 32767 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constant(null),
    ),
    {
      minLength: 1,
      maxLength: 40,
    },
  ),
});

export const deviceIdArb: fc.Arbitrary<string> = fc.stringMatching(DEVICE_ID_PATTERN);

export const readingArb: fc.Arbitrary<ReadingMessage> = fc
  .record({
    device: deviceIdArb,
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    ts: instantArb,
    vitals: vitalsArb,
    waveforms: fc.array(waveformArb, { maxLength: 3 }),
    battery: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
  })
  .filter((m) => m.vitals.length + m.waveforms.length > 0 || m.battery !== undefined)
  .map(({ battery, ...m }) => ({
    v: 1 as const,
    ...m,
    ...(battery === undefined ? {} : { status: { battery } }),
  }));
