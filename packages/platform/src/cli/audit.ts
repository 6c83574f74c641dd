import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { auditFiles, readAuditPublicKey, readTreeHeadFile } from '../audit/audit-files.ts';
import { readKeyHistory } from '../audit/key-history.ts';
import { type VerifyReport, verdict, verifyAuditLog } from '../audit/verify.ts';
import { openDatabase } from '../store/db.ts';
import { holdStoppedDataDir } from '../store/pglite-lock.ts';
import type { Database } from '../store/types.ts';
import { connectionOptions, listAll, printTable } from './admin.ts';
import { adminConnection, CliError } from './admin-client.ts';
import { withProgress } from './progress.ts';

interface VerifyFlags {
  dataDir?: string;
  databaseUrl?: string;
  treeHeads?: string;
  publicKey?: string;
  keyId?: string;
}

/** `openiomt audit verify` (reads the database directly) and `openiomt audit tail` (over the admin API). */
export function auditCommands(program: Command): void {
  const audit = program
    .command('audit')
    .description('the tamper-evident audit log of every access to patient data');
  audit
    .command('verify')
    .description(
      'prove the audit log consistent with its exported signed tree heads (exit 0), or say what was changed, deleted, reordered or truncated (exit 1)',
    )
    .option('--data-dir <dir>', 'the platform data folder (default OPENIOMT_DATA_DIR or ./data)')
    .option('--database-url <url>', 'PostgreSQL server instead of the embedded database (or DATABASE_URL)')
    .option('--tree-heads <file>', 'exported tree heads (default <data-dir>/audit/tree-heads.jsonl)')
    .option('--public-key <file>', 'tree head public key (default <data-dir>/audit/tree-head-key.pub.pem)')
    .option('--key-id <kid>', 'the key id the public key must have (one you recorded elsewhere)')
    .addHelpText(
      'after',
      '\nThe embedded database is read directly: stop the platform first. A PostgreSQL database may be verified while the platform runs.',
    )
    .action(async (flags: VerifyFlags) => {
      process.exitCode = await verifyCommand(flags);
    });

  connectionOptions(audit.command('tail').description('the latest audit events, newest first'))
    .option('--patient <id>', 'only events about this patient')
    .option('--actor <id>', 'only events by this user, device or system')
    .option(
      '--action <action>',
      'read, search, create, update, delete, export, denied, break-glass, login, ...',
    )
    .option('--limit <n>', 'at most this many', '20')
    .option('--json', 'print the records whole (with source, reason and detail) instead of a table')
    .action(async (o) => {
      const q = new URLSearchParams({
        ...(o.patient ? { patient: o.patient } : {}),
        ...(o.actor ? { actor: o.actor } : {}),
        ...(o.action ? { action: o.action } : {}),
      });
      const rows = await listAll<Record<string, unknown>>(
        adminConnection(o),
        `/api/v1/admin/audit?${q}`,
        Number(o.limit),
      );
      if (o.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      printTable(rows, [
        'at',
        'actor',
        'actorRole',
        'action',
        'outcome',
        'resourceType',
        'resourceId',
        'patientId',
        'leafIndex',
      ]);
    });
}

async function verifyCommand(flags: VerifyFlags): Promise<number> {
  const dataDir = flags.dataDir ?? process.env.OPENIOMT_DATA_DIR ?? './data';
  const url = flags.databaseUrl ?? process.env.DATABASE_URL;
  const files = auditFiles(dataDir, {
    ...(flags.treeHeads ? { treeHeadsFile: flags.treeHeads } : {}),
    ...(flags.publicKey ? { publicKeyFile: flags.publicKey } : {}),
  });
  const publicKey = await readAuditPublicKey(files.publicKeyFile).catch((e: Error) => {
    throw new CliError(
      `cannot read the audit public key ${files.publicKeyFile}: ${e.message} (give --public-key)`,
    );
  });
  const heads = await readTreeHeadFile(files.treeHeadsFile);
  const history = await readKeyHistory(files.keyHistoryFile).catch((e: Error) => {
    throw new CliError(`cannot read the audit key history ${files.keyHistoryFile}: ${e.message}`);
  });
  const db = await openReadOnly(dataDir, url);
  const started = performance.now();
  let report: VerifyReport;
  try {
    const { rows } = await db.query<{ t: string | null }>(`SELECT to_regclass('audit_leaves')::text AS t`);
    if (!rows[0]?.t)
      throw new CliError('this database has no audit log: start the platform once to create it');
    report = await withProgress('verify |{bar}| {value}/{total} records', (onProgress) =>
      verifyAuditLog({ db, heads, publicKey, history, headsSource: files.treeHeadsFile, onProgress }),
    );
  } finally {
    await db.close();
  }
  // A pinned key id may be any key of the rotation chain: the chain proves the keys after it.
  if (flags.keyId && !report.keyIds.includes(flags.keyId))
    report = {
      ...report,
      ok: false,
      problems: [
        `the public key ${files.publicKeyFile} has key id ${report.keyId}, not ${flags.keyId}: it was replaced`,
        ...report.problems,
      ],
    };
  process.stdout.write(verdict(report, (performance.now() - started) / 1000));
  return report.ok ? 0 : 1;
}

/** Opens the database for reading; the embedded one only when no platform has it open, and holds it. */
async function openReadOnly(dataDir: string, url: string | undefined): Promise<Database> {
  if (url) {
    return openDatabase({ url, poolSize: 1 }).catch((e: Error) => {
      throw new CliError(`cannot connect to the PostgreSQL database: ${e.message}`);
    });
  }
  const pgDir = join(dataDir, 'pg');
  if (!existsSync(join(pgDir, 'PG_VERSION')))
    throw new CliError(`there is no embedded database in ${pgDir} (give --data-dir, or --database-url)`);
  // Held while it is read: a platform started meanwhile is refused.
  const hold = holdStoppedDataDir(dataDir, (m) => new CliError(m));
  const db = await openDatabase({ dataDir: pgDir }).catch((e: unknown) => {
    hold.release();
    throw e;
  });
  return {
    kind: db.kind,
    query: db.query.bind(db),
    transaction: db.transaction.bind(db),
    close: () => db.close().finally(() => hold.release()),
  };
}
