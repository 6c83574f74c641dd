/**
 * Patients. The id is pseudonymous and is all that telemetry refers to; everything identifying (identifier,
 * name, birth date, contact details) is one envelope under the patient's own data key (patient-vault.ts),
 * and the identifier is also kept as a keyed blind index for exact-match search. Erasure destroys the
 * wrapped data key and the envelope (crypto-shredding); the row stays as a tombstone so telemetry keeps
 * its pseudonymous subject. See docs/privacy.md.
 */
import { randomUUID } from 'node:crypto';
import { MasterKeyError } from '../security/keys/key-service.ts';
import { checkMasterKeyVerifier } from '../security/keys/key-verifier.ts';
import { hasIdentity, normaliseIdentifier, type PatientVault } from './patient-vault.ts';
import {
  compact,
  decodeCursor,
  nowIso,
  pageLimit,
  sqlState,
  toPage,
  UNIQUE_VIOLATION,
  Where,
} from './sql.ts';
import {
  type Database,
  type ListQuery,
  type Page,
  type Patient,
  type PatientIdentity,
  type Queryable,
  StoreError,
} from './types.ts';

export interface NewPatient extends PatientIdentity {
  readonly id?: string;
}

export interface PatientsRepository {
  /** Registers a patient; identifying fields are encrypted before they reach the database. */
  create(p: NewPatient): Promise<Patient>;
  /** The patient with its identity decrypted in memory (none once erased). */
  get(id: string): Promise<Patient | undefined>;
  list(q?: ListQuery): Promise<Page<Patient>>;
  /** Patients whose identifier is exactly this (after trimming), found by blind index; oldest first. */
  findByIdentifier(identifier: string): Promise<Patient[]>;
  /**
   * Crypto-shredding: destroys the patient's wrapped data key and identity envelope, for good. The patient
   * stays as a pseudonymous tombstone (erasedAt) so its telemetry keeps a subject. Erasing twice is a no-op.
   */
  erase(id: string, erasure: { reason: string; by: string }): Promise<Patient>;
  /** Start-up check: every live wrapped key belongs to the configured master key. */
  checkKeys(): Promise<void>;
  /** Start-up step: encrypts identities left in the old clear columns and empties them; returns how many. */
  sealClearIdentities(): Promise<number>;
}

interface PatientRow {
  id: string;
  identity: Uint8Array | null;
  created_at: string;
  erased_at: string | null;
  wrapped_key: Uint8Array | null;
  key_service: string | null;
}

const SELECT = `SELECT p.id, p.identity, p.created_at, p.erased_at, k.wrapped_key, k.key_service
  FROM patients p LEFT JOIN patient_keys k ON k.patient_id = p.id`;

const LIMITS: Record<keyof PatientIdentity, number> = {
  identifier: 256,
  displayName: 256,
  birthDate: 10,
  phone: 64,
  email: 254,
  address: 512,
};

function checkIdentity(i: PatientIdentity): void {
  for (const [field, max] of Object.entries(LIMITS)) {
    const v = i[field as keyof PatientIdentity];
    if (v !== undefined && (typeof v !== 'string' || v.length > max))
      throw new StoreError('invalid', `${field} must be text of at most ${max} characters`, field);
  }
  if (i.birthDate !== undefined && !isBirthDate(i.birthDate))
    throw new StoreError('invalid', 'birthDate must be a date YYYY-MM-DD, not in the future', 'birthDate');
}

export function isBirthDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s) && d.getTime() <= Date.now();
}

const noKeys = () =>
  new MasterKeyError('no key service is configured: patient identities cannot be encrypted or read');

/** The identity fields that carry a value (empty strings are no value). */
function identityOf(p: NewPatient): PatientIdentity {
  const { id: _, ...fields } = p;
  for (const [k, v] of Object.entries(fields)) if (v === '') delete (fields as Record<string, unknown>)[k];
  return compact(fields);
}

