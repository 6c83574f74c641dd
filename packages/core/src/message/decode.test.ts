import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readingArb } from '../fhir/reading-arbitrary.ts';
import { decodeReading } from './decode.ts';
import { MESSAGE_LIMITS } from './reading.ts';
import { REJECTION_CODES } from './rejection.ts';
import { parseInstant } from './time.ts';

const base = {
  v: 1,
  device: 'dev-1',
  seq: 1,
  ts: '2025-03-01T10:00:00+01:00',
  vitals: [{ code: 'heart-rate', value: 70 }],
};
const decode = (m: unknown, limits = {}) => decodeReading(JSON.stringify(m), limits);
function rejection(m: unknown, limits = {}) {
  const r = decode(m, limits);
  if (r.ok) throw new Error('expected a rejection');
  return r.rejection;
}
const wave = { code: 'ecg-ii', rate: 250, start: '2025-03-01T09:00:00Z', data: [1, 2, 3] };

describe('decodeReading accepts', () => {
  it('a minimal message, defaulting waveform factor and origin', () => {
    const r = decode({ ...base, waveforms: [wave] });
    expect(r.ok && r.value).toEqual({
      v: 1,
      device: 'dev-1',
      seq: 1,
      ts: base.ts,
      vitals: [{ code: 'heart-rate', value: 70 }],
      waveforms: [{ ...wave, factor: 1, origin: 0 }],
    });
  });

  it('the catalogue unit, sample times with offsets and status alone', () => {
    const v = {
      code: 'body-temperature',
      value: 37.2,
      unit: 'Cel',
      at: '2025-03-01T23:30:00.123456789-09:30',
    };
    expect(decode({ ...base, vitals: [v] }).ok).toBe(true);
    expect(
      decode({ v: 1, device: 'd', seq: 2, ts: '2025-03-01T10:00:00Z', status: { battery: 50 } }).ok,
    ).toBe(true);
  });
});

describe('decodeReading rejects, naming the field', () => {
  const cases: [string, unknown, string, string][] = [
    ['not JSON', undefined, 'schema-violation', ''],
    ['wrong version', { ...base, v: 2 }, 'schema-violation', '/v'],
    ['bad device id', { ...base, device: 'a/b' }, 'schema-violation', '/device'],
    ['seq 0', { ...base, seq: 0 }, 'schema-violation', '/seq'],
    ['seq 1.5', { ...base, seq: 1.5 }, 'schema-violation', '/seq'],
    ['ts without offset', { ...base, ts: '2025-03-01T10:00:00' }, 'schema-violation', '/ts'],
    ['ts offset beyond 14:00', { ...base, ts: '2025-03-01T10:00:00+15:00' }, 'schema-violation', '/ts'],
    ['ts on 31 February', { ...base, ts: '2025-02-31T10:00:00Z' }, 'schema-violation', '/ts'],
    ['ts in year 0', { ...base, ts: '0000-01-01T00:00:00Z' }, 'schema-violation', '/ts'],
    ['unknown top field', { ...base, extra: 1 }, 'schema-violation', '/extra'],
    ['empty message', { ...base, vitals: [] }, 'schema-violation', ''],
    ['vitals not array', { ...base, vitals: {} }, 'schema-violation', '/vitals'],
    [
      'unknown vital',
      { ...base, vitals: [base.vitals[0], { code: 'glucose', value: 5 }] },
      'schema-violation',
      '/vitals/1/code',
    ],
    [
      'implausible value',
      { ...base, vitals: [{ code: 'spo2', value: 101 }] },
      'implausible-value',
      '/vitals/0/value',
    ],
    [
      'string number',
      { ...base, vitals: [{ code: 'spo2', value: '97' }] },
      'schema-violation',
      '/vitals/0/value',
    ],
    [
      'wrong unit',
      { ...base, vitals: [{ code: 'body-temperature', value: 37, unit: '[degF]' }] },
      'schema-violation',
      '/vitals/0/unit',
    ],
    [
      'unit on a code vital',
      { ...base, vitals: [{ code: 'consciousness', value: 'A', unit: '1' }] },
      'schema-violation',
      '/vitals/0/unit',
    ],
    [
      'bad ACVPU',
      { ...base, vitals: [{ code: 'consciousness', value: 'X' }] },
      'schema-violation',
      '/vitals/0/value',
    ],
    [
      'boolean as 1',
      { ...base, vitals: [{ code: 'fall', value: 1 }] },
      'schema-violation',
      '/vitals/0/value',
    ],
    [
      'bad at',
      { ...base, vitals: [{ code: 'fall', value: true, at: 'now' }] },
      'schema-violation',
      '/vitals/0/at',
    ],
    [
      'unknown vital field',
      { ...base, vitals: [{ code: 'fall', value: true, note: 'x' }] },
      'schema-violation',
      '/vitals/0/note',
    ],
    ['rate 0', { ...base, waveforms: [{ ...wave, rate: 0 }] }, 'schema-violation', '/waveforms/0/rate'],
    [
      'rate too high',
      { ...base, waveforms: [{ ...wave, rate: 10_001 }] },
      'schema-violation',
      '/waveforms/0/rate',
    ],
    ['factor 0', { ...base, waveforms: [{ ...wave, factor: 0 }] }, 'schema-violation', '/waveforms/0/factor'],
    ['empty data', { ...base, waveforms: [{ ...wave, data: [] }] }, 'schema-violation', '/waveforms/0/data'],
    [
      'bad sample',
      { ...base, waveforms: [wave, { ...wave, data: [1, 'x'] }] },
      'schema-violation',
      '/waveforms/1/data/1',
    ],
    ['wave unit', { ...base, waveforms: [{ ...wave, unit: 'uV' }] }, 'schema-violation', '/waveforms/0/unit'],
    ['battery 101', { ...base, status: { battery: 101 } }, 'schema-violation', '/status/battery'],
    [
      'firmware too long',
      { ...base, status: { firmware: 'x'.repeat(65) } },
      'schema-violation',
      '/status/firmware',
    ],
    ['status field', { ...base, status: { mood: 'ok' } }, 'schema-violation', '/status/mood'],
    ['__proto__ key', JSON.parse('{"__proto__":{"v":1}}'), 'schema-violation', '/__proto__'],
  ];
  it.each(cases)('%s', (_name, message, code, field) => {
    const r = message === undefined ? decodeReading('{"v":') : decodeReading(JSON.stringify(message));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.rejection.code).toBe(code);
    expect(r.rejection.field).toBe(field);
    expect(r.rejection.detail).toContain(field || '/');
  });
});

