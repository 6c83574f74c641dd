import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../http/app.ts';
import { createLogger } from '../log.ts';
import { ensureAdminCredential } from '../security/admin-credential.ts';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import { auditRoutes } from './routes.ts';
import { openAuditLog, type TestAuditLog, tamper } from './testing.ts';

describe.each(storeBackends())('POST /api/v1/admin/audit/verify on $name', ({ open }) => {
  let store: DisposableStore;
  let app: FastifyInstance;
  let bare: FastifyInstance;
  let log: TestAuditLog;
  let base: string;
  let bareBase: string;
  let token: string;

  beforeAll(async () => {
    store = await open();
    token = (await ensureAdminCredential(store))!;
    log = await openAuditLog(store);
    app = await createHttpApp({ logger: createLogger('silent') });
    auditRoutes(app, { store, files: log.files });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    // A platform started without its audit files cannot verify.
    bare = await createHttpApp({ logger: createLogger('silent') });
    auditRoutes(bare, { store });
    bareBase = await bare.listen({ host: '127.0.0.1', port: 0 });
    for (let i = 0; i < 5; i++)
      await store.audit.record({
        action: 'read',
        actor: `nurse-${i}`,
        resourceType: 'Observation',
        patientId: 'p1',
      });
    await log.sequencer.flush();
  });
  afterAll(async () => {
    await app?.close();
    await bare?.close();
    await log?.remove();
    await store?.dispose();
  });

  const verify = async (auth = `Bearer ${token}`, at = base) => {
    const res = await fetch(`${at}/api/v1/admin/audit/verify`, {
      method: 'POST',
      headers: { authorization: auth },
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  it('answers what `openiomt audit verify` says, and records that the log was verified', async () => {
    const r = await verify();
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, problems: [], records: 5, treeSize: 5, keyId: log.key.keyId });
    expect(r.json.summary).toMatch(
      /^OK: the audit log is consistent with its last signed tree head: 5 records/,
    );
    expect(r.json.summary).toContain(`(key ${log.key.keyId})`);
    expect(r.json.latest).toMatchObject({ treeSize: 5, rootHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const [last] = (await store.audit.list({ limit: 1 })).items;
    expect(last).toMatchObject({
      action: 'read',
      actor: 'admin',
      resourceType: 'AuditEvent',
      outcome: 'success',
      detail: { query: 'verify', ok: true, records: 5, problems: 0 },
    });
  });

  it('says which record was altered, as the CLI does', async () => {
    await log.sequencer.flush();
    const { rows } = await store.db.query<{ id: string }>(
      'SELECT event_id AS id FROM audit_leaves WHERE leaf_index = 2',
    );
    const id = rows[0]!.id;
    await tamper(store, (tx) =>
      tx.query(`UPDATE audit_events SET actor = 'someone-else' WHERE id = $1`, [id]),
    );
    const r = await verify();
    expect(r.status).toBe(200);
    expect(r.json.ok).toBe(false);
    expect(r.json.problems).toEqual(
      expect.arrayContaining([expect.stringContaining(`record ${id} at leaf 2`)]),
    );
    expect(r.json.summary).toMatch(/^FAILED: the audit log does not match its signed tree heads/);
    const [last] = (await store.audit.list({ limit: 1 })).items;
    expect(last).toMatchObject({ outcome: 'error', reason: 'verification failed' });
  });

  it('refuses without the administrator credential, and is unavailable without the audit files', async () => {
    expect((await verify('Bearer oiat_wrong')).status).toBe(401);
    const off = await verify(`Bearer ${token}`, bareBase);
    expect(off.status).toBe(503);
    expect(off.json.detail).toMatch(/without the audit files/);
  });
});
