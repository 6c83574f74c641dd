import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/config.ts';
import { defaultMasterKeyPath } from '../security/keys/master-key-file.ts';
import { BackupError, backupPglite, restorePglite } from '../store/pglite-backup.ts';
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
    .description('back up the embedded database to a file (stop the platform first)')
    .requiredOption('--out <file>', 'where to write the backup (a .tar.gz; never overwritten)')
    .option('--data-dir <dir>', 'the platform data folder (default ./data or OPENIOMT_DATA_DIR)')
    .action(async (o: { out: string; dataDir?: string }) => {
      const dataDir = dataDirOf(o);
      const { bytes } = await run(() => backupPglite(`${dataDir}/pg`, o.out));
      process.stdout.write(
        `Backed up the embedded database to ${o.out} (${bytes} bytes).\n` +
          `The master key is not in it: keep a copy of ${defaultMasterKeyPath(dataDir)} (or your --master-key-file) apart from the backup; without it the patient identities in the backup cannot be read.\n` +
          `The audit log's files are not in it either: copy ${join(dataDir, 'audit')} with it (its tree heads and public key are what \`openiomt audit verify\` checks the log against).\n`,
      );
    });
  program
    .command('restore')
    .description('restore a backup into a fresh data folder')
    .requiredOption('--from <file>', 'a file written by openiomt backup')
    .option('--data-dir <dir>', 'the fresh platform data folder (default ./data or OPENIOMT_DATA_DIR)')
    .action(async (o: { from: string; dataDir?: string }) => {
      const dataDir = dataDirOf(o);
      await run(() => restorePglite(o.from, `${dataDir}/pg`));
      process.stdout.write(
        `Restored ${o.from} into ${dataDir}. Put the master key it was made with at ${defaultMasterKeyPath(dataDir)} (mode 0600) or pass --master-key-file to openiomt start, and the audit folder saved with the backup at ${join(dataDir, 'audit')}.\n`,
      );
    });
}
