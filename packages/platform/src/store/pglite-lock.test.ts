import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dataDirHolder, holdDataDir, holdStoppedDataDir } from './pglite-lock.ts';

const LOCK_MODULE = fileURLToPath(new URL('./pglite-lock.ts', import.meta.url));
const run = promisify(execFile);
const error = (m: string) => new Error(m);

/** Tries to hold `dir` from another process (through tsx, as the platform runs); resolves with its output. */
async function holdFromAnotherProcess(dir: string): Promise<string> {
  const script = `import { holdDataDir } from ${JSON.stringify(LOCK_MODULE)};
try { holdDataDir(${JSON.stringify(dir)}, (m) => new Error(m)); console.log('held'); } catch (e) { console.log(e.message); }`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
  return stdout.trim();
}

describe('one process per data folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openiomt-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses another process while held, naming this one, and lets it in once released', async () => {
    const hold = holdDataDir(dir, error);
    expect(dataDirHolder(dir)).toBe(process.pid);
    expect(await holdFromAnotherProcess(dir)).toBe(
      `the data folder ${dir} is in use by process ${process.pid} (a running platform or openiomt tool): stop it first, or give another --data-dir`,
    );
    expect(() => holdDataDir(dir, error)).toThrow(`the data folder ${dir} is already open in this process`);
    hold.release();
    hold.release();
    expect(existsSync(join(dir, 'openiomt.pid'))).toBe(false);
    // The other process held it and, exiting without releasing (as a killed platform), left its file behind.
    expect(await holdFromAnotherProcess(dir)).toBe('held');
    expect(existsSync(join(dir, 'openiomt.pid'))).toBe(true);
    expect(dataDirHolder(dir)).toBeUndefined();
  });

  it('takes over the file of a process that is gone', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    const gone = await new Promise<number>((resolve) =>
      child.once('exit', () => resolve(child.pid as number)),
    );
    await writeFile(join(dir, 'openiomt.pid'), `${gone}\n`);
    const hold = holdDataDir(dir, error);
    expect(await readFile(join(dir, 'openiomt.pid'), 'utf8')).toBe(`${process.pid}\n`);
    hold.release();
  });

  it('takes over a file that names no process', async () => {
    await writeFile(join(dir, 'openiomt.pid'), 'not a pid\n');
    holdDataDir(dir, error).release();
    expect(existsSync(join(dir, 'openiomt.pid'))).toBe(false);
  });

  it('does not remove a file another process wrote after this one let go', async () => {
    const hold = holdDataDir(dir, error);
    await writeFile(join(dir, 'openiomt.pid'), '1\n');
    hold.release();
    expect(await readFile(join(dir, 'openiomt.pid'), 'utf8')).toBe('1\n');
  });

  it('keeps tools off an embedded database a platform left open, even with no holder', async () => {
    const pg = join(dir, 'pg');
    await mkdir(pg);
    await writeFile(join(pg, 'postmaster.pid'), '-42\n');
    expect(() => holdStoppedDataDir(dir, error)).toThrow(/did not stop cleanly/);
    expect(existsSync(join(dir, 'openiomt.pid'))).toBe(false);
  });
});
