/**
 * Audit log benchmark: how fast accesses record audit events, how fast the sequencer turns them into
 * signed tree heads, and how long `audit verify` takes, for a log of N records (default 100,000).
 *
 *   npx tsx packages/platform/bench/audit.bench.ts [--records 100000] [--database-url postgres://...]
 *
 * Embedded PGlite in a temporary folder unless --database-url names a PostgreSQL server (a fresh database
 * is created on it and dropped afterwards).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { type AuditInput, recordAudit } from '../src/audit/audit-log.ts';
import { openAuditLog } from '../src/audit/testing.ts';
import { openStore } from '../src/store/store.ts';
import { createTestDatabase } from '../src/store/testing.ts';

const opts = new Command()
  .option('--records <n>', 'audit records in the log', '100000')
  .option('--database-url <url>', 'PostgreSQL server (default: embedded PGlite)')
  .parse()
  .opts<{ records: string; databaseUrl?: string }>();

const n = Number(opts.records);
const dir = await mkdtemp(join(tmpdir(), 'openiomt-audit-bench-'));
const database = opts.databaseUrl ? await createTestDatabase(opts.databaseUrl) : undefined;
const store = await openStore(database ? { url: database.url } : { dataDir: join(dir, 'pg') });
const event = (i: number): AuditInput => ({
  action: i % 4 === 0 ? 'search' : 'read',
  actor: `user-${i % 50}`,
  actorRole: 'clinician',
  resourceType: 'Observation',
  resourceId: `0b7e2f1c-1d2e-4f3a-9b8c-${String(i).padStart(12, '0')}`,
  patientId: `patient-${i % 400}`,
  source: '10.20.30.40',
  detail: { query: 'code=8867-4', count: i % 7 },
});

const seconds = (t0: number) => (performance.now() - t0) / 1000;
try {
  // Accesses of 100 records each, as a busy search would write them.
  let t0 = performance.now();
  for (let i = 0; i < n; i += 100)
    await store.db.transaction(async (tx) => {
      for (let k = i; k < Math.min(n, i + 100); k++) await recordAudit(tx, event(k));
    });
  const recordS = seconds(t0);
  const log = await openAuditLog(store, { dir });
  t0 = performance.now();
  await log.sequencer.flush();
  const sequenceS = seconds(t0);
  await log.sequencer.close();
  t0 = performance.now();
  const report = await log.verify();
  const verifyS = seconds(t0);
  if (!report.ok) throw new Error(`verify failed: ${report.problems.join('; ')}`);
  const rate = (s: number) => Math.round(n / s).toLocaleString('en');
  console.log(`${database ? 'PostgreSQL' : 'PGlite'}, ${n.toLocaleString('en')} audit records`);
  console.log(`  record (100 per transaction)  ${recordS.toFixed(1)} s  (${rate(recordS)} records/s)`);
  console.log(`  sequence and sign (5000/tx)   ${sequenceS.toFixed(1)} s  (${rate(sequenceS)} records/s)`);
  console.log(
    `  verify ${report.treeSize} leaves, ${report.headsChecked} tree heads  ${verifyS.toFixed(1)} s  (${rate(verifyS)} records/s)`,
  );
} finally {
  await store.close();
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
}
