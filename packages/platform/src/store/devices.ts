import { DEVICE_ID_PATTERN, type Ed25519PublicJwk, isEd25519PublicJwk, jwkThumbprint } from '@openiomt/core';
import {
  DEFAULT_ENROLMENT_TTL_S,
  enrolmentCodeMatches,
  hashEnrolmentCode,
  newEnrolmentCode,
} from './enrolment.ts';
import {
  compact,
  decodeCursor,
  nowIso,
  pageLimit,
  requireInstant,
  sqlState,
  toPage,
  UNIQUE_VIOLATION,
  Where,
} from './sql.ts';
import {
  type Database,
  type Device,
  type DeviceKey,
  type DeviceQuarantine,
  EnrolmentRefused,
  type Queryable,
  type Store,
  StoreError,
} from './types.ts';

interface DeviceRow {
  id: string;
  kind: string;
  model: string | null;
  manufacturer: string | null;
  status: Device['status'];
  expected_interval_s: number;
  created_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
  quarantined_at: string | null;
  quarantine_reason: string | null;
  quarantined_by: string | null;
  last_seen_at: string | null;
  battery: number | null;
  firmware: string | null;
  high_seq: number;
}

interface KeyRow {
  kid: string;
  device_id: string;
  jwk: Ed25519PublicJwk;
  created_at: string;
  not_after: string | null;
  revoked_at: string | null;
}

const DEVICE_COLUMNS = `id, kind, model, manufacturer, status, expected_interval_s, created_at, revoked_at,
  revoked_reason, quarantined_at, quarantine_reason, quarantined_by, last_seen_at, battery, firmware, high_seq`;
const KEY_COLUMNS = 'kid, device_id, jwk, created_at, not_after, revoked_at';
const DEFAULT_EXPECTED_INTERVAL_S = 60;
const NO_HASH = new Uint8Array(32);

const toDevice = (r: DeviceRow): Device =>
  compact({
    id: r.id,
    kind: r.kind,
    model: r.model ?? undefined,
    manufacturer: r.manufacturer ?? undefined,
    status: r.status,
    expectedIntervalS: r.expected_interval_s,
    createdAt: r.created_at,
    revokedAt: r.revoked_at ?? undefined,
    revokedReason: r.revoked_reason ?? undefined,
    quarantine: quarantineOf(r),
    lastSeenAt: r.last_seen_at ?? undefined,
    battery: r.battery ?? undefined,
    firmware: r.firmware ?? undefined,
    highSeq: r.high_seq,
  });

const quarantineOf = (r: DeviceRow): DeviceQuarantine | undefined =>
  r.quarantined_at === null
    ? undefined
    : { at: r.quarantined_at, reason: r.quarantine_reason ?? '', by: r.quarantined_by ?? '' };

const toKey = (r: KeyRow): DeviceKey =>
  compact({
    kid: r.kid,
    deviceId: r.device_id,
    jwk: { kty: r.jwk.kty, crv: r.jwk.crv, x: r.jwk.x },
    createdAt: r.created_at,
    notAfter: r.not_after ?? undefined,
    revokedAt: r.revoked_at ?? undefined,
  });

function expiryIn(ttlS: number | undefined): string {
  const ttl = ttlS ?? DEFAULT_ENROLMENT_TTL_S;
  if (!Number.isInteger(ttl) || ttl < 1)
    throw new StoreError('invalid', 'enrolment TTL must be a positive number of seconds', 'enrolmentTtlS');
  return new Date(Date.now() + ttl * 1000).toISOString();
}

function requireJwk(jwk: Ed25519PublicJwk): Ed25519PublicJwk {
  if (!isEd25519PublicJwk(jwk))
    throw new StoreError('invalid', 'key must be an Ed25519 public JWK (kty OKP, crv Ed25519, x)', 'jwk');
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
}

/** Reads and locks the device row for the rest of the transaction. */
async function lockDevice(tx: Queryable, id: string) {
  const { rows } = await tx.query<{
    status: Device['status'];
    hash: Uint8Array | null;
    expires: string | null;
  }>(
    `SELECT status, enrolment_code_hash AS hash, enrolment_expires_at AS expires
       FROM devices WHERE id = $1 FOR UPDATE`,
    [id],
  );
  return rows[0];
}

async function insertKey(
  tx: Queryable,
  deviceId: string,
  jwk: Ed25519PublicJwk,
  at: string,
): Promise<DeviceKey> {
  const kid = jwkThumbprint(jwk);
  try {
    const { rows } = await tx.query<KeyRow>(
      `INSERT INTO device_keys (kid, device_id, jwk, created_at) VALUES ($1, $2, $3::text::jsonb, $4)
       RETURNING ${KEY_COLUMNS}`,
      [kid, deviceId, JSON.stringify(jwk), at],
    );
    return toKey(rows[0]!);
  } catch (e) {
    if (sqlState(e) === UNIQUE_VIOLATION)
      throw new StoreError('conflict', 'this key is already enrolled', 'jwk');
    throw e;
  }
}

