import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectRecordQrs, fusableLeadIndices, qrsCommand } from './cli.ts';
import { FIXTURES } from './testdata.ts';
import { isBeatCode } from './wfdb/codes.ts';
import { readAnnotations, readRecord } from './wfdb/loader.ts';

describe('qrsCommand', () => {
  it('returns sample indices in the record numbering, close to the reference beats', async () => {
    const path = join(FIXTURES, 'wfdb-microdb', '100s');
    const beats = await qrsCommand(path);
    const ref = (await readAnnotations(path, 'atr')).annotations.filter((a) => isBeatCode(a.code));
    expect(beats).toHaveLength(ref.length);
    for (const [k, b] of beats.entries()) expect(Math.abs(b - ref[k]!.sample)).toBeLessThan(0.05 * 360);
    expect(await qrsCommand(`${path}.hea`)).toEqual(beats);
  });

  it('fails with the file name when the record does not exist', async () => {
    await expect(qrsCommand(join(FIXTURES, 'nope'))).rejects.toThrow(/nope\.hea/);
  });

  it('leaves a disconnected or noisy second lead out of the fusion', async () => {
    const path = join(FIXTURES, 'wfdb-microdb', '100s');
    const record = await readRecord(path);
    expect(fusableLeadIndices(record)).toEqual([0, 1]);
    const alone = detectRecordQrs(record, { multiLead: false });
    const v5 = record.signals[1]!;
    // Contact noise: ±0.5 mV white noise with a sharp 2-mV artefact every 0.37 s (not at the heart rate).
    let s = 1;
    const noise = Int32Array.from(v5.digital, (_, i) => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const spike = i % 133 < 3 ? 400 * (i % 2 ? -1 : 1) : 0;
      return 1024 + Math.round((s / 2 ** 32 - 0.5) * 200) + spike;
    });
    for (const digital of [new Int32Array(v5.digital.length).fill(1024), noise]) {
      const damaged = { ...record, signals: [record.signals[0]!, { ...v5, digital }] };
      expect(fusableLeadIndices(damaged)).toEqual([0]);
      expect(Array.from(detectRecordQrs(damaged))).toEqual(Array.from(alone));
    }
  });
});
