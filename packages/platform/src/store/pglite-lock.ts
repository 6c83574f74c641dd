/**
 * One process per data folder. PGlite holds no lock of its own: two processes on one embedded database
 * would corrupt it, and two platforms on one folder would also interleave the audit log's files. So the
 * platform, and every tool that works on the folder directly (backup, restore, audit verify, key rotation),
 * holds <dataDir>/openiomt.pid while it works. A file left by a process that was killed names a process that
 * is gone, and is taken over.
 *
 * PGlite's own postmaster.pid stays after an unclean stop too; the tools still refuse while it is there,
 * because only a start replays the database's write-ahead log.
 */
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const lockFileOf = (dataDir: string): string => join(dataDir, 'openiomt.pid');

/** Whether `pid` is a live process (a zombie, killed but not yet reaped, is not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Linux: the state follows the command name in parentheses; Z is a zombie, X dead.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: kill(0) said it exists
  }
}

/** The live process holding `dataDir`, if any (this one included). */
export function dataDirHolder(dataDir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(lockFileOf(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text, 10);
  return Number.isSafeInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

export interface DataDirHold {
  /** Lets the folder go (idempotent); only removes the file while it still names this process. */
  release(): void;
}

const inUse = (dataDir: string, pid: number | undefined): string =>
  pid === process.pid
    ? `the data folder ${dataDir} is already open in this process`
    : `the data folder ${dataDir} is in use by ${pid === undefined ? 'another process' : `process ${pid}`} (a running platform or openiomt tool): stop it first, or give another --data-dir`;

/** Holds `dataDir` for this process, or throws the caller's kind of error naming the process that holds it. */
export function holdDataDir(dataDir: string, error: (message: string) => Error): DataDirHold {
  const file = lockFileOf(dataDir);
  for (let attempt = 0; ; attempt++) {
    try {
      // 'wx' fails when the file exists: of two processes starting at once, one gets it.
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = dataDirHolder(dataDir);
      if (holder !== undefined || attempt > 0) throw error(inUse(dataDir, holder));
      unlinkSync(file); // left by a process that is gone
    }
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      try {
        if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
      } catch {
        // Already gone: nothing to let go of.
      }
    },
  };
}

/**
 * Throws the caller's kind of error when a process holds the data folder of the embedded database in
 * `pgDir`, or when that database was left open by a platform that did not stop cleanly.
 */
export function refuseOpenEmbeddedDatabase(pgDir: string, error: (message: string) => Error): void {
  const holder = dataDirHolder(dirname(pgDir));
  if (holder !== undefined && holder !== process.pid) throw error(inUse(dirname(pgDir), holder));
  const pid = join(pgDir, 'postmaster.pid');
  if (existsSync(pid))
    throw error(
      `the embedded database in ${pgDir} is locked by a running platform (${pid} exists): stop the platform first. If none runs, the last one did not stop cleanly: start it once and stop it with Ctrl-C.`,
    );
}

/** For a tool that works on a stopped platform's folder: refuses as above, then holds it until released. */
export function holdStoppedDataDir(dataDir: string, error: (message: string) => Error): DataDirHold {
  refuseOpenEmbeddedDatabase(join(dataDir, 'pg'), error);
  return holdDataDir(dataDir, error);
}
