/**
 * Patient identity at rest, on each backend: what the database holds is ciphertext and HMACs only; a
 * ciphertext moved or altered does not open; the wrong master key is recognised; erasure is final.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KeyService, MasterKeyError } from '../security/keys/key-service.ts';
import { memoryKeyService } from '../security/keys/master-key-file.ts';
import { PatientVault } from './patient-vault.ts';
import { storeOn } from './store.ts';
import { type DisposableStore, openLegacyDatabase, storeBackends } from './testing.ts';
import { type Database, StoreError } from './types.ts';

const uid = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

interface RawPatient {
  identifier: string | null;
  display_name: string | null;
  identity: Uint8Array | null;
  identifier_index: Uint8Array | null;
  erased_at: string | null;
  erasure_reason: string | null;
}

const raw = async (db: Database, id: string) =>
  (
    await db.query<RawPatient>(
      'SELECT identifier, display_name, identity, identifier_index, erased_at, erasure_reason FROM patients WHERE id = $1',
      [id],
    )
  ).rows[0] as RawPatient;

const rawKey = async (db: Database, id: string) =>
  (
    await db.query<{ wrapped_key: Uint8Array | null; destroyed_at: string | null; key_service: string }>(
      'SELECT wrapped_key, destroyed_at, key_service FROM patient_keys WHERE patient_id = $1',
      [id],
    )
  ).rows[0];

const identity = (marker: string) => ({
  identifier: `MRN-${marker}`,
  displayName: `Ada ${marker}`,
  birthDate: '1950-02-28',
  phone: '+44 20 7946 0000',
  email: `${marker}@example.org`,
  address: `1 ${marker} Street`,
});

describe.each(storeBackends())('patient identity at rest on $name', ({ name, open }) => {
  let store: DisposableStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.dispose();
  });

  it('round-trips every identifying field, while the database holds only ciphertext', async () => {
    const marker = randomBytes(8).toString('hex');
    const id = uid('pat');
    const created = await store.patients.create({ id, ...identity(marker) });
    expect(created).toMatchObject({ id, ...identity(marker) });
    expect(await store.patients.get(id)).toEqual(created);
    const row = await raw(store.db, id);
    expect(row.identifier).toBeNull();
    expect(row.display_name).toBeNull();
    const bytes = Buffer.from(row.identity as Uint8Array);
    expect(bytes[0]).toBe(1);
    expect(bytes.length % 64).toBe(29); // padded document + 29 bytes of envelope
    expect(bytes.includes(Buffer.from(marker))).toBe(false);
    expect(Buffer.from(row.identifier_index as Uint8Array)).toHaveLength(32);
    const key = await rawKey(store.db, id);
    expect(key?.wrapped_key).toHaveLength(1 + 12 + 32 + 16);
    expect(key?.destroyed_at).toBeNull();
    // Without the key service the same row cannot be read at all.
    await expect(storeOn(store.db).patients.get(id)).rejects.toThrow(/no key service is configured/);
  });

  it('a pseudonymous patient needs no key; an identity with no key service is refused', async () => {
    const bare = storeOn(store.db);
    const p = await bare.patients.create({});
    expect(Object.keys(p).sort()).toEqual(['createdAt', 'id']);
    expect(await rawKey(store.db, p.id)).toBeUndefined();
    await expect(bare.patients.create({ displayName: 'someone' })).rejects.toThrow(MasterKeyError);
  });

  it("an identity moved onto another patient does not open under that patient's key", async () => {
    const a = await store.patients.create({ id: uid('a'), displayName: 'A' });
    const b = await store.patients.create({ id: uid('b'), displayName: 'B' });
    await store.db.query(
      'UPDATE patients SET identity = (SELECT identity FROM patients WHERE id = $1) WHERE id = $2',
      [a.id, b.id],
    );
    await expect(store.patients.get(b.id)).rejects.toThrow(/identity of patient b-.* cannot be decrypted/);
  });

  it('a wrapped key moved onto another patient does not unwrap', async () => {
    const keys = memoryKeyService();
    const s = storeOn(store.db, { keys });
    // This vault's own checks would refuse the other master key's rows; use ids it alone created.
    const a = await s.patients.create({ id: uid('ka'), displayName: 'A' });
    const b = await s.patients.create({ id: uid('kb'), displayName: 'B' });
    await store.db.query(
      `UPDATE patient_keys SET wrapped_key = (SELECT wrapped_key FROM patient_keys WHERE patient_id = $1)
       WHERE patient_id = $2`,
      [a.id, b.id],
    );
    const cold = storeOn(store.db, { keys });
    await expect(cold.patients.get(b.id)).rejects.toThrow(/cannot unwrap the data key of kb-/);
    await expect(cold.patients.get(a.id)).resolves.toMatchObject({ displayName: 'A' });
  });

  it('a tampered ciphertext does not open', async () => {
    const keys = memoryKeyService();
    const s = storeOn(store.db, { keys });
    const p = await s.patients.create({ id: uid('t'), displayName: 'Tampered' });
    const row = await raw(store.db, p.id);
    const bad = Buffer.from(row.identity as Uint8Array);
    bad[20] = (bad[20] as number) ^ 0x40;
    await store.db.query('UPDATE patients SET identity = $2 WHERE id = $1', [p.id, bad]);
    await expect(storeOn(store.db, { keys }).patients.get(p.id)).rejects.toThrow(
      /cannot be decrypted: envelope does not authenticate/,
    );
  });

  it('finds patients by identifier through the blind index, exactly', async () => {
    const mrn = `MRN-${randomBytes(4).toString('hex')}`;
    const one = await store.patients.create({ identifier: mrn, displayName: 'One' });
    const two = await store.patients.create({ identifier: mrn, displayName: 'Two' });
    await store.patients.create({ identifier: `${mrn}0`, displayName: 'Other' });
    expect((await store.patients.findByIdentifier(mrn)).map((p) => p.id)).toEqual([one.id, two.id]);
    expect((await store.patients.findByIdentifier(`  ${mrn} `)).map((p) => p.id)).toEqual([one.id, two.id]);
    expect(await store.patients.findByIdentifier(mrn.toLowerCase())).toEqual([]);
    expect(await store.patients.findByIdentifier('')).toEqual([]);
    // The index is keyed: the plain SHA-256 of the identifier is not what is stored.
    const row = await raw(store.db, one.id);
    expect(
      Buffer.from(row.identifier_index as Uint8Array).equals(createHash('sha256').update(mrn).digest()),
    ).toBe(false);
  });

  it('erasure destroys the key and the identity for good; the patient stays a pseudonymous tombstone', async () => {
    const keys = memoryKeyService();
    const s = storeOn(store.db, { keys });
    const marker = randomBytes(8).toString('hex');
    const p = await s.patients.create({ id: uid('erase'), ...identity(marker) });
    const before = await raw(store.db, p.id);
    const erased = await s.patients.erase(p.id, { reason: 'request ER-1', by: 'admin' });
    expect(erased).toEqual({ id: p.id, createdAt: p.createdAt, erasedAt: erased.erasedAt });
    expect(await s.patients.get(p.id)).toEqual(erased);
    const after = await raw(store.db, p.id);
    expect(after).toMatchObject({
      identifier: null,
      display_name: null,
      identity: null,
      identifier_index: null,
      erasure_reason: 'request ER-1',
    });
    const key = await rawKey(store.db, p.id);
    expect(key?.wrapped_key).toBeNull();
    expect(key?.destroyed_at).toBe(erased.erasedAt);
    // Even with the master key, a fresh process (no cached key) has nothing to decrypt, and the old
    // envelope put back cannot be opened: its data key no longer exists anywhere.
    const restarted = storeOn(store.db, { keys });
    expect(await restarted.patients.get(p.id)).toEqual(erased);
    expect(await restarted.patients.findByIdentifier(`MRN-${marker}`)).toEqual([]);
    await expect(
      store.db.query('UPDATE patients SET identity = $2 WHERE id = $1', [p.id, before.identity]),
    ).rejects.toThrow(/patients_erased_has_no_identity/);
    // Erasing again changes nothing; unknown patients and missing reasons are refused.
    expect(await s.patients.erase(p.id, { reason: 'again', by: 'admin' })).toEqual(erased);
    expect((await raw(store.db, p.id)).erasure_reason).toBe('request ER-1');
    await expect(s.patients.erase(uid('none'), { reason: 'x', by: 'admin' })).rejects.toMatchObject({
      code: 'not-found',
    });
    await expect(s.patients.erase(p.id, { reason: '  ', by: 'admin' })).rejects.toBeInstanceOf(StoreError);
  });

  it('a database opened with another master key is refused at start, with what to do', async () => {
    const keys = memoryKeyService();
    const s = storeOn(store.db, { keys });
    await s.patients.create({ displayName: 'Held by another key' });
    await expect(s.migrate()).rejects.toThrow(
      /patient keys wrapped by another master key \(\d+ by memory:[0-9a-f]{16}.*start with the master key file this database was created with/,
    );
    await expect(storeOn(store.db).migrate()).rejects.toThrow(/no key service is configured/);
  });

  it('refuses clear identity columns from now on (the database enforces it)', async () => {
    await expect(
      store.db.query(`INSERT INTO patients (id, display_name, created_at) VALUES ($1, 'x', now())`, [
        uid('c'),
      ]),
    ).rejects.toThrow(/patients_no_clear_identity/);
  });

  it(`encrypts identities left in clear by an older version at start (${name})`, async () => {
    const legacy = await openLegacyDatabase(name, '005');
    try {
      const marker = randomBytes(8).toString('hex');
      await legacy.db.query(
        `INSERT INTO patients (id, identifier, display_name, created_at) VALUES
           ('old-1', $1, $2, now()), ('old-2', NULL, 'Bed 2', now()), ('old-3', NULL, NULL, now())`,
        [`MRN-${marker}`, `Name ${marker}`],
      );
      const keys = memoryKeyService();
      const upgraded = storeOn(legacy.db, { keys });
      await upgraded.migrate();
      const { rows } = await legacy.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM patients WHERE identifier IS NOT NULL OR display_name IS NOT NULL
            OR position(convert_to($1, 'UTF8') in coalesce(identity, ''::bytea)) > 0`,
        [marker],
      );
      expect(rows[0]?.n).toBe(0);
      expect(await upgraded.patients.get('old-1')).toMatchObject({
        identifier: `MRN-${marker}`,
        displayName: `Name ${marker}`,
      });
      expect(await upgraded.patients.get('old-2')).toMatchObject({ displayName: 'Bed 2' });
      expect(Object.keys((await upgraded.patients.get('old-3')) ?? {}).sort()).toEqual(['createdAt', 'id']);
      expect((await upgraded.patients.findByIdentifier(`MRN-${marker}`)).map((p) => p.id)).toEqual(['old-1']);
      // The constraint now holds for every row, old ones included.
      await legacy.db.query('ALTER TABLE patients VALIDATE CONSTRAINT patients_no_clear_identity');
      expect(await upgraded.patients.sealClearIdentities()).toBe(0);
    } finally {
      await legacy.dispose();
    }
  });
});

describe('patient vault', () => {
  it("binds an identity to its patient: the same data key does not open it as another patient's", () => {
    const vault = new PatientVault(memoryKeyService());
    const key = randomBytes(32);
    const sealed = vault.sealIdentity('p-a', key, { displayName: 'A' });
    expect(vault.openIdentity('p-a', key, sealed)).toEqual({ displayName: 'A' });
    expect(() => vault.openIdentity('p-b', key, sealed)).toThrow(MasterKeyError);
  });

  it('keeps unwrapped keys only for their lifetime and only up to its size', async () => {
    let now = 0;
    const keys = memoryKeyService();
    const vault = new PatientVault(keys, { cacheTtlMs: 1000, cacheMax: 2, now: () => now });
    const made = await Promise.all(['p1', 'p2', 'p3'].map((id) => vault.newDataKey(id)));
    let unwraps = 0;
    // The real key service, counting how often it is asked to unwrap.
    const counting: KeyService = {
      id: keys.id,
      wrap: (k, c) => keys.wrap(k, c),
      unwrap: async (w, c) => {
        unwraps++;
        return keys.unwrap(w, c);
      },
      deriveKey: (p) => keys.deriveKey(p),
    };
    const v = new PatientVault(counting, { cacheTtlMs: 1000, cacheMax: 2, now: () => now });
    await v.dataKey('p1', made[0]!.wrapped, keys.id);
    await v.dataKey('p1', made[0]!.wrapped, keys.id);
    expect(unwraps).toBe(1);
    await v.dataKey('p2', made[1]!.wrapped, keys.id);
    await v.dataKey('p3', made[2]!.wrapped, keys.id); // p1 is dropped: two at most
    await v.dataKey('p1', made[0]!.wrapped, keys.id);
    expect(unwraps).toBe(4);
    now += 1001;
    await v.dataKey('p1', made[0]!.wrapped, keys.id);
    expect(unwraps).toBe(5);
    expect(vault.keyServiceId).toBe(keys.id);
  });
});
