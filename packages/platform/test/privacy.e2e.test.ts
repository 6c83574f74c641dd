/**
 * Privacy at rest, proved on real files: a patient whose name, identifier and contact details carry a
 * random marker is created through the API, readings are written, the platform is stopped; then every byte
 * under the data folder (database files, WAL, key folder) and of a backup is searched for the marker, as
 * UTF-8 and UTF-16. On PostgreSQL every text/bytea/json column of every table, and pg_dump's output, are
 * searched instead. A control marker written in clear where no identity belongs (a device model) must be
 * found by the same search: otherwise the search proves nothing.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { startPlatform } from '../src/platform.ts';
import type { KeyService } from '../src/security/keys/key-service.ts';
import {
  defaultMasterKeyPath,
  memoryKeyService,
  openMasterKeyService,
} from '../src/security/keys/master-key-file.ts';
import { openStore } from '../src/store/store.ts';
import { createTestDatabase, POSTGRES_URL_ENV } from '../src/store/testing.ts';
import type { Store } from '../src/store/types.ts';
import { deviceWithKey, newKey, proof, type TestPlatform } from './harness.ts';

const BIN = fileURLToPath(new URL('../bin/openiomt.js', import.meta.url));
const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );

/** The marker as it could appear in a file: UTF-8, UTF-16 little- and big-endian. */
function encodings(marker: string): Buffer[] {
  const le = Buffer.from(marker, 'utf16le');
  const be = Buffer.from(le).swap16();
  return [Buffer.from(marker, 'utf8'), le, be];
}

const contains = (bytes: Buffer, marker: string): boolean => encodings(marker).some((e) => bytes.includes(e));

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Every file under dir whose raw bytes hold the marker. */
async function filesHolding(dir: string, marker: string): Promise<string[]> {
  const hits: string[] = [];
  for (const f of await filesUnder(dir)) if (contains(await readFile(f), marker)) hits.push(f);
  return hits;
}

const newMarker = (kind: string) => `${kind}-${randomBytes(12).toString('hex')}`;

