/**
 * PGlite holds no lock of its own: two processes on one data folder would corrupt it. Its postmaster.pid
 * exists while a platform has the database open (and stays after an unclean stop), so tools that work on
 * the folder directly (backup, restore, audit verify, key rotation) refuse while it is there.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Throws the caller's kind of error when a platform has the embedded database in `pgDir` open. */
export function refuseOpenEmbeddedDatabase(pgDir: string, error: (message: string) => Error): void {
  const pid = join(pgDir, 'postmaster.pid');
  if (existsSync(pid))
    throw error(
      `the embedded database in ${pgDir} is locked by a running platform (${pid} exists): stop the platform first. If none runs, the last one did not stop cleanly: start it once and stop it with Ctrl-C.`,
    );
}
