import { mkdir, open, readFile, realpath, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One DeviceClient per data folder at a time. Two on one folder would hand out the same sequence numbers and
 * send each other's outbox records: the platform then refuses half the readings as replays, and they are
 * lost. The lock is a file holding the owner's process id; one left by a process that has ended (a crash) is
 * taken over.
 */
export interface DataDirLock {
  release(): Promise<void>;
}

/** Lock files this process holds: a pid in a lock file equal to ours may be a previous life's (containers). */
const heldHere = new Set<string>();

export async function lockDataDir(dir: string): Promise<DataDirLock> {
  await mkdir(dir, { recursive: true });
  const path = join(await realpath(dir), 'lock');
  if (heldHere.has(path)) throw inUse(dir, 'this process');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      heldHere.add(path);
      return {
        async release() {
          if (!heldHere.delete(path)) return;
          await unlink(path).catch(() => {});
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (holder !== process.pid && isRunning(holder)) throw inUse(dir, `process ${holder}`);
      await unlink(path).catch(() => {}); // stale: its process has ended
    }
  }
  throw inUse(dir, 'another process');
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // it exists, but is not ours to signal
  }
}

const inUse = (dir: string, by: string) =>
  new Error(
    `data folder ${dir} is in use by ${by}: give each DeviceClient its own dataDir ` +
      '(two on one folder would reuse sequence numbers and lose readings)',
  );
