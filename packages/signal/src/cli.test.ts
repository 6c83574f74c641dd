import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qrsCommand } from './cli.ts';
import { FIXTURES } from './testdata.ts';
import { isBeatCode } from './wfdb/codes.ts';
import { readAnnotations } from './wfdb/loader.ts';

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
});
