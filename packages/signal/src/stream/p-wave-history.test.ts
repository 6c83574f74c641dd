import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pWaveConsistency } from '../ecg/atrial.ts';
import { detectQrs } from '../ecg/qrs.ts';
import { FIXTURES } from '../testdata.ts';
import { readRecord } from '../wfdb/loader.ts';
import { toPhysical } from '../wfdb/signal.ts';
import { PWaveHistory } from './p-wave-history.ts';

async function recording(name: string) {
  const rec = await readRecord(join(FIXTURES, 'challenge-2017', name));
  const x = toPhysical(rec.signals[0]!);
  return { x, fs: 300, beats: detectQrs(x, 300) };
}

describe('PWaveHistory', () => {
  it('gives the P-wave consistency of a whole recording, beat by beat, as the offline measure does', async () => {
    for (const name of ['A00066', 'A00004']) {
      const { x, fs, beats } = await recording(name);
      const history = new PWaveHistory(fs, 400, 120);
      for (let b = 0; b < beats.length; b++) history.add(beats[b]!, x, 0, true, true, beats[b - 1]);
      const live = history.consistency(0, x.length);
      const offline = pWaveConsistency(x, beats, fs);
      expect(live.beats).toBe(offline.beats);
      expect(live.beats).toBeGreaterThan(10);
      expect(live.correlation).toBeCloseTo(offline.correlation, 9);
      expect(live.onsetToFiducial).toBe(offline.onsetToFiducial);
      expect(live.qrsDuration).toBe(offline.qrsDuration);
    }
  });

  it('leaves out a beat whose own or previous beat is untrustworthy, and one after a break', async () => {
    const { x, fs, beats } = await recording('A00066');
    const all = new PWaveHistory(fs, 400, 120);
    const some = new PWaveHistory(fs, 400, 120);
    for (let b = 0; b < beats.length; b++) {
      all.add(beats[b]!, x, 0, true, true, beats[b - 1]);
      // Beat 5 untrustworthy (so are beats 5 and 6 as windows), beat 12 after a break.
      some.add(beats[b]!, x, 0, b !== 5, b !== 12, b === 12 ? undefined : beats[b - 1]);
    }
    expect(some.consistency(0, x.length).beats).toBe(all.consistency(0, x.length).beats - 3);
  });

  it('keeps every beat of the last keepS seconds and never more than maxBeats', () => {
    const fs = 250;
    const x = new Float64Array(1000).fill(0);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: Math.round(0.2 * fs), max: 3 * fs }), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 5, max: 60 }),
        (gaps, keepS) => {
          const maxBeats = 5 * keepS + 16;
          const history = new PWaveHistory(fs, maxBeats, keepS);
          const samples: number[] = [];
          let t = 0;
          for (const gap of gaps) {
            t += gap;
            samples.push(t);
            // The snippet itself is not at issue here: a short all-zero segment placed at the beat.
            history.add(t, x, t - 500, true, true, samples.at(-2));
            const recent = samples.filter((s) => s >= t - keepS * fs).length;
            expect(history.size).toBeLessThanOrEqual(maxBeats);
            expect(history.size).toBeGreaterThanOrEqual(recent);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
