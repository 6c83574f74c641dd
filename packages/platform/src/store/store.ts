/**
 * The store: one Database (PGlite or PostgreSQL), migrated at open, with a repository per thing kept.
 */
import { auditRepository } from '../audit/audit-log.ts';
import type { KeyService } from '../security/keys/key-service.ts';
import { accessRepository } from './access.ts';
import { alarmSettingsRepository } from './alarm-settings.ts';
import { alarmsRepository } from './alarms.ts';
import { assignmentsRepository } from './assignments.ts';
import { credentialsRepository } from './credentials.ts';
import { type OpenDatabaseOptions, openDatabase } from './db.ts';
import { sealClearDeliverySecrets } from './delivery-secrets.ts';
import { derivedObservationsRepository } from './derived.ts';
import { devicesRepository } from './devices.ts';
import { erasureRequestsRepository } from './erasure-requests.ts';
import { deadLettersRepository, securityEventsRepository } from './events.ts';
import { idempotencyRepository } from './idempotency.ts';
import { latestVitalsRepository } from './latest-vitals.ts';
import { messagesRepository } from './messages.ts';
import { migrate } from './migrations.ts';
import { PatientVault } from './patient-vault.ts';
import { patientsRepository } from './patients.ts';
import { observationsRepository, readingsRepository } from './readings.ts';
import { sessionsRepository } from './sessions.ts';
import type { Database, Store } from './types.ts';
import { usersRepository } from './users.ts';
import { webhooksRepository } from './webhooks.ts';

export interface StoreKeys {
  /** Wraps the per-patient keys that encrypt patient identity; without it identities are refused. */
  readonly keys?: KeyService;
}

export type OpenStoreOptions = OpenDatabaseOptions & StoreKeys;

/** Opens the database, applies pending migrations and returns the repositories. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const { keys, ...dbOptions } = opts;
  const db = await openDatabase(dbOptions);
  const store = storeOn(db, keys ? { keys } : {});
  try {
    await store.migrate();
  } catch (e) {
    await db.close();
    throw e;
  }
  return store;
}

/** The repositories over a database; migrate() brings the schema and the encryption of identities up to date. */
export function storeOn(db: Database, opts: StoreKeys = {}): Store {
  // One vault: erasing a patient drops their cached key for every repository that seals under it.
  const vault = opts.keys ? new PatientVault(opts.keys) : undefined;
  const patients = patientsRepository(db, vault);
  return {
    db,
    ...(opts.keys ? { keys: opts.keys } : {}),
    migrate: async () => {
      const result = await migrate(db);
      await patients.checkKeys();
      await patients.sealClearIdentities();
      await sealClearDeliverySecrets(db, opts.keys);
      return result;
    },
    ping: async () => {
      await db.query('SELECT 1');
    },
    close: () => db.close(),
    patients,
    devices: devicesRepository(db),
    assignments: assignmentsRepository(db),
    readings: readingsRepository(db),
    observations: observationsRepository(db),
    derivedObservations: derivedObservationsRepository(db),
    deadLetters: deadLettersRepository(db),
    securityEvents: securityEventsRepository(db),
    idempotency: idempotencyRepository(db),
    credentials: credentialsRepository(db),
    webhooks: webhooksRepository(db, opts.keys),
    alarms: alarmsRepository(db),
    audit: auditRepository(db),
    access: accessRepository(db),
    alarmSettings: alarmSettingsRepository(db),
    vitals: latestVitalsRepository(db),
    users: usersRepository(db),
    sessions: sessionsRepository(db),
    messages: messagesRepository(db, vault),
    erasureRequests: erasureRequestsRepository(db, vault),
  };
}
