import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformProcess } from './process.ts';

const BIN = fileURLToPath(new URL('../bin/openiomt.js', import.meta.url));
const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );

describe('the openiomt command', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openiomt-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists every command with --help, and each command has its own --help', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const c of [
      'start',
      'patient',
      'device',
      'dead-letters',
      'security-events',
      'simulate',
      'signal',
      'alarm',
      'news2',
      'webhook',
    ])
      expect(help.stdout).toContain(c);
    const start = await cli(['start', '--help']);
    for (const f of ['--http-port', '--mqtt-port', '--data-dir', '--tls-cert', '--insecure', '--demo'])
      expect(start.stdout).toContain(f);
    const device = await cli(['device', '--help']);
    for (const c of ['register', 'enrol', 'assign', 'revoke', 'keygen', 'token', 'sign', 'rotate-key'])
      expect(device.stdout).toContain(c);
    const revoke = await cli(['device', 'revoke', '--help']);
    expect(revoke.stdout).toMatch(/--reason <text>.*\(required\)/);
    const alarm = await cli(['alarm', '--help']);
    for (const c of ['list', 'show', 'ack', 'assign', 'snooze', 'escalate', 'resolve'])
      expect(alarm.stdout).toContain(c);
  });

  it('says what to do when a port is taken or the admin token is missing', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const taken = await cli([
      'start',
      '--http-port',
      String(port),
      '--mqtt-port',
      '0',
      '--data-dir',
      join(dir, 'taken'),
    ]);
    blocker.close();
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain(`127.0.0.1:${port} is already in use`);
    expect(taken.stderr).toContain('--http-port');
    // The failed first start made nothing: the next one still prints the administrator credential.
    const later = await startPlatformProcess(['--data-dir', join(dir, 'taken')]);
    expect(later.adminToken).toMatch(/^oiat_/);
    later.child.kill('SIGTERM');
    expect(await later.exited).toBe(0);
    const noToken = await cli(['device', 'list'], { OPENIOMT_ADMIN_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/OPENIOMT_ADMIN_TOKEN/);
    const plaintext = await cli(['start', '--http-host', '0.0.0.0', '--data-dir', join(dir, 'tls')]);
    expect(plaintext.stderr).toMatch(
      /--http-host 0\.0\.0\.0 is not a loopback address: give --tls-cert and --tls-key/,
    );
  });

  it('prints the administrator token once, then manages devices with it; SIGTERM exits cleanly', async () => {
    const dataDir = join(dir, 'data');
    const first = await startPlatformProcess(['--data-dir', dataDir]);
    expect(first.adminToken).toMatch(/^oiat_/);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dataDir, 'pg'))).mode & 0o777).toBe(0o700);
    const env = { OPENIOMT_URL: first.httpUrl, OPENIOMT_ADMIN_TOKEN: first.adminToken as string };
    // One platform per data folder: a second one on it would corrupt the embedded database.
    const twin = await cli(['start', '--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir]);
    expect(twin.code).toBe(2);
    expect(twin.stderr).toContain(`the data folder ${dataDir} is in use by process ${first.child.pid}`);
    const backupWhileRunning = await cli(['backup', '--out', join(dir, 'b.tgz'), '--data-dir', dataDir]);
    expect(backupWhileRunning.code).not.toBe(0);
    expect(backupWhileRunning.stderr).toContain(`in use by process ${first.child.pid}`);
    const reg = await cli(['device', 'register', 'cli-dev-1', '--kind', 'pulse-oximeter'], env);
    expect(reg.code).toBe(0);
    expect(JSON.parse(reg.stdout).enrolmentCode).toMatch(/\w{4}-\w{4}/);
    const list = await cli(['device', 'list'], env);
    expect(list.stdout).toMatch(/cli-dev-1\s+pulse-oximeter\s+registered/);
    const noReading = await cli(['reading', 'cli-dev-1', '1'], env);
    expect([noReading.code, noReading.stderr]).toEqual([2, expect.stringMatching(/^openiomt: Not found/)]);
    const letters = await cli(['dead-letters', '--json', '--device', 'cli-dev-1'], env);
    expect(JSON.parse(letters.stdout)).toEqual([]);
    const refused = await cli(['device', 'list'], { ...env, OPENIOMT_ADMIN_TOKEN: 'oiat_wrong' });
    expect(refused.stderr).toMatch(/refused the administrator token/);
    const alarms = await cli(['alarm', 'list'], env);
    expect(alarms.code).toBe(0);
    const badState = await cli(['alarm', 'list', '--state', 'sleeping'], env);
    expect(badState.code).not.toBe(0);
    expect(badState.stderr).toMatch(/state must be one of open, active, acknowledged, resolved/);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const second = await startPlatformProcess(['--data-dir', dataDir]);
    expect(second.adminToken).toBeUndefined();
    expect(second.output()).not.toContain('oiat_');
    const again = await cli(['device', 'list'], { ...env, OPENIOMT_URL: second.httpUrl });
    expect(again.stdout).toContain('cli-dev-1');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it("runs a device's own commands; mistakes are one-line errors that lose no key", async () => {
    const platform = await startPlatformProcess(['--data-dir', join(dir, 'device-tools')]);
    try {
      const env = { OPENIOMT_URL: platform.httpUrl, OPENIOMT_ADMIN_TOKEN: platform.adminToken as string };
      const reg = await cli(['device', 'register', 'cli-dev-1', '--kind', 'pulse-oximeter'], env);
      await deviceToolsSayWhatWentWrong(env, JSON.parse(reg.stdout).enrolmentCode);
    } finally {
      platform.child.kill('SIGTERM');
      await platform.exited;
    }
  });
});

