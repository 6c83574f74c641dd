/**
 * The store: one Database (PGlite or PostgreSQL), migrated at open, with a repository per thing kept.
 */
import { alarmSettingsRepository } from './alarm-settings.ts';
import { alarmsRepository } from './alarms.ts';
import { assignmentsRepository } from './assignments.ts';
import { credentialsRepository } from './credentials.ts';
import { type OpenDatabaseOptions, openDatabase } from './db.ts';
import { derivedObservationsRepository } from './derived.ts';
import { devicesRepository } from './devices.ts';
import { deadLettersRepository, securityEventsRepository } from './events.ts';
import { idempotencyRepository } from './idempotency.ts';
import { latestVitalsRepository } from './latest-vitals.ts';
import { migrate } from './migrations.ts';
import { patientsRepository } from './patients.ts';
import { observationsRepository, readingsRepository } from './readings.ts';
import type { Database, Store } from './types.ts';
import { webhooksRepository } from './webhooks.ts';

export type OpenStoreOptions = OpenDatabaseOptions;

/** Opens the database, applies pending migrations and returns the repositories. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const db = await openDatabase(opts);
  try {
    await migrate(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  return storeOn(db);
}

/** The repositories over an already migrated database. */
export function storeOn(db: Database): Store {
  return {
    db,
    migrate: () => migrate(db),
    ping: async () => {
      await db.query('SELECT 1');
    },
    close: () => db.close(),
    patients: patientsRepository(db),
    devices: devicesRepository(db),
    assignments: assignmentsRepository(db),
    readings: readingsRepository(db),
    observations: observationsRepository(db),
    derivedObservations: derivedObservationsRepository(db),
    deadLetters: deadLettersRepository(db),
    securityEvents: securityEventsRepository(db),
    idempotency: idempotencyRepository(db),
    credentials: credentialsRepository(db),
    webhooks: webhooksRepository(db),
    alarms: alarmsRepository(db),
    alarmSettings: alarmSettingsRepository(db),
    vitals: latestVitalsRepository(db),
  };
}
