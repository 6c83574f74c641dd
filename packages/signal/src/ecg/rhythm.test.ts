import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../testdata.ts';
import { readRecord } from '../wfdb/loader.ts';
import { toPhysical } from '../wfdb/signal.ts';
import { isAfLike } from './af.ts';
import { P_WAVES_PRESENT } from './atrial.ts';
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
    expect(a.basis).toBe('irregular-rr');
    expect(a.pWaves!.correlation).toBeLessThan(P_WAVES_PRESENT);
  });

  it('does not call AF on irregular RR when repeating P waves are present', async () => {
    // A00066 ("other rhythm"): RR irregularity alone says AF, but an (inverted) P wave precedes every QRS.
    const a = await analyse('A00066');
    expect(isAfLike(a.irregularity!)).toBe(true);
    expect(a.pWaves!.correlation).toBeGreaterThan(0.6);
    expect(a.call).toBe('not-af');
    expect(a.basis).toBe('irregular-rr-with-p-waves');
  });

  it('calls AF on variable but patterned RR with no P waves before a narrow QRS', async () => {
    // A00071 (AF): mostly ~0.6 s with irregular longer intervals; COSEn below its threshold, no P waves.
    const a = await analyse('A00071');
    expect(isAfLike(a.irregularity!)).toBe(false);
    expect(a.irregularity!.nrmssd).toBeGreaterThan(0.1);
    expect(a.pWaves!.correlation).toBeLessThan(0.3);
    expect(a.pWaves!.qrsDuration).toBeLessThan(0.12);
    expect(a.validShare).toBeGreaterThanOrEqual(0.9);
    expect(a.call).toBe('af');
    expect(a.basis).toBe('variable-rr-without-p-waves');
  });

  it('keeps sinus rhythm with frequent ventricular ectopy out of AF (mitdb 208, MLII)', async () => {
    const rec = await readRecord(join(FIXTURES, 'mitdb-excerpt', '208e'));
    const a = analyseRhythm(toPhysical(rec.signals[0]!), rec.signals[0]!.samplingFrequency);
    expect(a.call).toBe('not-af');
    expect(a.pWaves!.correlation).toBeGreaterThanOrEqual(P_WAVES_PRESENT);
  });

  it('calls a normal recording not AF and reports its heart rate and HRV', async () => {
    const a = await analyse('A00001');
    expect(a.call).toBe('not-af');
    expect(a.hrv!.meanHeartRate).toBeGreaterThan(70);
    expect(a.hrv!.meanHeartRate).toBeLessThan(90);
    expect(a.hrv!.sdnn).toBeGreaterThan(0);
    expect(a.pWaves!.correlation).toBeGreaterThanOrEqual(P_WAVES_PRESENT);
    expect(a.basis).toBe('rr-not-af-like');
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
