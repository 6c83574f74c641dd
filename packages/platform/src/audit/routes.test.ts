import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FhirValidator, loadFhirValidator } from '../../../core/src/fhir/fhir-schema.ts';
import { AccessGuard, adminTokenResolver } from '../access/guard.ts';
import { adminRoutes } from '../admin/routes.ts';
import { DeviceAdmin } from '../admin/service.ts';
import { InProcessBus } from '../bus/bus.ts';
import { fhirRoutes } from '../fhir/routes.ts';
import { createHttpApp } from '../http/app.ts';
import { DeviceRegistry } from '../ingest/device-registry.ts';
import { createLogger } from '../log.ts';
import { ensureAdminCredential } from '../security/admin-credential.ts';
import { sampleKey, sampleReading } from '../store/sample-readings.ts';
import { type DisposableStore, storeBackends } from '../store/testing.ts';
import type { StoredAuditRecord } from './audit-log.ts';
import { auditRoutes } from './routes.ts';
import { openAuditLog, type TestAuditLog } from './testing.ts';

const BIN = fileURLToPath(new URL('../../bin/openiomt.js', import.meta.url));
const run = promisify(execFile);

describe.each(storeBackends())('audit over HTTP on $name', ({ open }) => {
  let store: DisposableStore;
  let app: FastifyInstance;
  let log: TestAuditLog;
  let base: string;
  let token: string;
  let fhir: FhirValidator;
  const key = sampleKey();
  /** Observation ids of two patients' readings. */
  const obs: Record<string, string> = {};

  beforeAll(async () => {
    store = await open();
    fhir = loadFhirValidator();
    token = (await ensureAdminCredential(store))!;
    log = await openAuditLog(store);
    // The admin routes' live parts: nothing is connected in this test, so no session is ever open.
    const bus = new InProcessBus();
    const devices = new DeviceAdmin(store, new DeviceRegistry(store), bus, {
      disconnectDevice: () => false,
    });
    app = await createHttpApp({ logger: createLogger('silent') });
    const guard = new AccessGuard(store, adminTokenResolver(store));
    adminRoutes(app, { store, devices, guard });
    fhirRoutes(app, { store, guard, bus });
    auditRoutes(app, { store });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    for (const p of ['pa', 'pb']) {
      await store.patients.create({ id: p });
      await store.devices.register({ id: `dev-${p}`, kind: 'ecg-patch' });
      await store.assignments.assign({ deviceId: `dev-${p}`, patientId: p, from: '2020-01-01T00:00:00Z' });
      const reading = sampleReading({ deviceId: `dev-${p}`, patientId: p, seq: 1, key });
      await store.readings.commit([reading]);
      obs[p] = reading.observations[0]?.id as string;
    }
  });
  afterAll(async () => {
    await app?.close();
    await log?.remove();
    await store?.dispose();
  });

  const get = async (path: string, auth = `Bearer ${token}`) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: auth } });
    return { status: res.status, type: res.headers.get('content-type'), json: (await res.json()) as any };
  };
  /** The newest audit records, straight from the store. */
  const latest = async (n: number) => (await store.audit.list({ limit: n })).items;
  const fields = (r: StoredAuditRecord) => ({
    actor: r.actor,
    action: r.action,
    outcome: r.outcome,
    resourceType: r.resourceType,
    resourceId: r.resourceId,
    patientId: r.patientId,
  });

  it('records the administrator reading a patient and a reading, found or not', async () => {
    expect((await get('/api/v1/admin/patients/pa')).status).toBe(200);
    expect(fields((await latest(1))[0]!)).toEqual({
      actor: 'admin',
      action: 'read',
      outcome: 'success',
      resourceType: 'Patient',
      resourceId: 'pa',
      patientId: 'pa',
    });
    expect((await latest(1))[0]).toMatchObject({ actorRole: 'service', source: '127.0.0.1' });
    expect((await get('/api/v1/admin/patients/nobody')).status).toBe(404);
    expect((await latest(1))[0]).toMatchObject({
      outcome: 'error',
      reason: 'not found',
      patientId: 'nobody',
    });
    expect((await get('/api/v1/admin/readings/dev-pb/1')).status).toBe(200);
    expect(fields((await latest(1))[0]!)).toMatchObject({
      resourceType: 'Reading',
      resourceId: 'dev-pb/1',
      patientId: 'pb',
    });
  });

  it('records FHIR Observation reads, and a search once per patient whose data it returned', async () => {
    expect((await get(`/fhir/R4/Observation/${obs.pa}`)).status).toBe(200);
    expect(fields((await latest(1))[0]!)).toMatchObject({
      action: 'read',
      resourceType: 'Observation',
      resourceId: obs.pa,
      patientId: 'pa',
    });
    const both = await get('/fhir/R4/Observation?code=heart-rate');
    expect(both.json.entry).toHaveLength(2);
    const events = await latest(2);
    expect(events.map((e) => [e.action, e.patientId, e.detail?.count]).sort()).toEqual([
      ['search', 'pa', 1],
      ['search', 'pb', 1],
    ]);
    expect(events[0]?.detail?.query).toBe('code=heart-rate');
    await get('/fhir/R4/Observation?patient=Patient/pb&code=8867-4');
    expect(fields((await latest(1))[0]!)).toMatchObject({ action: 'search', patientId: 'pb' });
  });

  it('lists the log for administrators, filtered and paged, and records that too', async () => {
    await log.sequencer.flush();
    const page = await get('/api/v1/admin/audit?patient=pa&action=read&limit=1');
    expect(page.status).toBe(200);
    expect(page.json.items).toHaveLength(1);
    for (const r of page.json.items) expect(r).toMatchObject({ patientId: 'pa', action: 'read' });
    expect(page.json.items[0].leafIndex).toEqual(expect.any(Number));
    const next = await get(`/api/v1/admin/audit?patient=pa&action=read&cursor=${page.json.next}`);
    expect(next.json.items).toHaveLength(1);
    expect(next.json.items[0].id).not.toBe(page.json.items[0].id);
    expect(next.json.items[0]).toMatchObject({ patientId: 'pa', action: 'read' });
    expect(fields((await latest(1))[0]!)).toMatchObject({
      action: 'search',
      resourceType: 'AuditEvent',
      patientId: 'pa',
    });
    expect((await get('/api/v1/admin/audit?limit=0')).status).toBe(400);
    expect((await get('/api/v1/admin/audit?from=yesterday')).json.field).toBe('/from');
  });

  it('serves records as FHIR R4 AuditEvents, by id and by patient and date', async () => {
    const [record] = (await store.audit.list({ patientId: 'pb', action: 'read' })).items;
    const one = await get(`/fhir/R4/AuditEvent/${record!.id}`);
    expect(one.status).toBe(200);
    expect(one.type).toMatch(/application\/fhir\+json/);
    expect(fhir.errors(one.json)).toBeUndefined();
    expect(one.json.entity.map((e: any) => e.what.reference ?? e.what.identifier.value)).toContain(
      'Patient/pb',
    );
    const today = new Date().toISOString().slice(0, 10);
    const found = await get(`/fhir/R4/AuditEvent?patient=Patient/pb&date=ge${today}&_count=50`);
    expect(found.json.resourceType).toBe('Bundle');
    expect(found.json.entry.length).toBeGreaterThan(2);
    for (const e of found.json.entry) {
      expect(fhir.errors(e.resource)).toBeUndefined();
      expect(e.resource.entity.some((x: any) => x.what?.reference === 'Patient/pb')).toBe(true);
    }
    expect((await get('/fhir/R4/AuditEvent/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await get('/fhir/R4/AuditEvent?date=soon')).status).toBe(400);
  });

  it('shows the latest events with openiomt audit tail', async () => {
    const r = await run(
      process.execPath,
      [BIN, 'audit', 'tail', '--url', base, '--patient', 'pb', '--limit', '3'],
      {
        env: { ...process.env, OPENIOMT_ADMIN_TOKEN: token },
      },
    );
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^at\s+actor\s+actorRole\s+action\s+outcome\s+resourceType\s+resourceId\s+patientId\s+leafIndex$/,
    );
    expect(lines).toHaveLength(4);
    for (const line of lines.slice(1)) expect(line).toMatch(/ admin .* pb/);
    const whole = await run(
      process.execPath,
      [BIN, 'audit', 'tail', '--url', base, '--patient', 'pb', '--limit', '2', '--json'],
      { env: { ...process.env, OPENIOMT_ADMIN_TOKEN: token } },
    );
    const records = JSON.parse(whole.stdout);
    expect(records).toHaveLength(2);
    for (const r of records) expect(r).toMatchObject({ patientId: 'pb', source: expect.any(String) });
  });

  it('records a read of the dead letters against the patient wearing the device when each arrived', async () => {
    const letter = (deviceId: string | undefined, receivedAt: string) => ({
      receivedAt,
      via: 'mqtt' as const,
      ...(deviceId ? { deviceId } : {}),
      reason: 'schema-violation' as const,
      detail: 'refused',
      payloadBase64: Buffer.from('{"vitals":[]}').toString('base64'),
    });
    const now = new Date().toISOString();
    await store.deadLetters.addMany([
      letter('dev-pa', now),
      letter('dev-pa', now),
      // Before its assignment began: the device's, no patient's.
      letter('dev-pa', '2019-06-01T00:00:00.000Z'),
      letter('dev-nobody', now),
      letter(undefined, now),
    ]);
    const page = await get('/api/v1/admin/dead-letters?reason=schema-violation');
    expect(page.json.items).toHaveLength(5);
    const records = await latest(4);
    const whose = (r: StoredAuditRecord) =>
      `${r.patientId ?? '-'} ${r.detail?.deviceId ?? '-'} ${r.detail?.count}`;
    expect(records.map(whose).sort()).toEqual(['- - 1', '- dev-nobody 1', '- dev-pa 1', 'pa - 2']);
    for (const r of records)
      expect(r).toMatchObject({
        actor: 'admin',
        action: 'search',
        outcome: 'success',
        resourceType: 'DeadLetter',
        source: '127.0.0.1',
        detail: { query: 'reason=schema-violation' },
      });
    // Nothing shown is still a read of the store, recorded once with count 0.
    expect((await get('/api/v1/admin/dead-letters?device=dev-pb')).json.items).toEqual([]);
    expect((await latest(1))[0]).toMatchObject({ resourceType: 'DeadLetter', detail: { count: 0 } });
  });

  it('records a read of the security events', async () => {
    await store.securityEvents.add({ kind: 'auth-failed', deviceId: 'dev-pa', detail: 'bad token' });
    const page = await get('/api/v1/admin/security-events?device=dev-pa');
    expect(page.json.items.length).toBeGreaterThan(0);
    const [record] = await latest(1);
    expect(fields(record!)).toEqual({
      actor: 'admin',
      action: 'search',
      outcome: 'success',
      resourceType: 'SecurityEvent',
      resourceId: undefined,
      patientId: undefined,
    });
    expect(record?.detail).toEqual({ query: 'device=dev-pa', count: page.json.items.length });
  });

  it('records nothing for a log query it refuses', async () => {
    const [before] = await latest(1);
    for (const path of [
      '/api/v1/admin/dead-letters?reason=no-such-reason',
      '/api/v1/admin/dead-letters?limit=0',
      '/api/v1/admin/dead-letters?cursor=not-a-cursor',
      '/api/v1/admin/security-events?kind=no-such-kind',
      '/api/v1/admin/security-events?subsystem=enrollment',
      '/api/v1/admin/security-events?cursor=not-a-cursor',
    ])
      expect((await get(path)).status, path).toBe(400);
    expect((await latest(1))[0]?.id).toBe(before?.id);
  });

  it('refuses without the administrator credential, and records the refused attempt', async () => {
    const admin = await get('/api/v1/admin/audit', 'Bearer oiat_wrong');
    expect(admin.status).toBe(401);
    const refused = (await latest(1))[0]!;
    expect(refused).toMatchObject({ action: 'denied', outcome: 'denied', actor: 'anonymous' });
    const fhirRefused = await get('/fhir/R4/AuditEvent?patient=pa', 'Bearer oiat_wrong');
    expect(fhirRefused.status).toBe(401);
    expect(fhirRefused.json.resourceType).toBe('OperationOutcome');
    await log.sequencer.flush();
    expect((await log.verify()).problems).toEqual([]);
  });
});
