/**
 * `openiomt keys rotate-master` and `openiomt keys rotate-audit`, run with the platform stopped
 * (docs/privacy.md, docs/audit.md). The embedded database is refused while a platform holds it (its
 * postmaster.pid exists); PostgreSQL cannot tell, so the help says to stop every platform process first.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { auditFiles, loadOrCreateAuditKey } from '../audit/audit-files.ts';
import { retiredName, rotateAuditKey } from '../audit/key-history.ts';
import { KEY_BYTES } from '../security/keys/envelope.ts';
import { LocalKeyService, MasterKeyError } from '../security/keys/key-service.ts';
import {
  defaultMasterKeyPath,
  MASTER_KEY_FILE_ENV,
  readMasterKeyFile,
} from '../security/keys/master-key-file.ts';
import { type RotationSummary, rotateMasterKey } from '../security/keys/rotation.ts';
import { holdStoppedDataDir } from '../store/pglite-lock.ts';
import { openStore } from '../store/store.ts';
import type { Store } from '../store/types.ts';
import { CliError } from './admin-client.ts';
import { withProgress } from './progress.ts';

export interface RotateMasterFlags {
  readonly dataDir?: string;
  readonly databaseUrl?: string;
  readonly masterKeyFile?: string;
  readonly newMasterKeyFile?: string;
}

const STOPPED =
  '\nStop the platform first. The embedded database is refused while a platform holds it; with PostgreSQL, stop every platform process yourself.';

export function keysCommands(program: Command): void {
  const keys = program.command('keys').description('rotate the master key and the audit signing key');
  keys
    .command('rotate-master')
    .description(
      're-wrap every patient data key and re-seal every secret under a new master key, in one transaction',
    )
    .option('--data-dir <dir>', 'the platform data folder (default OPENIOMT_DATA_DIR or ./data)')
    .option('--database-url <url>', 'PostgreSQL server instead of the embedded database (or DATABASE_URL)')
    .option(
      '--master-key-file <file>',
      `the current master key (default ${MASTER_KEY_FILE_ENV} or <data-dir>/keys/master.key)`,
    )
    .option(
      '--new-master-key-file <file>',
      'the new master key: used if it exists, else created there (default: replaces the current file)',
    )
    .addHelpText('after', STOPPED)
    .action(async (flags: RotateMasterFlags) => {
      await rotateMasterCommand(flags, process.stdout);
    });
  keys
    .command('rotate-audit')
    .description(
      'a new audit signing key; the old one signs the rotation into <data-dir>/audit/key-history.jsonl',
    )
    .option('--data-dir <dir>', 'the platform data folder (default OPENIOMT_DATA_DIR or ./data)')
    .addHelpText('after', STOPPED)
    .action(async (flags: { dataDir?: string }) => {
      await rotateAuditCommand(flags, process.stdout);
    });
}

/** Holds a stopped platform's data folder while a rotation works on it. */
const holdStoppedPlatform = (dataDir: string) => holdStoppedDataDir(dataDir, (m) => new CliError(m));

const dataDirOf = (flags: { dataDir?: string }) => flags.dataDir ?? process.env.OPENIOMT_DATA_DIR ?? './data';

export interface MasterRotationResult extends RotationSummary {
  readonly keyFile: string;
  readonly retiredKeyFile?: string;
}

export async function rotateMasterCommand(
  flags: RotateMasterFlags,
  out: NodeJS.WritableStream,
): Promise<MasterRotationResult> {
  const dataDir = dataDirOf(flags);
  const url = flags.databaseUrl ?? (process.env.DATABASE_URL || undefined);
  if (!url && !existsSync(join(dataDir, 'pg', 'PG_VERSION')))
    throw new CliError(
      `there is no embedded database in ${join(dataDir, 'pg')} (give --data-dir, or --database-url)`,
    );
  const hold = url ? undefined : holdStoppedPlatform(dataDir);
  try {
    return await rotateMaster(flags, out, dataDir, url);
  } finally {
    hold?.release();
  }
}

