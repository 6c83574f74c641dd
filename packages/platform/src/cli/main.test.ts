import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/openiomt.js', import.meta.url));
const RECORD = fileURLToPath(new URL('../../fixtures/recordings/mitdb/101', import.meta.url));

/**
 * Runs the CLI with its stdout piped to a reader that closes the pipe at once, before the command has
 * written anything (as `| head` does once it has its lines), and gives the exit code and stderr.
 */
function runIntoClosedPipe(
  args: string[],
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OPENIOMT_DATA_DIR: '', DATABASE_URL: '' },
  });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

describe('openiomt piped into a reader that stops early', () => {
  it('ends quietly with exit 0 instead of an EPIPE stack trace', async () => {
    const r = await runIntoClosedPipe(['signal', 'qrs', RECORD]);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, signal: null });
  });

  it('stops a running platform the graceful way (its data folder is released)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openiomt-epipe-'));
    try {
      const r = await runIntoClosedPipe([
        'start',
        ...['--data-dir', dir, '--http-port', '0', '--mqtt-port', '0', '--log-level', 'silent'],
      ]);
      expect(r.stderr).toBe('');
      expect(r).toMatchObject({ code: 0, signal: null });
      // The pid file goes only when the platform closed; process.exit at the EPIPE would leave it behind.
      expect(existsSync(join(dir, 'openiomt.pid'))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('npm start, as the README runs it', () => {
  it('stops the platform when npm is told to stop (SIGTERM reaches the platform, not only npm)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openiomt-npm-start-'));
    try {
      const root = fileURLToPath(new URL('../../../../', import.meta.url));
      const npm = spawn(
        'npm',
        [
          'start',
          '--',
          ...['--data-dir', dir, '--http-port', '0', '--mqtt-port', '0', '--log-level', 'silent'],
        ],
        {
          cwd: root,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, OPENIOMT_DATA_DIR: '', DATABASE_URL: '' },
        },
      );
      let out = '';
      npm.stdout.on('data', (d) => {
        out += d;
      });
      const exited = new Promise<void>((r) => npm.on('close', () => r()));
      const deadline = Date.now() + 60_000;
      while (!out.includes('/healthz') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('/healthz');
      npm.kill('SIGTERM');
      await exited;
      // The platform let go of its data folder: it stopped the graceful way, not orphaned behind npm.
      const gone = Date.now() + 20_000;
      while (existsSync(join(dir, 'openiomt.pid')) && Date.now() < gone)
        await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(join(dir, 'openiomt.pid'))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
