import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../http/problem.ts';
import {
  defaultBucket,
  MAX_LIVE_PATIENTS,
  MAX_POINTS,
  MAX_TREND_RANGE_MS,
  parseLiveQuery,
  parseTrendQuery,
  TARGET_POINTS,
  TREND_CODES,
} from './query.ts';

const NOW = Date.parse('2026-11-28T12:00:00.000Z');
const HOUR = 3_600_000;

/** The field a refusal names, or 'ok'; anything else thrown fails the property. */
function outcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof HttpProblem && e.problem.status === 400 && e.problem.field) return e.problem.field;
    throw e;
  }
}

const anyValue = fc.oneof(
  fc.string(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.constantFrom('', ',', 'heart-rate', '2026-11-28T10:00:00Z', '300', '-1', '1e3', 'news2,spo2'),
);
const rawQuery = fc.dictionary(
  fc.constantFrom('codes', 'from', 'to', 'bucket', 'patients', 'waveforms', 'other'),
  anyValue,
);

describe('trend query', () => {
  it('defaults to the last 24 h in 5-minute buckets', () => {
    expect(parseTrendQuery({}, NOW)).toEqual({ from: NOW - 24 * HOUR, to: NOW, bucketSeconds: 300 });
    expect(defaultBucket(7 * 24 * HOUR)).toBe(1800);
    expect(defaultBucket(HOUR)).toBe(60);
    expect(defaultBucket(MAX_TREND_RANGE_MS)).toBe(7200);
  });

  it('reads codes, window and bucket', () => {
    const q = parseTrendQuery(
      {
        codes: 'heart-rate,spo2,news2,spo2',
        from: '2026-11-28T10:00:00Z',
        to: '2026-11-28T12:00:00.000+01:00',
        bucket: '120',
      },
      NOW,
    );
    expect(q).toEqual({
      codes: ['heart-rate', 'spo2', 'news2'],
      from: Date.parse('2026-11-28T10:00:00Z'),
      to: Date.parse('2026-11-28T11:00:00Z'),
      bucketSeconds: 120,
    });
  });

  it('refuses bad parameters naming the parameter', () => {
    const field = (raw: Record<string, unknown>) => outcome(() => parseTrendQuery(raw, NOW));
    expect(field({ codes: 'heart-rate,ecg-ii' })).toBe('/codes');
    expect(field({ codes: '' })).toBe('/codes');
    expect(field({ codes: ['spo2', 'news2'] })).toBe('/codes');
    expect(field({ from: 'yesterday' })).toBe('/from');
    expect(field({ to: '2026-11-28' })).toBe('/to');
    expect(field({ from: '2026-11-28T13:00:00Z' })).toBe('/from');
    expect(field({ from: '2026-10-01T00:00:00Z' })).toBe('/from');
    expect(field({ bucket: '90' })).toBe('/bucket');
    expect(field({ bucket: '0' })).toBe('/bucket');
    expect(field({ bucket: '5m' })).toBe('/bucket');
    expect(field({ bucket: '172800' })).toBe('/bucket');
    expect(field({ from: '2026-11-21T12:00:00Z', bucket: '60' })).toBe('/bucket');
    // An unencoded '+' offset arrives as a space: it is understood.
    expect(field({ from: '2026-11-28T10:00:00 01:00' })).toBe('ok');
  });

  it('never throws anything but a 400 naming a parameter, and what it accepts is sound', () => {
    fc.assert(
      fc.property(rawQuery, (raw) => {
        const result = outcome(() => parseTrendQuery(raw, NOW));
        expect(['ok', '/codes', '/from', '/to', '/bucket']).toContain(result);
        if (result !== 'ok') return;
        const q = parseTrendQuery(raw, NOW);
        expect(q.from).toBeLessThan(q.to);
        expect(q.to - q.from).toBeLessThanOrEqual(MAX_TREND_RANGE_MS);
        expect(q.bucketSeconds % 60).toBe(0);
        expect(Math.ceil((q.to - q.from) / 1000 / q.bucketSeconds)).toBeLessThanOrEqual(MAX_POINTS);
        for (const c of q.codes ?? []) expect(TREND_CODES).toContain(c);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the default series at or under ~400 points for any window up to 31 days', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_TREND_RANGE_MS }), (range) => {
        const b = defaultBucket(range);
        expect(range / 1000 / b).toBeLessThanOrEqual(TARGET_POINTS);
      }),
    );
  });

  it('accepts any well-formed window of valid codes', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...TREND_CODES), { minLength: 1 }),
        fc.integer({ min: 0, max: 30 * 24 * HOUR }),
        fc.integer({ min: 1, max: HOUR }),
        (codes, back, span) => {
          const to = NOW - back;
          const q = parseTrendQuery(
            {
              codes: codes.join(','),
              from: new Date(to - span).toISOString(),
              to: new Date(to).toISOString(),
            },
            NOW,
          );
          expect(q.codes).toEqual(codes);
          expect(q.to - q.from).toBe(span);
        },
      ),
    );
  });
});

describe('live query', () => {
  it('reads patients and waveform patients', () => {
    expect(parseLiveQuery({ patients: 'a,b,a', waveforms: 'b' })).toEqual({
      patients: ['a', 'b'],
      waveforms: ['b'],
    });
    expect(parseLiveQuery({ patients: 'p-1' })).toEqual({ patients: ['p-1'], waveforms: [] });
  });

  it('refuses bad parameters naming the parameter', () => {
    const field = (raw: Record<string, unknown>) => outcome(() => parseLiveQuery(raw));
    expect(field({})).toBe('/patients');
    expect(field({ patients: '' })).toBe('/patients');
    expect(field({ patients: 'a,,b' })).toBe('/patients');
    expect(field({ patients: 'a b' })).toBe('/patients');
    expect(field({ patients: ['a', 'b'] })).toBe('/patients');
    const many = Array.from({ length: MAX_LIVE_PATIENTS + 1 }, (_, i) => `p${i}`).join(',');
    expect(field({ patients: many })).toBe('/patients');
    expect(field({ patients: 'a,b', waveforms: 'c' })).toBe('/waveforms');
    expect(field({ patients: 'a,b,c,d,e', waveforms: 'a,b,c,d,e' })).toBe('/waveforms');
  });

  it('never throws anything but a 400 naming a parameter, and what it accepts is sound', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,8}$/);
    const list = fc
      .array(fc.oneof(id, fc.string({ maxLength: 4 })), { maxLength: 8 })
      .map((a) => a.join(','));
    fc.assert(
      fc.property(
        fc.record(
          { patients: fc.oneof(list, anyValue), waveforms: fc.oneof(list, anyValue) },
          {
            requiredKeys: [],
          },
        ),
        (raw) => {
          const result = outcome(() => parseLiveQuery(raw));
          expect(['ok', '/patients', '/waveforms']).toContain(result);
          if (result !== 'ok') return;
          const q = parseLiveQuery(raw);
          expect(q.patients.length).toBeGreaterThan(0);
          expect(q.waveforms.length).toBeLessThanOrEqual(4);
          for (const w of q.waveforms) expect(q.patients).toContain(w);
          expect(new Set(q.patients).size).toBe(q.patients.length);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
