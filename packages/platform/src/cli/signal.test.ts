import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/openiomt.js', import.meta.url));
const RECORDINGS = fileURLToPath(new URL('../../fixtures/recordings', import.meta.url));
const run = promisify(execFile);
const qrs = (args: string[]) =>
  run(process.execPath, [BIN, 'signal', 'qrs', ...args]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );

describe('openiomt signal qrs says what is wrong and what to give', () => {
  const dir = mkdtempSync(join(tmpdir(), 'openiomt-signal-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses an empty or missing record as a usage error, with the form of a record path', async () => {
    const empty = await qrs(['']);
    expect(empty).toMatchObject({ code: 2, stdout: '' });
    expect(empty.stderr).toBe(
      'openiomt: signal qrs needs a record: give the record path without extension, e.g. …/mitdb/101 (reads 101.hea and 101.dat)\n',
    );
    const missing = await qrs([join(RECORDINGS, 'mitdb', '100')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /^openiomt: no WFDB header .*mitdb\/100\.hea: give the record path without extension .*holds 3 records: 101, 106, 119\n$/,
    );
  });

  it('refuses a numerics record (no ECG) listing its signals, and analyses one chosen with --signal', async () => {
    const numerics = join(RECORDINGS, 'mimic2wdb-numerics', 's00001-2896-10-10-00-31n');
    const refused = await qrs([numerics]);
    expect(refused).toMatchObject({ code: 2, stdout: '' });
    expect(refused.stderr).toMatch(
      /^openiomt: no signal of record "s00001-2896-10-10-00-31n" looks like an ECG/,
    );
    expect(refused.stderr).toContain('its signals are 0 HR (bpm, 1 per 60 s), 1 ABPSys (mmHg, 1 per 60 s),');
    expect(refused.stderr).toMatch(/choose it with --signal <n\|name>\n$/);
    const chosen = await qrs([numerics, '--signal', 'HR']);
    expect(chosen.code).toBe(0);
    expect(chosen.stderr).toBe(
      'warning: signal 0 (HR, bpm, 1 per 60 s) does not look like an ECG; detecting beats in it as asked\n',
    );
  });

  it('warns on stderr when the signal file is cut short, and prints the beats it holds', async () => {
    const source = join(RECORDINGS, 'mitdb', '101');
    copyFileSync(`${source}.hea`, join(dir, '101.hea'));
    writeFileSync(join(dir, '101.dat'), readFileSync(`${source}.dat`).subarray(0, 3 * 3600));
    const r = await qrs([join(dir, '101')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'warning: signal file 101.dat holds 3600 of the 21600 samples per signal the header declares (10 s of 60 s): the file is cut short, and only what it holds is analysed\n',
    );
    const beats = r.stdout.trim().split('\n').map(Number);
    expect(beats.length).toBeGreaterThan(5);
    expect(Math.max(...beats)).toBeLessThan(3600);
  });
});