export function patientsRepository(db: Database, vault?: PatientVault): PatientsRepository {
  async function get(id: string): Promise<Patient | undefined> {
    const { rows } = await db.query<PatientRow>(`${SELECT} WHERE p.id = $1`, [id]);
    return rows[0] === undefined ? undefined : toPatient(rows[0]);
  }

  async function toPatient(r: PatientRow): Promise<Patient> {
    const base = { id: r.id, createdAt: r.created_at, ...(r.erased_at ? { erasedAt: r.erased_at } : {}) };
    if (r.identity === null) return base;
    if (!vault) throw noKeys();
    if (r.wrapped_key === null || r.key_service === null)
      throw new MasterKeyError(`patient ${r.id} has an encrypted identity but no data key`);
    const key = await vault.dataKey(r.id, r.wrapped_key, r.key_service);
    const { id, ...rest } = base;
    // The id first, for whoever reads the JSON; the identity holds only its own fields.
    return compact({ id, ...vault.openIdentity(r.id, key, r.identity), ...rest });
  }

  /** Makes a data key and seals the identity; the caller stores both in one transaction. */
  async function sealFor(id: string, identity: PatientIdentity) {
    if (!vault) throw noKeys();
    const { dataKey, wrapped } = await vault.newDataKey(id);
    return {
      dataKey,
      wrapped,
      envelope: vault.sealIdentity(id, dataKey, identity),
      index: identity.identifier === undefined ? null : await vault.identifierIndex(identity.identifier),
    };
  }

  async function storeKey(tx: Queryable, id: string, wrapped: Buffer, at: string): Promise<void> {
    await tx.query(
      `INSERT INTO patient_keys (patient_id, wrapped_key, key_service, created_at) VALUES ($1, $2, $3, $4)`,
      [id, wrapped, (vault as PatientVault).keyServiceId, at],
    );
  }

  return {
    async create(p) {
      const id = p.id ?? randomUUID();
      if (id.length === 0 || id.length > 128)
        throw new StoreError('invalid', 'patient id must be 1 to 128 characters', 'id');
      const identity = identityOf(p);
      checkIdentity(identity);
      const sealed = hasIdentity(identity) ? await sealFor(id, identity) : undefined;
      const at = nowIso();
      try {
        await db.transaction(async (tx) => {
          await tx.query(
            `INSERT INTO patients (id, identity, identifier_index, created_at) VALUES ($1, $2, $3, $4)`,
            [id, sealed?.envelope ?? null, sealed?.index ?? null, at],
          );
          if (sealed) await storeKey(tx, id, sealed.wrapped, at);
        });
      } catch (e) {
        if (sqlState(e) === UNIQUE_VIOLATION) throw new StoreError('conflict', `patient ${id} exists`, 'id');
        throw e;
      }
      if (sealed && vault) vault.remember(id, sealed.dataKey);
      return compact({ id, ...identity, createdAt: at });
    },

    get,

    async list(q = {}) {
      const limit = pageLimit(q.limit);
      const where = new Where();
      if (q.cursor !== undefined) where.after('p.created_at', 'p.id', decodeCursor(q.cursor), 'asc');
      const { rows } = await db.query<PatientRow>(
        `${SELECT} ${where} ORDER BY p.created_at, p.id LIMIT ${where.param(limit + 1)}`,
        where.params,
      );
      const page = toPage(
        rows,
        limit,
        (r) => r,
        (r) => ({ at: r.created_at, id: r.id }),
      );
      return { ...page, items: await Promise.all(page.items.map(toPatient)) };
    },

    async findByIdentifier(identifier) {
      if (!vault) throw noKeys();
      if (identifier.length === 0 || identifier.length > LIMITS.identifier) return [];
      const index = await vault.identifierIndex(identifier);
      const { rows } = await db.query<PatientRow>(
        `${SELECT} WHERE p.identifier_index = $1 ORDER BY p.created_at, p.id LIMIT 100`,
        [index],
      );
      const patients = await Promise.all(rows.map(toPatient));
      // The HMAC does not collide in practice; comparing the decrypted value makes it certain.
      const wanted = normaliseIdentifier(identifier);
      return patients.filter(
        (p) => p.identifier !== undefined && normaliseIdentifier(p.identifier) === wanted,
      );
    },

    async erase(id, erasure) {
      if (erasure.reason.trim().length === 0)
        throw new StoreError('invalid', 'an erasure needs a reason', 'reason');
      const at = nowIso();
      const erased = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ erased_at: string | null }>(
          'SELECT erased_at FROM patients WHERE id = $1 FOR UPDATE',
          [id],
        );
        if (rows[0] === undefined) throw new StoreError('not-found', `no patient ${id}`, 'id');
        if (rows[0].erased_at !== null) return false;
        await tx.query(
          `UPDATE patient_keys SET wrapped_key = NULL, destroyed_at = $2
           WHERE patient_id = $1 AND destroyed_at IS NULL`,
          [id, at],
        );
        await tx.query(
          `UPDATE patients SET identity = NULL, identifier_index = NULL, identifier = NULL, display_name = NULL,
                               erased_at = $2, erased_by = $3, erasure_reason = $4
           WHERE id = $1`,
          [id, at, erasure.by, erasure.reason],
        );
        return true;
      });
      vault?.forget(id);
      // The old row versions still hold the wrapped key and envelope: rewrite both tables so their files do
      // not (the WAL keeps them until recycled: docs/privacy.md). Also on a repeated call, to finish a failed one.
      await db.query('VACUUM FULL patient_keys');
      await db.query('VACUUM FULL patients');
      const p = await get(id);
      if (!p) throw new StoreError('not-found', `no patient ${id}`, 'id');
      return erased ? { ...p, erasedAt: at } : p;
    },

    async checkKeys() {
      const { rows } = await db.query<{ key_service: string; n: number }>(
        `SELECT key_service, count(*)::int AS n FROM patient_keys WHERE wrapped_key IS NOT NULL
         GROUP BY key_service ORDER BY key_service`,
      );
      const foreign = rows.filter((r) => r.key_service !== vault?.keyServiceId);
      // The verifier (migration 014) also covers a database with no patient key yet.
      if (foreign.length === 0) return checkMasterKeyVerifier(db, vault?.keyService);
      const held = foreign.map((r) => `${r.n} by ${r.key_service}`).join(', ');
      throw new MasterKeyError(
        vault
          ? `this database holds patient keys wrapped by another master key (${held}); the configured master key is ${vault.keyServiceId}: start with the master key file this database was created with (--master-key-file or OPENIOMT_MASTER_KEY_FILE)`
          : `this database holds encrypted patient identities (${held}) but no key service is configured`,
      );
    },

    async sealClearIdentities() {
      const sealed = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{
          id: string;
          identifier: string | null;
          display_name: string | null;
        }>(
          `SELECT id, identifier, display_name FROM patients
           WHERE identifier IS NOT NULL OR display_name IS NOT NULL ORDER BY id FOR UPDATE`,
        );
        if (rows.length > 0 && !vault)
          throw new MasterKeyError(
            `${rows.length} patients hold identifying data in clear and no key service is configured to encrypt it`,
          );
        const at = nowIso();
        for (const r of rows) {
          const identity = compact({
            identifier: r.identifier ?? undefined,
            displayName: r.display_name ?? undefined,
          }) as PatientIdentity;
          const s = await sealFor(r.id, identity);
          await tx.query(
            `UPDATE patients SET identity = $2, identifier_index = $3, identifier = NULL, display_name = NULL
             WHERE id = $1`,
            [r.id, s.envelope, s.index],
          );
          await storeKey(tx, r.id, s.wrapped, at);
        }
        return rows.length;
      });
      // The clear values linger in dead row versions: rewrite the table so its files no longer hold them.
      if (sealed > 0) await db.query('VACUUM FULL patients');
      return sealed;
    },
  };
}