/** A device's own commands against a running platform: mistakes are one-line errors and lose no key. */
async function deviceToolsSayWhatWentWrong(env: Record<string, string>, code: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'openiomt-device-tools-'));
  const key = join(dir, 'dev.pem');
  const oneLine = (r: { code: number; stderr: string }, pattern: RegExp) => {
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  };
  try {
    oneLine(
      await cli(['device', 'token', 'cli-dev-1', '--key', key]),
      /cannot load the device key .* Make one with `openiomt device keygen/,
    );
    const kid = JSON.parse((await cli(['device', 'keygen', '--out', key])).stdout).kid as string;
    // Running keygen again must not replace the key (it is about to be enrolled) unless --force.
    oneLine(await cli(['device', 'keygen', '--out', key]), /dev\.pem exists and is kept.*--force/);
    const spare = join(dir, 'spare.pem');
    const replaced = JSON.parse((await cli(['device', 'keygen', '--out', spare])).stdout).kid;
    const forced = await cli(['device', 'keygen', '--out', spare, '--force']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout).kid).not.toBe(replaced);
    // Enrolment with curl: the command prints the signed request body, which is posted as it is.
    const body = await cli(['device', 'enrol', 'cli-dev-1', '--key', key, '--code', code, '--print-request']);
    const enrolled = await fetch(`${env.OPENIOMT_URL}/api/v1/devices/cli-dev-1/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body.stdout,
    });
    expect(enrolled.status).toBe(201);
    oneLine(
      await cli(['device', 'enrol', 'cli-dev-1', '--key', key, '--code', code], env),
      /enrolment of cli-dev-1 refused: HTTP 400/,
    );
    // The new key cannot be saved: the platform must not learn of it.
    oneLine(
      await cli(
        ['device', 'rotate-key', 'cli-dev-1', '--key', key, '--new-key', join(key, 'new.pem')], // under a file
        env,
      ),
      /cannot write the new key to .*Nothing was changed/,
    );
    // The platform refuses: the new key file is removed, the old one stays the device's.
    oneLine(
      await cli(['device', 'rotate-key', 'cli-dev-1', '--key', key, '--new-key', join(dir, 'new.pem')], {
        ...env,
        OPENIOMT_URL: 'http://127.0.0.1:1',
      }),
      /cannot reach the platform.*The key was not rotated/,
    );
    await expect(stat(join(dir, 'new.pem'))).rejects.toThrow(/ENOENT/);
    // Neither failed rotation reached the platform: the device has its first key only.
    const shown = JSON.parse((await cli(['device', 'show', 'cli-dev-1'], env)).stdout);
    expect(shown.keys.map((k: { kid: string }) => k.kid)).toEqual([kid]);
    // The command sets the envelope; the same fields in the JSON are replaced, and named.
    const content = join(dir, 'reading.json');
    await writeFile(
      content,
      JSON.stringify({ v: 1, device: 'other', seq: 42, ts: '2020-01-01T00:00:00Z', vitals: [] }),
    );
    const signed = await cli([
      'device',
      'sign',
      'cli-dev-1',
      '--key',
      key,
      '--seq',
      '3',
      '--ts',
      '2026-01-02T03:04:05.000Z',
      '--file',
      content,
    ]);
    expect(signed.code).toBe(0);
    expect(signed.stderr).toContain('note: v, device, seq, ts in the JSON replaced');
    const payload = JSON.parse(
      Buffer.from(signed.stdout.trim().split('.')[1] as string, 'base64url').toString(),
    );
    expect(payload).toEqual({
      v: 1,
      device: 'cli-dev-1',
      seq: 3,
      ts: '2026-01-02T03:04:05.000Z',
      vitals: [],
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
