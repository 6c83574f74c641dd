import { describe, expect, it } from 'vitest';
import { burst, burstLength, repeatSeconds } from './alarm-tones.ts';

describe('alarm tones (IEC 60601-1-8 table 3)', () => {
  it('plays high priority as 10 pulses grouped 3+2, 3+2', () => {
    const pulses = burst('high');
    expect(pulses).toHaveLength(10);
    const gaps = pulses
      .slice(1)
      .map((p, i) => Math.round((p.at - (pulses[i]!.at + pulses[i]!.duration)) * 1000));
    // spacing ts = 100 ms; after the 3rd pulse 2·ts + td = 350 ms; between the halves 500 ms.
    expect(gaps).toEqual([100, 100, 350, 100, 500, 100, 100, 350, 100]);
    for (const p of pulses) {
      expect(p.duration).toBeGreaterThanOrEqual(0.075);
      expect(p.duration).toBeLessThanOrEqual(0.2);
      expect(p.frequency).toBeGreaterThanOrEqual(150);
      expect(p.frequency).toBeLessThanOrEqual(1000);
    }
    expect(burstLength(pulses)).toBeCloseTo(3.3, 6);
  });

  it('plays medium as 3 pulses, low not at all', () => {
    expect(burst('medium').map((p) => p.at)).toEqual([0, 0.4, 0.8]);
    expect(burst('low')).toEqual([]);
    expect(burstLength([])).toBe(0);
  });

  it('repeats high every 10 s and medium every 25 s (within 2.5-15 s and 2.5-30 s)', () => {
    expect(repeatSeconds('high')).toBe(10);
    expect(repeatSeconds('medium')).toBe(25);
    expect(repeatSeconds('low')).toBeUndefined();
  });
});