export function devicesRepository(db: Database): Store['devices'] {
  const keysByKids = async (kids: readonly string[]) => {
    const { rows } = await db.query<KeyRow>(
      `SELECT ${KEY_COLUMNS} FROM device_keys WHERE kid = ANY($1::text[])`,
      [[...kids]],
    );
    return new Map(rows.map((r) => [r.kid, toKey(r)]));
  };
  const get = async (id: string) => {
    const { rows } = await db.query<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : toDevice(rows[0]);
  };

  return {
    async register(d) {
      if (!DEVICE_ID_PATTERN.test(d.id))
        throw new StoreError('invalid', 'device id must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}', 'id');
      const interval = d.expectedIntervalS ?? DEFAULT_EXPECTED_INTERVAL_S;
      if (!Number.isInteger(interval) || interval < 1)
        throw new StoreError(
          'invalid',
          'expected interval must be a positive number of seconds',
          'expectedIntervalS',
        );
      const enrolmentCode = newEnrolmentCode();
      const enrolmentExpiresAt = expiryIn(d.enrolmentTtlS);
      try {
        const { rows } = await db.query<DeviceRow>(
          `INSERT INTO devices (id, kind, model, manufacturer, status, expected_interval_s, enrolment_code_hash,
                                enrolment_expires_at, created_at)
           VALUES ($1, $2, $3, $4, 'registered', $5, $6, $7, $8) RETURNING ${DEVICE_COLUMNS}`,
          [
            d.id,
            d.kind,
            d.model ?? null,
            d.manufacturer ?? null,
            interval,
            hashEnrolmentCode(enrolmentCode),
            enrolmentExpiresAt,
            nowIso(),
          ],
        );
        return { device: toDevice(rows[0]!), enrolmentCode, enrolmentExpiresAt };
      } catch (e) {
        if (sqlState(e) === UNIQUE_VIOLATION) throw new StoreError('conflict', `device ${d.id} exists`, 'id');
        throw e;
      }
    },

    get,

    async list(q = {}) {
      const limit = pageLimit(q.limit);
      const where = new Where();
      if (q.status === 'quarantined') where.add('quarantined_at IS NOT NULL AND status <> ?', 'revoked');
      else if (q.status !== undefined) where.add('status = ?', q.status);
      if (q.cursor !== undefined) where.after('created_at', 'id', decodeCursor(q.cursor), 'asc');
      const { rows } = await db.query<DeviceRow>(
        `SELECT ${DEVICE_COLUMNS} FROM devices ${where} ORDER BY created_at, id LIMIT ${where.param(limit + 1)}`,
        where.params,
      );
      return toPage(rows, limit, toDevice, (r) => ({ at: r.created_at, id: r.id }));
    },

    async newEnrolmentCode(id, ttlS) {
      const enrolmentCode = newEnrolmentCode();
      const enrolmentExpiresAt = expiryIn(ttlS);
      const { rows } = await db.query<{ status: string }>(
        `UPDATE devices SET enrolment_code_hash = CASE WHEN status = 'revoked' THEN NULL ELSE $2::bytea END,
                            enrolment_expires_at = CASE WHEN status = 'revoked' THEN NULL ELSE $3::timestamptz END
          WHERE id = $1 RETURNING status`,
        [id, hashEnrolmentCode(enrolmentCode), enrolmentExpiresAt],
      );
      if (rows[0] === undefined) throw new StoreError('not-found', `no device ${id}`, 'id');
      if (rows[0].status === 'revoked') throw new StoreError('conflict', `device ${id} is revoked`, 'id');
      return { enrolmentCode, enrolmentExpiresAt };
    },

    async enrol(id, enrolmentCode, jwk) {
      const key = requireJwk(jwk);
      return db.transaction(async (tx) => {
        const device = await lockDevice(tx, id);
        // The hash comparison runs even when there is nothing to compare with, and every refusal is the
        // same error and message, so neither timing nor answer tells which part was wrong (the reason it
        // carries is for the security event alone).
        const matches = enrolmentCodeMatches(enrolmentCode, device?.hash ?? NO_HASH);
        const hashOk = matches && device?.hash != null;
        const live = device?.expires != null && Date.parse(device.expires) > Date.now();
        if (device === undefined) throw new EnrolmentRefused('unknown device');
        if (device.status === 'revoked') throw new EnrolmentRefused('device revoked');
        if (device.hash == null)
          throw new EnrolmentRefused('no enrolment code outstanding (already used, or none issued)');
        if (!hashOk) throw new EnrolmentRefused('wrong enrolment code');
        if (!live) throw new EnrolmentRefused('enrolment code expired');
        const at = nowIso();
        await tx.query(
          `UPDATE devices SET status = 'active', enrolment_code_hash = NULL, enrolment_expires_at = NULL
            WHERE id = $1`,
          [id],
        );
        // Re-enrolment follows loss of the device's key: keys enrolled before stop verifying now.
        await tx.query('UPDATE device_keys SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL', [
          id,
          at,
        ]);
        return insertKey(tx, id, key, at);
      });
    },

    async rotateKey(id, jwk, overlapUntil) {
      const key = requireJwk(jwk);
      requireInstant(overlapUntil, 'overlapUntil');
      return db.transaction(async (tx) => {
        const device = await lockDevice(tx, id);
        if (device === undefined) throw new StoreError('not-found', `no device ${id}`, 'id');
        if (device.status !== 'active')
          throw new StoreError('conflict', `device ${id} is ${device.status}, not active`, 'id');
        const at = nowIso();
        // Live keys end at overlapUntil, unless they were already due to end sooner.
        await tx.query(
          `UPDATE device_keys SET not_after = $2::timestamptz
            WHERE device_id = $1 AND revoked_at IS NULL
              AND (not_after IS NULL OR not_after > $2::timestamptz)`,
          [id, overlapUntil],
        );
        return insertKey(tx, id, key, at);
      });
    },

    async keys(id) {
      const { rows } = await db.query<KeyRow>(
        `SELECT ${KEY_COLUMNS} FROM device_keys WHERE device_id = $1 ORDER BY created_at, kid`,
        [id],
      );
      return rows.map(toKey);
    },

    keyByKid: async (kid) => (await keysByKids([kid])).get(kid),
    keysByKids,

    async recentlySeen(since, limit) {
      const { rows } = await db.query<DeviceRow>(
        `SELECT ${DEVICE_COLUMNS} FROM devices WHERE last_seen_at >= $1::timestamptz
          ORDER BY last_seen_at DESC, id LIMIT $2`,
        [requireInstant(since, 'since'), limit],
      );
      const keys = await db.query<KeyRow>(
        `SELECT ${KEY_COLUMNS} FROM device_keys WHERE device_id = ANY($1::text[]) ORDER BY device_id, created_at, kid`,
        [rows.map((r) => r.id)],
      );
      return { devices: rows.map(toDevice), keys: keys.rows.map(toKey) };
    },

    async getMany(ids) {
      const { rows } = await db.query<DeviceRow>(
        `SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ANY($1::text[])`,
        [[...ids]],
      );
      return new Map(rows.map((r) => [r.id, toDevice(r)]));
    },

    async revoke(id, reason) {
      return db.transaction(async (tx) => {
        const at = nowIso();
        const { rows } = await tx.query<DeviceRow>(
          `UPDATE devices SET status = 'revoked', revoked_at = $2, revoked_reason = $3,
                              enrolment_code_hash = NULL, enrolment_expires_at = NULL
            WHERE id = $1 AND status <> 'revoked' RETURNING ${DEVICE_COLUMNS}`,
          [id, at, reason],
        );
        if (rows[0] === undefined) {
          // A second revocation would log a second security event for one act: refused, naming the first.
          const found = await tx.query<{ revoked_at: string }>(
            'SELECT revoked_at FROM devices WHERE id = $1',
            [id],
          );
          const first = found.rows[0];
          if (!first) throw new StoreError('not-found', `no device ${id}`, 'id');
          throw new StoreError('conflict', `device ${id} was revoked already at ${first.revoked_at}`, 'id');
        }
        await tx.query('UPDATE device_keys SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL', [
          id,
          at,
        ]);
        return toDevice(rows[0]);
      });
    },

    async quarantine(id, q) {
      const { rows } = await db.query<DeviceRow>(
        `UPDATE devices SET quarantined_at = $2, quarantine_reason = $3, quarantined_by = $4
          WHERE id = $1 AND status <> 'revoked' AND quarantined_at IS NULL RETURNING ${DEVICE_COLUMNS}`,
        [id, nowIso(), q.reason, q.by],
      );
      if (rows[0] !== undefined) return toDevice(rows[0]);
      const d = await get(id);
      if (!d) throw new StoreError('not-found', `no device ${id}`, 'id');
      throw new StoreError(
        'conflict',
        d.status === 'revoked' ? `device ${id} is revoked` : `device ${id} is already quarantined`,
        'id',
      );
    },

    async release(id) {
      return db.transaction(async (tx) => {
        const { rows: before } = await tx.query<DeviceRow>(
          `SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1 FOR UPDATE`,
          [id],
        );
        const lifted = before[0] === undefined ? undefined : quarantineOf(before[0]);
        if (before[0] === undefined) throw new StoreError('not-found', `no device ${id}`, 'id');
        if (lifted === undefined) throw new StoreError('conflict', `device ${id} is not quarantined`, 'id');
        const { rows } = await tx.query<DeviceRow>(
          `UPDATE devices SET quarantined_at = NULL, quarantine_reason = NULL, quarantined_by = NULL
            WHERE id = $1 RETURNING ${DEVICE_COLUMNS}`,
          [id],
        );
        return { device: toDevice(rows[0]!), lifted };
      });
    },
  };
}
