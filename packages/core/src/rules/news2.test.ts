import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeNews2, NEWS2_PARAMETERS, type News2Reading, news2Band } from './news2.ts';
import {
  type News2Points,
  scoreConsciousness,
  scorePulse,
  scoreRespirationRate,
  scoreSpo2Scale1,
  scoreSpo2Scale2,
  scoreSystolicBp,
  scoreTemperatureTenths,
} from './news2-chart.ts';

/** RCP Chart 1 transcribed as inclusive bands [lo, hi, points]; every edge is tested with both neighbours. */
type Band = readonly [number, number, News2Points];
const INF = Number.POSITIVE_INFINITY;
const CHART: Record<string, { bands: readonly Band[]; score: (n: number) => News2Points; step: number }> = {
  'respiration rate': {
    bands: [
      [-INF, 8, 3],
      [9, 11, 1],
      [12, 20, 0],
      [21, 24, 2],
      [25, INF, 3],
    ],
    score: scoreRespirationRate,
    step: 1,
  },
  'SpO2 scale 1': {
    bands: [
      [-INF, 91, 3],
      [92, 93, 2],
      [94, 95, 1],
      [96, INF, 0],
    ],
    score: scoreSpo2Scale1,
    step: 1,
  },
  'SpO2 scale 2 on oxygen': {
    bands: [
      [-INF, 83, 3],
      [84, 85, 2],
      [86, 87, 1],
      [88, 92, 0],
      [93, 94, 1],
      [95, 96, 2],
      [97, INF, 3],
    ],
    score: (n) => scoreSpo2Scale2(n, true),
    step: 1,
  },
  'SpO2 scale 2 on air': {
    bands: [
      [-INF, 83, 3],
      [84, 85, 2],
      [86, 87, 1],
      [88, INF, 0],
    ],
    score: (n) => scoreSpo2Scale2(n, false),
    step: 1,
  },
  'systolic BP': {
    bands: [
      [-INF, 90, 3],
      [91, 100, 2],
      [101, 110, 1],
      [111, 219, 0],
      [220, INF, 3],
    ],
    score: scoreSystolicBp,
    step: 1,
  },
  pulse: {
    bands: [
      [-INF, 40, 3],
      [41, 50, 1],
      [51, 90, 0],
      [91, 110, 1],
      [111, 130, 2],
      [131, INF, 3],
    ],
    score: scorePulse,
    step: 1,
  },
  'temperature (tenths)': {
    bands: [
      [-INF, 350, 3],
      [351, 360, 1],
      [361, 380, 0],
      [381, 390, 1],
      [391, INF, 2],
    ],
    score: scoreTemperatureTenths,
    step: 1,
  },
};

const expected = (bands: readonly Band[], v: number): News2Points =>
  bands.find(([lo, hi]) => v >= lo && v <= hi)![2];

function edgeCases(bands: readonly Band[], step: number): [number, News2Points][] {
  const values = new Set<number>();
  for (const [lo, hi] of bands) {
    for (const e of [lo, hi]) if (Number.isFinite(e)) for (const v of [e - step, e, e + step]) values.add(v);
  }
  return [...values].sort((a, b) => a - b).map((v) => [v, expected(bands, v)]);
}

describe('NEWS2 Chart 1, every band edge and both neighbours', () => {
  for (const [name, { bands, score, step }] of Object.entries(CHART)) {
    it.each(edgeCases(bands, step))(`${name} %d scores %d`, (v, points) => {
      expect(score(v)).toBe(points);
    });
  }
  it('ACVPU: alert scores 0, any of C, V, P, U scores 3', () => {
    expect(scoreConsciousness('A')).toBe(0);
    for (const l of ['C', 'V', 'P', 'U'] as const) expect(scoreConsciousness(l)).toBe(3);
  });
});

const NOW = 1_700_000_000_000;
type Row = { rr: number; spo2: number; o2: boolean; sbp: number; hr: number; acvpu: string; t: number };
const readingsOf = (r: Row, at = NOW - 1000): News2Reading[] => [
  { code: 'respiratory-rate', value: r.rr, at },
  { code: 'spo2', value: r.spo2, at },
  { code: 'supplemental-oxygen', value: r.o2, at },
  { code: 'bp-systolic', value: r.sbp, at },
  { code: 'heart-rate', value: r.hr, at },
  { code: 'consciousness', value: r.acvpu, at },
  { code: 'body-temperature', value: r.t, at },
];
const normal: Row = { rr: 16, spo2: 97, o2: false, sbp: 120, hr: 70, acvpu: 'A', t: 37.0 };