describe('decodeReading limits', () => {
  it('refuses more vitals, waveforms or samples than allowed, as oversize', () => {
    const many = Array.from({ length: MESSAGE_LIMITS.maxVitals + 1 }, () => base.vitals[0]);
    expect(rejection({ ...base, vitals: many })).toMatchObject({ code: 'oversize', field: '/vitals' });
    expect(rejection({ ...base, waveforms: [wave, wave] }, { maxWaveforms: 1 })).toMatchObject({
      code: 'oversize',
      field: '/waveforms',
    });
    expect(rejection({ ...base, waveforms: [wave] }, { maxSamplesPerChunk: 2 })).toMatchObject({
      code: 'oversize',
      field: '/waveforms/0/data',
    });
    expect(rejection({ ...base, waveforms: [wave] }, { maxRateHz: 100 }).field).toBe('/waveforms/0/rate');
  });

  it('refuses a payload over maxBytes before parsing it', () => {
    const r = decodeReading(`"${'x'.repeat(300)}"`, { maxBytes: 100 });
    expect(!r.ok && r.rejection).toMatchObject({ code: 'oversize', field: '' });
    expect(decodeReading('é'.repeat(60), { maxBytes: 100 }).ok).toBe(false); // bytes, not characters
  });
});

describe('parseInstant', () => {
  it('honours offsets and leap years', () => {
    expect(parseInstant('2025-03-01T10:00:00+01:00')).toBe(Date.UTC(2025, 2, 1, 9));
    expect(parseInstant('2025-03-01T10:00:00-14:00')).toBe(Date.UTC(2025, 2, 2, 0));
    expect(parseInstant('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(parseInstant('2100-02-29T00:00:00Z')).toBeUndefined();
    expect(parseInstant('2025-04-31T00:00:00Z')).toBeUndefined();
    expect(parseInstant('2025-03-01T10:00:60Z')).toBeUndefined();
    expect(parseInstant('2025-03-01 10:00:00Z')).toBeUndefined();
  });
});

describe('decodeReading fuzzing (fast-check)', () => {
  const expectWellFormed = (r: ReturnType<typeof decodeReading>) => {
    if (r.ok) return;
    expect(Object.keys(REJECTION_CODES)).toContain(r.rejection.code);
    expect(r.rejection.detail.length).toBeGreaterThan(0);
  };

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => expectWellFormed(decodeReading(s))),
      {
        numRuns: 2000,
      },
    );
  });

  it('never throws on arbitrary JSON values, and names a field that exists', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        const r = decodeReading(JSON.stringify(v) ?? 'null');
        expectWellFormed(r);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on valid messages with one field replaced by anything, and points at it', () => {
    fc.assert(
      fc.property(readingArb, fc.jsonValue({ maxDepth: 2 }), fc.nat(), (m, junk, pick) => {
        const keys = Object.keys(m);
        const key = keys[pick % keys.length] as string;
        const r = decodeReading(JSON.stringify({ ...m, [key]: junk }));
        expectWellFormed(r);
        if (!r.ok && r.rejection.field) expect(r.rejection.field.split('/')[1]).toBe(key);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes every valid message to itself', () => {
    fc.assert(
      fc.property(readingArb, (m) => {
        const r = decodeReading(JSON.stringify(m));
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const norm = (x: unknown) => JSON.parse(JSON.stringify(x));
        const expected = norm({ ...m, waveforms: m.waveforms.map((w) => ({ ...w })) });
        expect(norm(r.value)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('does not hang on deep nesting or long input', () => {
    const t = Date.now();
    expectWellFormed(decodeReading('['.repeat(100_000)));
    expectWellFormed(decodeReading(`{"v":1,"vitals":${'['.repeat(5000)}${']'.repeat(5000)}}`));
    expectWellFormed(decodeReading(JSON.stringify({ ...base, device: 'x'.repeat(200_000) })));
    expect(Date.now() - t).toBeLessThan(2000);
  });
});
