/**
 * The evaluation and benchmark scripts' command lines: --help prints the usage, and a wrong option or data
 * folder is one line saying what to give (exit 2), never a stack trace.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../src/testdata.ts';

const script = (name: string) => fileURLToPath(new URL(`../scripts/${name}.ts`, import.meta.url));
const run = (name: string, args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', script(name), ...args]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );
const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at /);

describe('the signal scripts on the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'openiomt-scripts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['eval-qrs', 'eval-af', 'bench-signal'])('%s --help prints its usage', async (name) => {
    const r = await run(name, ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^Usage: npx tsx packages/signal/scripts/${name}\\.ts \\[options\\]`),
    );
    expect(r.stdout).toContain('--data <dir>');
  });

  it('eval-qrs refuses an unknown option and a folder without RECORDS, saying what to give', async () => {
    const unknown = await run('eval-qrs', ['--bogus']);
    expect(unknown).toMatchObject({
      code: 2,
      stderr: "eval-qrs.ts: Unknown option '--bogus'\n(run with --help for usage)\n",
    });
    const noRecords = await run('eval-qrs', ['--data', dir]);
    expect(noRecords.code).toBe(2);
    expect(noRecords.stderr).toBe(
      `eval-qrs.ts: no RECORDS file in ${dir}: --data must be a WFDB database folder whose RECORDS file names its records, one per line (as PhysioNet's mitdb has)\n`,
    );
  });

  it('eval-qrs skips records without reference annotations with a note, and scores the others', async () => {
    const ecg = join(FIXTURES, 'challenge-2015');
    const none = await run('eval-qrs', [
      '--data',
      ecg,
      '--records',
      'a103l-e',
      '--out',
      join(dir, 'none.json'),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      `note: skipping a103l-e: it has no reference annotations (${join(ecg, 'a103l-e')}.atr)`,
    );
    expect(none.stderr).toMatch(/eval-qrs\.ts: no record of .* could be scored/);
    noStack(none.stderr);
    const out = join(dir, 'eval.json');
    const scored = await run('eval-qrs', [
      '--data',
      join(FIXTURES, 'wfdb-microdb'),
      '--records',
      '100s',
      '--out',
      out,
    ]);
    expect(scored).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(readFileSync(out, 'utf8')).gross.fromStart).toMatchObject({ tp: 74, fn: 0, fp: 0 });
  });

  it('eval-af and bench-signal name the data they miss', async () => {
    const af = await run('eval-af', ['--data', dir]);
    expect(af.code).toBe(2);
    expect(af.stderr).toMatch(
      /^eval-af\.ts: cannot read .*challenge-2017\/LABELS\.csv \(ENOENT\): --data must be the shared data folder/,
    );
    const bench = await run('bench-signal', ['--data', dir]);
    expect(bench.code).toBe(2);
    expect(bench.stderr).toMatch(/^bench-signal\.ts: no RECORDS file in /);
  });
});