describe('computeNews2, worked vectors of reference/news2.md', () => {
  it.each([
    [{ ...normal }, false, 0, 'low'],
    [{ rr: 22, spo2: 95, o2: false, sbp: 105, hr: 95, acvpu: 'A', t: 38.3 }, false, 6, 'medium'],
    [{ ...normal, rr: 8, spo2: 96 }, false, 3, 'low-medium'],
    [{ rr: 26, spo2: 90, o2: true, sbp: 88, hr: 135, acvpu: 'V', t: 39.5 }, false, 19, 'high'],
    [{ rr: 18, spo2: 93, o2: true, sbp: 115, hr: 88, acvpu: 'A', t: 36.5 }, true, 3, 'low'],
    [{ rr: 18, spo2: 93, o2: false, sbp: 115, hr: 88, acvpu: 'A', t: 36.5 }, true, 0, 'low'],
  ] as const)('%o scale2=%s scores %d (%s)', (row, scale2, total, band) => {
    const s = computeNews2({ now: NOW, readings: readingsOf(row), spo2Scale2Prescribed: scale2 });
    expect(s.complete).toBe(true);
    expect(s.issues).toEqual([]);
    expect(s.total).toBe(total);
    expect(s.band).toBe(band);
    expect(s.scale).toBe(scale2 ? 2 : 1);
  });

  it('reports per-parameter scores and the single-3 flag', () => {
    const s = computeNews2({ now: NOW, readings: readingsOf({ ...normal, rr: 8, spo2: 96 }) });
    expect(s.scores).toEqual({
      'respiration-rate': 3,
      spo2: 0,
      'air-or-oxygen': 0,
      'systolic-bp': 0,
      pulse: 0,
      consciousness: 0,
      temperature: 0,
    });
    expect(s.anySingleThree).toBe(true);
    expect(s.priority).toBe('low');
  });
});

describe('SpO2 scale 2 only when prescribed', () => {
  it('scores 97 % on oxygen as 0 on scale 1 and 3 on scale 2', () => {
    const row = { ...normal, spo2: 97, o2: true };
    expect(computeNews2({ now: NOW, readings: readingsOf(row) }).scores.spo2).toBe(0);
    expect(
      computeNews2({ now: NOW, readings: readingsOf(row), spo2Scale2Prescribed: true }).scores.spo2,
    ).toBe(3);
  });
  it('scores 88 % as 3 on scale 1 and 0 on scale 2', () => {
    const row = { ...normal, spo2: 88 };
    expect(computeNews2({ now: NOW, readings: readingsOf(row) }).scores.spo2).toBe(3);
    expect(
      computeNews2({ now: NOW, readings: readingsOf(row), spo2Scale2Prescribed: true }).scores.spo2,
    ).toBe(0);
  });
  it('refuses to score scale 2 without a fresh air-or-oxygen reading', () => {
    const readings = readingsOf(normal).filter((r) => r.code !== 'supplemental-oxygen');
    const s = computeNews2({ now: NOW, readings, spo2Scale2Prescribed: true });
    expect(s.scores.spo2).toBeUndefined();
    expect(s.issues.map((i) => i.parameter)).toEqual(['spo2', 'air-or-oxygen']);
  });
});

describe('incomplete scores', () => {
  it('names each missing parameter and never scores it 0', () => {
    // The MIMIC numerics case: HR, RR, SpO2 and SBP only.
    const readings = readingsOf(normal).filter((r) =>
      ['heart-rate', 'respiratory-rate', 'spo2', 'bp-systolic'].includes(r.code),
    );
    const s = computeNews2({ now: NOW, readings });
    expect(s.complete).toBe(false);
    expect(s.issues).toEqual([
      { parameter: 'air-or-oxygen', problem: 'missing', detail: 'no air-or-oxygen reading' },
      { parameter: 'consciousness', problem: 'missing', detail: 'no consciousness reading' },
      { parameter: 'temperature', problem: 'missing', detail: 'no temperature reading' },
    ]);
    expect(s.scores.temperature).toBeUndefined();
    expect(Object.keys(s.scores)).toHaveLength(4);
  });
  it('marks a reading older than its freshness window stale, and keeps a fresh one', () => {
    const readings = readingsOf(normal).map((r) => (r.code === 'spo2' ? { ...r, at: NOW - 11 * 60_000 } : r));
    const s = computeNews2({ now: NOW, readings });
    expect(s.issues).toHaveLength(1);
    expect(s.issues[0]).toMatchObject({ parameter: 'spo2', problem: 'stale' });
    const wider = computeNews2({ now: NOW, readings, freshnessMs: { spo2: 20 * 60_000 } });
    expect(wider.complete).toBe(true);
  });
  it('keeps a partial high score high: missing parameters only add points', () => {
    const readings = readingsOf({ ...normal, rr: 26, hr: 135, sbp: 85 }).filter((r) => r.code !== 'spo2');
    const s = computeNews2({ now: NOW, readings });
    expect(s.complete).toBe(false);
    expect(s.total).toBe(9);
    expect(s.band).toBe('high');
    expect(s.priority).toBe('high');
  });
  it('uses the latest of heart-rate and pulse-rate, and systolic from a blood-pressure panel', () => {
    const readings: News2Reading[] = [
      ...readingsOf(normal).filter((r) => r.code !== 'bp-systolic'),
      { code: 'pulse-rate', value: 135, at: NOW - 500 },
      { code: 'blood-pressure', value: { systolic: 95, diastolic: 60 }, at: NOW - 500 },
      { code: 'bp-systolic', value: 150, at: NOW - 60_000 },
    ];
    const s = computeNews2({ now: NOW, readings });
    expect(s.scores.pulse).toBe(3);
    expect(s.scores['systolic-bp']).toBe(2);
    expect(s.measuredAt.pulse).toBe(NOW - 500);
  });
  it('refuses a reading stamped in the future', () => {
    const readings = readingsOf(normal).map((r) =>
      r.code === 'heart-rate' ? { ...r, at: NOW + 60_000 } : r,
    );
    expect(computeNews2({ now: NOW, readings }).issues[0]).toMatchObject({
      parameter: 'pulse',
      problem: 'invalid',
    });
  });
  it('refuses NaN, out-of-range and wrongly typed values with a reason naming the field', () => {
    const bad: Partial<Record<string, unknown>> = {
      'respiratory-rate': Number.NaN,
      spo2: 101,
      'supplemental-oxygen': 'yes',
      'bp-systolic': -5,
      'heart-rate': Number.POSITIVE_INFINITY,
      consciousness: 'X',
      'body-temperature': 50,
    };
    const readings = readingsOf(normal).map((r) => ({ ...r, value: bad[r.code] as number }));
    const s = computeNews2({ now: NOW, readings });
    expect(s.issues.map((i) => [i.parameter, i.problem])).toEqual(
      NEWS2_PARAMETERS.map((p) => [p, 'invalid']),
    );
    expect(s.issues.find((i) => i.parameter === 'spo2')!.detail).toMatch(/spo2 101 % is outside/);
    expect(s.total).toBe(0);
    expect(s.complete).toBe(false);
  });
});