async function rotateMaster(
  flags: RotateMasterFlags,
  out: NodeJS.WritableStream,
  dataDir: string,
  url: string | undefined,
): Promise<MasterRotationResult> {
  const currentPath =
    flags.masterKeyFile ?? (process.env[MASTER_KEY_FILE_ENV] || undefined) ?? defaultMasterKeyPath(dataDir);
  const from = new LocalKeyService(await readKey(currentPath), 'file');
  // The new key is written before the database changes, so it is never lost whatever fails after.
  const given = flags.newMasterKeyFile;
  const stagedPath = given ?? `${currentPath}.new`;
  const created = !(given && existsSync(given));
  if (created) await writeNewKey(stagedPath, given === undefined);
  const to = new LocalKeyService(await readKey(stagedPath), 'file');
  let summary: RotationSummary;
  let store: Store | undefined;
  try {
    store = await openStore(
      url ? { url, keys: from, poolSize: 1 } : { dataDir: join(dataDir, 'pg'), keys: from },
    ).catch((e: Error) => {
      throw new CliError(`cannot open the database with the current master key: ${e.message}`);
    });
    const db = store.db;
    summary = await withProgress('rotate |{bar}| {value}/{total} keys and secrets', (onProgress) =>
      rotateMasterKey({ db, from, to, onProgress }),
    );
  } catch (e) {
    if (created) await rm(stagedPath, { force: true });
    if (e instanceof CliError) throw e;
    throw new CliError(
      `the rotation failed and was rolled back: everything is still under the current master key ${from.id} (${(e as Error).message})`,
    );
  } finally {
    await store?.close();
  }
  const retired = await retiredName(currentPath, new Date());
  let retiredKeyFile: string | undefined;
  try {
    await rename(currentPath, retired);
    retiredKeyFile = retired;
  } catch (e) {
    out.write(
      `warning: could not rename ${currentPath} to ${retired} (${(e as Error).message}): keep it until you delete it\n`,
    );
  }
  const keyFile = given ?? currentPath;
  if (!given) await rename(stagedPath, currentPath);
  out.write(
    [
      `Master key rotated: ${summary.oldKeyId} -> ${summary.newKeyId} in ${summary.seconds.toFixed(1)} s`,
      `  patient data keys re-wrapped: ${summary.patientKeys}`,
      `  identifier indexes recomputed: ${summary.identifierIndexes}`,
      `  TOTP secrets re-sealed: ${summary.totpSecrets}`,
      `  OAuth client secrets re-sealed: ${summary.clientSecrets}`,
      `  webhook and rest-hook Subscription secrets re-sealed: ${summary.webhookSecrets} + ${summary.subscriptionSecrets}`,
      `  new master key: ${keyFile}${given ? ` (start the platform with --master-key-file ${given})` : ''}`,
      ...(retiredKeyFile
        ? [`  old master key kept as ${retiredKeyFile}: delete it once backups made before now are gone`]
        : []),
      '',
    ].join('\n'),
  );
  return { ...summary, keyFile, ...(retiredKeyFile ? { retiredKeyFile } : {}) };
}

async function readKey(path: string): Promise<Buffer> {
  try {
    return await readMasterKeyFile(path);
  } catch (e) {
    if (e instanceof MasterKeyError) throw new CliError(e.message);
    throw e;
  }
}

async function writeNewKey(path: string, staged: boolean): Promise<void> {
  try {
    await writeFile(path, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'EEXIST' && staged
        ? `${path} exists: an earlier rotation did not finish. If the platform refuses to start naming that key's id, the database is under it: move it to the master key file; otherwise delete it`
        : `cannot write the new master key ${path}: ${(e as Error).message}`,
    );
  }
}

export async function rotateAuditCommand(flags: { dataDir?: string }, out: NodeJS.WritableStream) {
  const dataDir = dataDirOf(flags);
  const files = auditFiles(dataDir);
  if (!existsSync(files.keyFile))
    throw new CliError(`there is no audit signing key ${files.keyFile}: start the platform once first`);
  const hold = holdStoppedPlatform(dataDir);
  const rotation = await rotateAuditKey(files, await loadOrCreateAuditKey(files))
    .catch((e: Error) => {
      throw new CliError(e.message);
    })
    .finally(() => hold.release());
  out.write(
    [
      `Audit signing key rotated: ${rotation.oldKeyId} -> ${rotation.newKeyId} (from tree size ${rotation.fromTreeSize})`,
      `  the rotation, signed by the old key, is in ${files.keyHistoryFile}`,
      `  old private key kept as ${rotation.retiredKeyFile}: delete it once you no longer need it`,
      '',
    ].join('\n'),
  );
  return rotation;
}
