import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTimestamptz } from './db.ts';
import { MIGRATIONS, splitStatements } from './migrations.ts';
import { sampleKey, sampleReading } from './sample-readings.ts';
import { openStore } from './store.ts';
import {
  createTestDatabase,
  type DisposableStore,
  openPgliteTempDir,
  POSTGRES_URL_ENV,
  storeBackends,
} from './testing.ts';

describe.each(storeBackends())('database and migrations on $name', ({ open }) => {
  let store: DisposableStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  it('records every migration once; migrating again applies nothing', async () => {
    const { rows } = await store.db.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual(MIGRATIONS.map((m) => m.id));
    expect(await store.migrate()).toEqual({ applied: [] });
    expect(await store.migrate()).toEqual({ applied: [] });
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('returns timestamps as ISO strings in UTC, bigint as number, bytea as bytes', async () => {
    const { rows } = await store.db.query<{ t: unknown; b: unknown; j: unknown; by: unknown }>(
      `SELECT '2025-03-04T05:06:07.089+02:00'::timestamptz(3) AS t, 9007199254740991::bigint AS b,
              '{"a":[1]}'::jsonb AS j, '\\x00ff'::bytea AS by`,
    );
    expect(rows[0]).toMatchObject({ t: '2025-03-04T03:06:07.089Z', b: 9007199254740991, j: { a: [1] } });
    expect([...(rows[0]!.by as Uint8Array)]).toEqual([0, 255]);
  });

  it('rolls a failed transaction back and never lets another caller land inside it', async () => {
    await store.db.query('CREATE TABLE tx_probe (v text)');
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => {
      inside = resolve;
    });
    const failing = store.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO tx_probe VALUES ('in-tx')`);
      inside();
      await new Promise((r) => setTimeout(r, 50));
      throw new Error('abort');
    });
    await entered;
    // On PGlite this waits for the transaction; on PostgreSQL it runs on another connection.
    const outside = store.db.query(`INSERT INTO tx_probe VALUES ('outside')`);
    await expect(failing).rejects.toThrow('abort');
    await outside;
    const { rows } = await store.db.query<{ v: string }>('SELECT v FROM tx_probe');
    expect(rows.map((r) => r.v)).toEqual(['outside']);
  });
});

describe('migration scripts', () => {
  it('split into statements without empty ones or comment lines', () => {
    const statements = splitStatements(MIGRATIONS[0]!.sql);
    expect(statements.length).toBeGreaterThan(10);
    expect(statements.every((s) => s.length > 0 && !s.includes('--') && !s.endsWith(';'))).toBe(true);
  });

  it('parse timestamps as PostgreSQL prints them', () => {
    expect(parseTimestamptz('2025-01-02 03:04:05+00')).toBe('2025-01-02T03:04:05.000Z');
    expect(parseTimestamptz('2025-01-02 03:04:05.5+00')).toBe('2025-01-02T03:04:05.500Z');
    expect(parseTimestamptz('2025-01-02 03:04:05.123+05:30')).toBe('2025-01-01T21:34:05.123Z');
    expect(parseTimestamptz('infinity')).toBe('infinity');
  });
});

describe('PGlite data folder', () => {
  it('keeps everything across close and reopen', async () => {
    const folder = await openPgliteTempDir();
    try {
      const first = await folder.open();
      const patient = await first.patients.create({});
      await first.devices.register({ id: 'persist-1', kind: 'ecg-patch' });
      const reading = sampleReading({
        deviceId: 'persist-1',
        patientId: patient.id,
        seq: 1,
        key: sampleKey(),
      });
      await first.readings.commit([reading]);
      await first.close();

      const second = await folder.open();
      try {
        expect(await second.migrate()).toEqual({ applied: [] });
        expect(await second.patients.get(patient.id)).toEqual(patient);
        expect((await second.devices.get('persist-1'))?.highSeq).toBe(1);
        expect((await second.readings.get('persist-1', 1))?.jws).toBe(reading.jws);
      } finally {
        await second.close();
      }
    } finally {
      await folder.remove();
    }
  });
});

// Only defined when a server is given, so that a run without one reports no skipped tests.
const postgresUrl = process.env[POSTGRES_URL_ENV];
if (postgresUrl !== undefined && postgresUrl !== '')
  describe('PostgreSQL start-up', () => {
    it('two processes migrating one new database at once both succeed, applying it once', async () => {
      const database = await createTestDatabase(postgresUrl);
      try {
        const stores = await Promise.all([1, 2, 3].map(() => openStore({ url: database.url, poolSize: 2 })));
        try {
          const { rows } = await stores[0]!.db.query<{ n: number }>(
            'SELECT count(*) AS n FROM schema_migrations',
          );
          expect(rows[0]?.n).toBe(MIGRATIONS.length);
          const again = await Promise.all(stores.map((s) => s.migrate()));
          expect(again).toEqual(stores.map(() => ({ applied: [] })));
        } finally {
          await Promise.all(stores.map((s) => s.close()));
        }
      } finally {
        await database.drop();
      }
    });

    it('refuses to start against a server that is not there', async () => {
      await expect(openStore({ url: 'postgres://postgres@127.0.0.1:1/none' })).rejects.toThrow();
    });
  });