describe('band logic', () => {
  it.each([
    [0, false, 'low'],
    [4, false, 'low'],
    [3, true, 'low-medium'],
    [4, true, 'low-medium'],
    [5, false, 'medium'],
    [6, true, 'medium'],
    [7, false, 'high'],
    [20, true, 'high'],
  ] as const)('total %d, single 3 %s -> %s', (total, three, band) => {
    expect(news2Band(total, three)).toBe(band);
  });
});

describe('properties', () => {
  const monotone = (score: (n: number) => News2Points, normalLo: number, normalHi: number) =>
    fc.property(
      fc.double({ min: -1000, max: 1000, noNaN: true }),
      fc.double({ min: -1000, max: 1000, noNaN: true }),
      (a, b) => {
        const [x, y] = a <= b ? [a, b] : [b, a];
        // Moving away from the 0 band never lowers the score.
        if (y <= normalHi) expect(score(Math.round(x))).toBeGreaterThanOrEqual(score(Math.round(y)));
        if (x >= normalLo) expect(score(Math.round(x))).toBeLessThanOrEqual(score(Math.round(y)));
      },
    );
  it('each parameter is monotone away from its normal band', () => {
    fc.assert(monotone(scoreRespirationRate, 12, 20));
    fc.assert(monotone(scoreSpo2Scale1, 96, 1000));
    fc.assert(monotone((n) => scoreSpo2Scale2(n, true), 88, 92));
    fc.assert(monotone((n) => scoreSpo2Scale2(n, false), 88, 1000));
    fc.assert(monotone(scoreSystolicBp, 111, 219));
    fc.assert(monotone(scorePulse, 51, 90));
    fc.assert(monotone(scoreTemperatureTenths, 361, 380));
  });

  const anyValue = fc.oneof(
    fc.double(),
    fc.integer({ min: -50, max: 400 }),
    fc.boolean(),
    fc.constantFrom('A', 'C', 'V', 'P', 'U', '', 'x'),
    fc.record({ systolic: fc.double() }),
  );
  const anyCode = fc.constantFrom(
    'respiratory-rate',
    'spo2',
    'supplemental-oxygen',
    'bp-systolic',
    'blood-pressure',
    'heart-rate',
    'pulse-rate',
    'consciousness',
    'body-temperature',
    'steps',
  ) as fc.Arbitrary<News2Reading['code']>;
  const anyReading = fc.record({
    code: anyCode,
    value: anyValue,
    at: fc.double({ min: NOW - 1e8, max: NOW + 1e7 }),
  });

  it('never throws; every parameter is either scored or has exactly one issue; the band matches the scores', () => {
    fc.assert(
      fc.property(fc.array(anyReading, { maxLength: 20 }), fc.boolean(), (readings, scale2) => {
        const s = computeNews2({ now: NOW, readings, spo2Scale2Prescribed: scale2 });
        for (const p of NEWS2_PARAMETERS) {
          const issues = s.issues.filter((i) => i.parameter === p).length;
          expect(issues + (s.scores[p] === undefined ? 0 : 1)).toBe(1);
        }
        const sum = Object.values(s.scores).reduce<number>((a, b) => a + (b ?? 0), 0);
        expect(s.total).toBe(sum);
        expect(s.complete).toBe(s.issues.length === 0);
        expect(s.band).toBe(news2Band(s.total, Object.values(s.scores).includes(3)));
      }),
      { numRuns: 300 },
    );
  });
});
