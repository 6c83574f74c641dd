import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockDataDir } from './data-dir-lock.ts';
import { DeviceClient } from './device.ts';
import { generateDeviceKey } from './keys.ts';

describe('one DeviceClient per data folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openiomt-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second client on the same folder until the first closes', async () => {
    const open = () =>
      DeviceClient.open({
        deviceId: 'patch-1',
        key: generateDeviceKey(),
        dataDir: dir,
        // Nothing listens there: delivery retries in the background, which this test does not need.
        transport: { kind: 'http', baseUrl: 'http://127.0.0.1:9', retry: { minMs: 1000, maxMs: 1000 } },
      });
    const first = await open();
    await expect(open()).rejects.toThrow(/in use by this process: give each DeviceClient its own dataDir/);
    await first.close();
    const again = await open();
    await again.close();
  });

  it('refuses a folder another running process holds, naming it', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await writeFile(join(dir, 'lock'), `${other.pid}\n`);
      await expect(lockDataDir(dir)).rejects.toThrow(`in use by process ${other.pid}`);
    } finally {
      other.kill();
    }
  });

  it('takes over a lock left by a process that has ended', async () => {
    const ended = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => ended.once('exit', resolve));
    await writeFile(join(dir, 'lock'), `${ended.pid}\n`);
    const lock = await lockDataDir(dir);
    await lock.release();
    // And one with our own pid that this process does not hold: a restarted container's previous life.
    await writeFile(join(dir, 'lock'), `${process.pid}\n`);
    await (await lockDataDir(dir)).release();
  });
});
