import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../testdata.ts';
import { readRecord } from '../wfdb/loader.ts';
import { toPhysical } from '../wfdb/signal.ts';
import { analyseRhythm } from './rhythm.ts';

async function analyse(name: string) {
  const rec = await readRecord(join(FIXTURES, 'challenge-2017', name));
  return analyseRhythm(toPhysical(rec.signals[0]!), rec.signals[0]!.samplingFrequency);
}

describe('rhythm analysis of single-lead handheld ECGs (PhysioNet/CinC 2017 excerpts)', () => {
  it('calls AF on an AF recording', async () => {
    const a = await analyse('A00004');
    expect(a.call).toBe('af');
    expect(a.irregularity!.cosen).toBeGreaterThan(-1.4);
    expect(a.templateCorrelation).toBeGreaterThan(0.9);
  });

  it('calls a normal recording not AF and reports its heart rate and HRV', async () => {
    const a = await analyse('A00001');
    expect(a.call).toBe('not-af');
    expect(a.hrv!.meanHeartRate).toBeGreaterThan(70);
    expect(a.hrv!.meanHeartRate).toBeLessThan(90);
    expect(a.hrv!.sdnn).toBeGreaterThan(0);
  });

  it('makes no call on a noisy recording', async () => {
    const a = await analyse('A04282');
    expect(a.call).toBe('unclassifiable');
    expect(a.hrv).toBeUndefined();
    expect(a.reason).toMatch(/template|clean/);
  });

  it('makes no call on a flat line', () => {
    const a = analyseRhythm(new Float64Array(9000), 300);
    expect(a.call).toBe('unclassifiable');
    expect(a.quality.segments.every((s) => s.issue === 'flat')).toBe(true);
  });
});
