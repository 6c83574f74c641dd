import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/config.ts';
import { defaultMasterKeyPath } from '../security/keys/master-key-file.ts';
import { BackupError, backupDataDir, restoreDataDir } from '../store/pglite-backup.ts';
import { CliError } from './admin-client.ts';

function dataDirOf(opts: { dataDir?: string }): string {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ flags: { dataDir: opts.dataDir }, env: process.env });
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message);
    throw e;
  }
  if (config.databaseUrl)
    throw new CliError(
      'DATABASE_URL names a PostgreSQL server: back it up with its own tools (pg_dump, or base backups with WAL archiving)',
    );
  return config.dataDir;
}

const run = async <T>(work: () => Promise<T>): Promise<T> => {
  try {
    return await work();
  } catch (e) {
    if (e instanceof BackupError) throw new CliError(e.message);
    throw e;
  }
};

/** `openiomt backup` and `openiomt restore`: the embedded database, while the platform is stopped. */
export function backupCommands(program: Command): void {
  program
    .command('backup')
    .description('back up the embedded database and the audit log to a file (stop the platform first)')
    .requiredOption('--out <file>', 'where to write the backup (a .tar.gz; never overwritten)')
    .option('--data-dir <dir>', 'the platform data folder (default ./data or OPENIOMT_DATA_DIR)')
    .action(async (o: { out: string; dataDir?: string }) => {
      const dataDir = dataDirOf(o);
      const { bytes, auditFiles } = await run(() => backupDataDir(dataDir, o.out));
      const what =
        auditFiles.length > 0
          ? `the embedded database and the audit log's ${auditFiles.length} files (signing key, tree heads, key history)`
          : `the embedded database (there is no audit folder at ${join(dataDir, 'audit')} yet)`;
      process.stdout.write(
        `Backed up ${what} to ${o.out} (${bytes} bytes, mode 0600).\n` +
          `The master key is not in it: keep a copy of ${defaultMasterKeyPath(dataDir)} (or your --master-key-file) apart from the backup; without it the patient identities in the backup cannot be read.\n`,
      );
    });
  program
    .command('restore')
    .description('restore a backup into a fresh data folder')
    .requiredOption('--from <file>', 'a file written by openiomt backup')
    .option('--data-dir <dir>', 'the fresh platform data folder (default ./data or OPENIOMT_DATA_DIR)')
    .action(async (o: { from: string; dataDir?: string }) => {
      const dataDir = dataDirOf(o);
      const { auditFiles } = await run(() => restoreDataDir(o.from, dataDir));
      const what =
        auditFiles.length > 0
          ? `the database and the audit log's ${auditFiles.length} files`
          : `the database; this backup holds no audit files: put the audit folder saved with it at ${join(dataDir, 'audit')}`;
      process.stdout.write(
        `Restored ${o.from} into ${dataDir} (${what}).\n` +
          `Put the master key it was made with at ${defaultMasterKeyPath(dataDir)} (mode 0600) or pass --master-key-file to openiomt start.\n`,
      );
    });
}
