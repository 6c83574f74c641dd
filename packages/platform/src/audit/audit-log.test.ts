import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/store.ts';
import {
  type DisposableStore,
  openPostgresStore,
  POSTGRES_URL_ENV,
  storeBackends,
} from '../store/testing.ts';
import type { Store } from '../store/types.ts';
import { recordAudit } from './audit-log.ts';
import { APPEND_ONLY_AUDIT_TABLES, applicationRoleGrants } from './least-privilege.ts';
import { openAuditLog, type TestAuditLog } from './testing.ts';

const read = { action: 'read', actor: 'nurse-7', resourceType: 'Observation', patientId: 'p-1' } as const;

describe.each(storeBackends())('the audit log store on $name', ({ open }) => {
  let store: DisposableStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  it('records in the caller transaction: kept with a commit, gone with a rollback', async () => {
    const kept = await store.db.transaction((tx) => recordAudit(tx, { ...read, resourceId: 'kept' }));
    await expect(
      store.db.transaction(async (tx) => {
        await recordAudit(tx, { ...read, resourceId: 'rolled-back' });
        throw new Error('the access failed');
      }),
    ).rejects.toThrow('the access failed');
    const ids = (await store.audit.list({ actor: 'nurse-7' })).items.map((r) => r.resourceId);
    expect(ids).toContain('kept');
    expect(ids).not.toContain('rolled-back');
    expect(await store.audit.get(kept.id)).toEqual(kept);
    expect(await store.audit.unsequenced()).toBeGreaterThan(0);
  });

  it('keeps exactly what was recorded, and refuses malformed events naming the field', async () => {
    const r = await store.audit.record({
      action: 'denied',
      actor: 'clin-2',
      actorRole: 'clinician',
      outcome: 'denied',
      resourceType: 'Observation',
      patientId: 'p-9',
      reason: 'not in the care team',
      source: '10.0.0.1',
      detail: { interaction: 'read', n: 0.1 + 0.2, nested: { z: [1, 'x'], a: null } },
      at: '2026-03-04T05:06:07.891+02:00',
    });
    expect(r.at).toBe('2026-03-04T03:06:07.891Z');
    expect(await store.audit.get(r.id)).toEqual(r);
    const refused: [object, string][] = [
      [{ action: 'peek' }, 'action'],
      [{ outcome: 'maybe' }, 'outcome'],
      [{ actor: '' }, 'actor'],
      [{ reason: 'a\u0000b' }, 'reason'],
      [{ patientId: 'x'.repeat(300) }, 'patientId'],
      [{ at: 'yesterday' }, 'at'],
      [{ detail: { v: Number.NaN } }, 'detail'],
      [{ detail: { big: 'x'.repeat(9000) } }, 'detail'],
    ];
    for (const [change, field] of refused)
      await expect(store.audit.record({ ...read, ...change } as never)).rejects.toMatchObject({
        code: 'invalid',
        field,
      });
  });

  it('lists newest first by patient, actor, action and time, paging exactly', async () => {
    const base = Date.parse('2026-05-01T00:00:00Z');
    for (let i = 0; i < 7; i++)
      await store.audit.record({
        ...read,
        actor: 'pager',
        action: i % 2 === 0 ? 'read' : 'search',
        patientId: i < 5 ? 'p-page' : 'p-other',
        at: new Date(base + i * 1000).toISOString(),
      });
    const mine = await store.audit.list({ actor: 'pager', patientId: 'p-page' });
    expect(mine.items.map((r) => r.at)).toEqual(
      [4, 3, 2, 1, 0].map((i) => new Date(base + i * 1000).toISOString()),
    );
    expect((await store.audit.list({ actor: 'pager', action: 'search' })).items).toHaveLength(3);
    const window = await store.audit.list({
      actor: 'pager',
      from: new Date(base + 2000).toISOString(),
      to: new Date(base + 4000).toISOString(),
    });
    expect(window.items).toHaveLength(3);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.audit.list({ actor: 'pager', limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((r) => r.id));
      cursor = page.next;
    } while (cursor);
    expect(new Set(seen).size).toBe(7);
    await expect(store.audit.list({ cursor: 'garbage!' })).rejects.toMatchObject({ field: 'cursor' });
  });

  it('refuses UPDATE, DELETE and TRUNCATE of the audit tables, to every role, by trigger', async () => {
    const log = await openAuditLog(store);
    await store.audit.record(read);
    await log.sequencer.flush();
    for (const table of APPEND_ONLY_AUDIT_TABLES) {
      for (const sql of [
        `UPDATE ${table} SET ${table === 'audit_events' ? "actor = 'x'" : table === 'audit_leaves' ? 'leaf_index = leaf_index + 1000' : 'tree_size = tree_size + 1000'}`,
        `DELETE FROM ${table}`,
        `TRUNCATE ${table}`,
      ])
        await expect(store.db.query(sql), sql).rejects.toThrow(/the audit log is append-only/);
    }
    await log.remove();
  });
});

const postgresUrl = process.env[POSTGRES_URL_ENV];
const postgres = postgresUrl ? [postgresUrl] : [];

describe.each(postgres)('the application role on PostgreSQL (%s)', (adminUrl) => {
  let owner: DisposableStore;
  let app: Store;
  let log: TestAuditLog;
  const role = `openiomt_app_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    owner = await openPostgresStore(adminUrl);
    const url = new URL(adminUrl);
    const database = (await owner.db.query<{ d: string }>('SELECT current_database() AS d')).rows[0]
      ?.d as string;
    const password = randomBytes(16).toString('hex');
    await owner.db.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    for (const sql of applicationRoleGrants(role, database)) await owner.db.query(sql);
    url.pathname = `/${database}`;
    url.username = role;
    url.password = password;
    // The platform starts as this role: migrating an up-to-date schema needs no DDL right.
    app = await openStore({ url: url.toString(), poolSize: 2 });
    log = await openAuditLog(app);
  });
  afterAll(async () => {
    await log?.remove();
    await app?.close();
    await owner?.db.query(`DROP OWNED BY ${role}`).catch(() => {});
    await owner?.dispose();
    await dropRole(adminUrl, role);
  });

  it('may insert and sequence audit records, but not change, delete or truncate them', async () => {
    await app.audit.record(read);
    expect(await log.sequencer.flush()).toBe(1);
    expect((await app.audit.latestTreeHead())?.treeSize).toBe(1);
    for (const table of APPEND_ONLY_AUDIT_TABLES)
      for (const sql of [
        `UPDATE ${table} SET ${columnOf(table)}`,
        `DELETE FROM ${table}`,
        `TRUNCATE ${table}`,
      ])
        await expect(app.db.query(sql), sql).rejects.toThrow(`permission denied for table ${table}`);
    // Nor can it switch the trigger off: only the owner may alter the table.
    await expect(app.db.query('ALTER TABLE audit_events DISABLE TRIGGER USER')).rejects.toThrow(
      /must be owner/,
    );
    const report = await log.verify();
    expect(report.problems).toEqual([]);
  });
});

const columnOf = (table: string) =>
  table === 'audit_events' ? "actor = 'x'" : table === 'audit_leaves' ? 'leaf_index = 0' : 'tree_size = 1';

async function dropRole(adminUrl: string, role: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP ROLE IF EXISTS ${role}`);
  } finally {
    await client.end();
  }
}