/** A platform over the given store, with the admin API as the harness offers it. */
async function platformOn(store: Store, dataDir: string, adminToken?: string): Promise<TestPlatform> {
  const config = loadConfig({
    flags: { httpPort: 0, mqttPort: 0, logLevel: 'silent', dataDir },
    env: {},
  });
  const platform = await startPlatform(config, { store, logger: createLogger('silent') });
  const token = adminToken ?? (platform.firstAdminToken as string);
  return {
    platform,
    adminToken: token,
    async api(method, path, body, headers = {}) {
      const res = await fetch(`${platform.httpUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    close: () => platform.close(),
  };
}

/**
 * Through the API: a patient carrying the marker in every identifying field, a device carrying the control
 * marker in its model, assigned to the patient, and readings from it over HTTPS. Returns the patient id.
 */
async function writeMarkedPatient(t: TestPlatform, marker: string, control: string): Promise<string> {
  const created = await t.api('POST', '/api/v1/admin/patients', {
    identifier: `MRN-${marker}`,
    displayName: `Ada ${marker} Lovelace`,
    birthDate: '1950-02-28',
    email: `${marker}@example.org`,
    address: `1 ${marker} Street`,
  });
  expect(created.status).toBe(201);
  const patientId = created.body.id as string;
  expect(patientId).not.toContain(marker);
  const deviceId = `dev-${randomBytes(4).toString('hex')}`;
  const reg = await t.api('POST', '/api/v1/admin/devices', {
    id: deviceId,
    kind: 'pulse-oximeter',
    model: control,
  });
  expect(reg.status).toBe(201);
  const key = newKey();
  const enrol = await t.api('POST', `/api/v1/devices/${deviceId}/enrol`, {
    jwk: key.jwk,
    proof: proof(key, { device: deviceId, enrolmentCode: reg.body.enrolmentCode }),
  });
  expect(enrol.status).toBe(201);
  const from = new Date(Date.now() - 3600_000).toISOString();
  expect(
    (await t.api('POST', `/api/v1/admin/devices/${deviceId}/assignments`, { patientId, from })).status,
  ).toBe(201);
  const device = deviceWithKey(t, deviceId, patientId, key);
  const res = await fetch(`${t.platform.httpUrl}/api/v1/devices/${deviceId}/readings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${device.token()}` },
    body: JSON.stringify({
      messages: Array.from({ length: 20 }, (_, i) =>
        device.sign(i + 1, {
          vitals: [
            { code: 'spo2', value: 97 },
            { code: 'heart-rate', value: 70 + i },
          ],
        }),
      ),
    }),
  });
  expect(res.status).toBe(200);
  // Read back the way an authorised caller does: decrypted in memory only.
  const read = await t.api('GET', `/api/v1/admin/patients/${patientId}`);
  expect(read.body).toMatchObject({ displayName: `Ada ${marker} Lovelace`, identifier: `MRN-${marker}` });
  expect(read.body.fhir.name).toEqual([{ text: `Ada ${marker} Lovelace` }]);
  const found = await t.api('POST', '/api/v1/admin/patients/search', { identifier: `MRN-${marker}` });
  expect(found.body.items.map((p: { id: string }) => p.id)).toEqual([patientId]);
  expect(await t.platform.store.readings.count(deviceId)).toBe(20);
  return patientId;
}

describe('privacy at rest: embedded database files and backups', () => {
  const dirs: string[] = [];
  const tempDir = async (name: string) => {
    const d = await mkdtemp(join(tmpdir(), `openiomt-privacy-${name}-`));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  /** What platform.ts does at start on an embedded data folder: the master key file, then the store. */
  async function openEmbedded(dataDir: string): Promise<{ store: Store; keys: KeyService }> {
    const keys = await openMasterKeyService({ dataDir });
    await mkdir(join(dataDir, 'pg'), { recursive: true, mode: 0o700 });
    const store = await openStore({ dataDir: join(dataDir, 'pg'), pgliteThread: true, keys });
    return { store, keys };
  }

  it('finds the marker nowhere in the data folder or a backup; finds the clear control everywhere it looks', async () => {
    const marker = newMarker('MARKER');
    const control = newMarker('CONTROL');
    const dataDir = await tempDir('data');
    const first = await openEmbedded(dataDir);
    const t = await platformOn(first.store, dataDir);
    const patientId = await writeMarkedPatient(t, marker, control);
    await t.close();

    const files = await filesUnder(dataDir);
    expect(files).toContain(defaultMasterKeyPath(dataDir));
    expect(files.some((f) => f.includes(`${join('pg', 'pg_wal')}`))).toBe(true);
    expect(await filesHolding(dataDir, control)).not.toEqual([]);
    expect(await filesHolding(dataDir, marker)).toEqual([]);

    // A backup made with the CLI: the control is in it (decompressed), the marker and the master key are not.
    const backupDir = await tempDir('backup');
    const backupFile = join(backupDir, 'openiomt.tar.gz');
    const backup = await cli(['backup', '--out', backupFile, '--data-dir', dataDir]);
    expect(backup.stderr).toBe('');
    expect(backup.stdout).toContain('The master key is not in it');
    const tarball = gunzipSync(await readFile(backupFile));
    expect(contains(tarball, control)).toBe(true);
    expect(contains(tarball, marker)).toBe(false);
    const masterKeyText = (await readFile(defaultMasterKeyPath(dataDir), 'latin1')).trim();
    expect(tarball.includes(Buffer.from(masterKeyText))).toBe(false);
    expect(tarball.includes(Buffer.from(masterKeyText, 'base64'))).toBe(false);
    expect((await cli(['backup', '--out', backupFile, '--data-dir', dataDir])).stderr).toContain('exists');

    // Restored with the master key it was made with, the identity reads again.
    const restoredDir = await tempDir('restored');
    const restore = await cli(['restore', '--from', backupFile, '--data-dir', restoredDir]);
    expect(restore.stderr).toBe('');
    const restoredStore = await openStore({ dataDir: join(restoredDir, 'pg'), keys: first.keys });
    expect(await restoredStore.patients.get(patientId)).toMatchObject({
      displayName: `Ada ${marker} Lovelace`,
    });
    // ...and with another master key the platform refuses to start on it, saying which key is needed.
    await restoredStore.close();
    await expect(openStore({ dataDir: join(restoredDir, 'pg'), keys: memoryKeyService() })).rejects.toThrow(
      /wrapped by another master key/,
    );
  });

  it('erasure through the CLI: identity gone for good, FHIR Patient without a name, telemetry kept', async () => {
    const marker = newMarker('MARKER');
    const dataDir = await tempDir('erase');
    const first = await openEmbedded(dataDir);
    const t = await platformOn(first.store, dataDir);
    const patientId = await writeMarkedPatient(t, marker, newMarker('CONTROL'));
    const { rows } = await t.platform.store.db.query<{ wrapped_key: Uint8Array; identity: Uint8Array }>(
      `SELECT k.wrapped_key, p.identity FROM patients p JOIN patient_keys k ON k.patient_id = p.id
       WHERE p.id = $1`,
      [patientId],
    );
    const destroyed = [Buffer.from(rows[0]!.wrapped_key), Buffer.from(rows[0]!.identity)];
    const observationsBefore = (await t.api('GET', `/fhir/R4/Observation?patient=${patientId}&_count=1000`))
      .body;
    const erased = await cli(
      ['patient', 'erase', patientId, '--reason', 'erasure request ER-42', '--url', t.platform.httpUrl],
      {
        OPENIOMT_ADMIN_TOKEN: t.adminToken,
      },
    );
    expect(erased.stderr).toBe('');
    expect(JSON.parse(erased.stdout)).toMatchObject({ id: patientId, erasedAt: expect.any(String) });
    const read = (await t.api('GET', `/api/v1/admin/patients/${patientId}`)).body;
    expect(Object.keys(read).sort()).toEqual(['createdAt', 'erasedAt', 'fhir', 'id']);
    expect(read.fhir.name).toBeUndefined();
    expect(JSON.stringify(read)).not.toContain(marker);
    expect(
      (await t.api('POST', '/api/v1/admin/patients/search', { identifier: `MRN-${marker}` })).body.items,
    ).toEqual([]);
    const observationsAfter = (await t.api('GET', `/fhir/R4/Observation?patient=${patientId}&_count=1000`))
      .body;
    expect(observationsAfter.entry?.length).toBe(observationsBefore.entry?.length);
    expect(observationsAfter.entry?.length).toBeGreaterThan(0);
    await t.close();

    // The destroyed key and envelope are in no table file any more; only the write-ahead log may still
    // hold them until PostgreSQL recycles it (docs/privacy.md: master key rotation closes that gap).
    for (const f of await filesUnder(join(dataDir, 'pg'))) {
      if (f.includes(join('pg', 'pg_wal'))) continue;
      const bytes = await readFile(f);
      expect(
        destroyed.some((d) => bytes.includes(d)),
        f,
      ).toBe(false);
    }

    // A restart with the same master key still has nothing to decrypt.
    const again = await openEmbedded(dataDir);
    expect(await again.store.patients.get(patientId)).toEqual({
      id: patientId,
      createdAt: read.createdAt,
      erasedAt: read.erasedAt,
    });
    await again.store.close();
  });
});

const postgresUrl = process.env[POSTGRES_URL_ENV];
const onPostgres = postgresUrl ? [postgresUrl] : [];

describe.each(onPostgres)('privacy at rest: PostgreSQL columns and pg_dump', (adminUrl) => {
  it('no column of any table, nor pg_dump, holds the marker; the control is found in both', async () => {
    const database = await createTestDatabase(adminUrl);
    const dataDir = await mkdtemp(join(tmpdir(), 'openiomt-privacy-pg-'));
    try {
      const marker = newMarker('MARKER');
      const control = newMarker('CONTROL');
      const store = await openStore({ url: database.url, keys: memoryKeyService() });
      const t = await platformOn(store, dataDir);
      await writeMarkedPatient(t, marker, control);
      const search = async (needle: string) => {
        const { rows: columns } = await store.db.query<{
          table_name: string;
          column_name: string;
          data_type: string;
        }>(
          `SELECT table_name, column_name, data_type FROM information_schema.columns
           WHERE table_schema = 'public'
             AND data_type IN ('text', 'character varying', 'character', 'bytea', 'jsonb', 'json', 'ARRAY')`,
        );
        expect(columns.length).toBeGreaterThan(20);
        const hits: string[] = [];
        for (const c of columns) {
          const col = `"${c.column_name}"`;
          const condition =
            c.data_type === 'bytea'
              ? `position(convert_to($1, 'UTF8') in ${col}) > 0 OR position(convert_to($1, 'UTF8') in convert_to(encode(${col}, 'base64'), 'UTF8')) > 0`
              : `${col}::text LIKE '%' || $1 || '%'`;
          const { rows } = await store.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM "${c.table_name}" WHERE ${condition}`,
            [needle],
          );
          if ((rows[0]?.n ?? 0) > 0) hits.push(`${c.table_name}.${c.column_name}`);
        }
        return hits;
      };
      expect(await search(control)).toContain('devices.model');
      expect(await search(marker)).toEqual([]);
      await t.close();

      const dump = await run('pg_dump', ['--no-owner', '--format=plain', database.url], {
        maxBuffer: 256 * 1024 * 1024,
        encoding: 'buffer',
      });
      const text = dump.stdout as unknown as Buffer;
      expect(contains(text, control)).toBe(true);
      expect(contains(text, marker)).toBe(false);
    } finally {
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
