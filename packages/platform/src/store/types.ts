/**
 * The storage port: what the rest of the platform asks of the database. Two adapters implement the
 * same SQL (PGlite embedded, PostgreSQL server); there is one schema and one set of queries.
 */
import type { Ed25519PublicJwk, RejectionCode, SecurityEventKind, SecuritySubsystem } from '@openiomt/core';
import type { AuditRepository } from '../audit/audit-log.ts';
import type { KeyService } from '../security/keys/key-service.ts';
import type { AccessRepository } from './access.ts';
import type { AlarmSettingsRepository } from './alarm-settings.ts';
import type { AlarmsRepository } from './alarms.ts';
import type { DerivedObservationsRepository } from './derived.ts';
import type { ErasureRequestsRepository } from './erasure-requests.ts';
import type { LatestVitalsRepository } from './latest-vitals.ts';
import type { MessagesRepository } from './messages.ts';
import type { PatientsRepository } from './patients.ts';
import type { SessionsRepository } from './sessions.ts';
import type { UsersRepository } from './users.ts';
import type { WebhooksRepository } from './webhooks.ts';

/** A parameterised SQL runner; both PGlite and node-postgres fit behind it. */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
}

export interface TransactionOptions {
  /**
   * Goes before other work waiting for a connection (never before work holding one). For what a person is
   * waiting on at once, such as an alarm; where connections are pooled (PostgreSQL) it changes nothing.
   */
  readonly urgent?: boolean;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction (BEGIN/COMMIT; ROLLBACK on throw). Transactions are serialised per connection. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

/** What identifies a patient: kept only encrypted under the patient's own key (store/patient-vault.ts). */
export interface PatientIdentity {
  /** An external identifier such as a hospital number; found again by exact match (blind index). */
  readonly identifier?: string;
  readonly displayName?: string;
  /** YYYY-MM-DD. */
  readonly birthDate?: string;
  readonly phone?: string;
  readonly email?: string;
  /** Postal address as one text. */
  readonly address?: string;
}

export interface Patient extends PatientIdentity {
  /** Pseudonymous (a random uuid by default): telemetry refers only to it. */
  readonly id: string;
  readonly createdAt: string;
  /** Set once the patient's identity was erased (its key destroyed); no identifying field remains. */
  readonly erasedAt?: string;
}

export type DeviceStatus = 'registered' | 'active' | 'revoked';

export interface Device {
  readonly id: string;
  readonly kind: string; // e.g. ecg-patch, pulse-oximeter, bp-cuff, thermometer, wearable, gateway
  readonly model?: string;
  readonly manufacturer?: string;
  readonly status: DeviceStatus;
  /** How often the device is expected to report, seconds; drives stale-data detection. */
  readonly expectedIntervalS: number;
  readonly createdAt: string;
  readonly revokedAt?: string;
  readonly revokedReason?: string;
  /** Set while quarantined: readings are refused (device-quarantined), keys stay valid until a release. */
  readonly quarantine?: DeviceQuarantine;
  readonly lastSeenAt?: string;
  readonly battery?: number;
  readonly firmware?: string;
  readonly highSeq: number;
}

export interface DeviceQuarantine {
  readonly at: string;
  readonly reason: string;
  /** A user id, or 'intrusion-detection'. */
  readonly by: string;
}

export interface DeviceKey {
  readonly kid: string; // RFC 7638 thumbprint
  readonly deviceId: string;
  readonly jwk: Ed25519PublicJwk;
  readonly createdAt: string;
  /** After this instant the key no longer verifies (set when a newer key replaces it; overlap window). */
  readonly notAfter?: string;
  readonly revokedAt?: string;
}

export interface Assignment {
  readonly id: string;
  readonly deviceId: string;
  readonly patientId: string;
  readonly from: string;
  /** Exclusive end; absent while current. */
  readonly to?: string;
  readonly createdAt: string;
}

/** A reading the ingest pipeline has verified and mapped, ready to be made durable. */
export interface ReadingToStore {
  readonly deviceId: string;
  readonly seq: number;
  readonly patientId: string;
  readonly kid: string;
  /** Device timestamp of the message (ISO). */
  readonly ts: string;
  readonly receivedAt: string;
  readonly via: 'mqtt' | 'https';
  /** The compact JWS exactly as received, so anyone can re-verify later. */
  readonly jws: string;
  /**
   * Index entries of the FHIR Observations made from it, for search. The resources themselves (and the
   * Provenance) are derived from the JWS on read, so the signed message is the only copy of the data.
   */
  readonly observations: readonly StoredObservation[];
  readonly status?: { battery?: number; firmware?: string };
}

export interface StoredObservation {
  readonly id: string;
  readonly code: string; // catalogue code, e.g. heart-rate, ecg-ii
  readonly effective: string; // ISO instant (start for waveforms)
}

/** Outcome of committing one reading: stored now, or a reading with that (device, seq) already existed. */
export type CommitOutcome =
  | { readonly stored: true }
  | { readonly stored: false; readonly existingJws: string };

export interface DeadLetter {
  readonly id: string;
  readonly receivedAt: string;
  readonly via: 'mqtt' | 'https';
  readonly deviceId?: string;
  readonly topic?: string;
  readonly reason: RejectionCode;
  readonly detail: string;
  readonly field?: string;
  /** The raw payload, base64 (it may not be text). */
  readonly payloadBase64: string;
}

export { SECURITY_EVENT_KINDS, type SecurityEventKind, type SecuritySubsystem } from '@openiomt/core';

export interface SecurityEvent {
  readonly id: string;
  readonly at: string;
  readonly kind: SecurityEventKind;
  readonly deviceId?: string;
  /** The network address the request or connection that caused it came from; never anything else. */
  readonly source?: string;
  /**
   * The part of the platform that raised it: intrusion detection (on nobody's request), or a device key's
   * enrolment or rotation (on the device's, whose address is the source). Absent for other requests' events.
   */
  readonly subsystem?: SecuritySubsystem;
  readonly detail: string;
}

export interface Page<T> {
  readonly items: T[];
  /** Opaque cursor for the next page, absent at the end. */
  readonly next?: string;
}

export interface ListQuery {
  readonly limit?: number;
  readonly cursor?: string;
  readonly deviceId?: string;
}

export interface ObservationQuery extends ListQuery {
  readonly patientId?: string;
  /** Any of these patients (a search narrowed to the patients the caller may see). */
  readonly patientIds?: readonly string[];
  readonly code?: string;
  /** Any of these index codes (a FHIR token resolved to codes); empty matches nothing. */
  readonly codes?: readonly string[];
  readonly from?: string;
  readonly to?: string;
}

/** Everything the platform keeps, grouped by the thing kept. All methods are safe to call concurrently. */
export interface Store {
  readonly db: Database;
  /** The key service that wraps patient data keys (and seals other secrets, e.g. TOTP). */
  readonly keys?: KeyService;
  migrate(): Promise<{ applied: string[] }>;
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Patients, their identity encrypted at rest (store/patients.ts). */
  patients: PatientsRepository;

  devices: {
    /** Registers a device and returns a one-time enrolment code (only its hash is kept). */
    register(d: {
      id: string;
      kind: string;
      model?: string;
      manufacturer?: string;
      expectedIntervalS?: number;
      enrolmentTtlS?: number;
    }): Promise<{ device: Device; enrolmentCode: string; enrolmentExpiresAt: string }>;
    get(id: string): Promise<Device | undefined>;
    /** The devices that exist among `ids` (one query for many). */
    getMany(ids: readonly string[]): Promise<Map<string, Device>>;
    /** status 'quarantined': quarantined devices that are not revoked (their status stays as it was). */
    list(q?: ListQuery & { status?: DeviceStatus | 'quarantined' }): Promise<Page<Device>>;
    /** Issues a fresh enrolment code (re-enrolment after loss of key). */
    newEnrolmentCode(
      id: string,
      ttlS?: number,
    ): Promise<{ enrolmentCode: string; enrolmentExpiresAt: string }>;
    /**
     * Consumes the enrolment code (single use, not expired) and stores the key; the device becomes active.
     * Throws StoreError('enrolment-invalid') otherwise, without saying which part was wrong.
     */
    enrol(id: string, enrolmentCode: string, jwk: Ed25519PublicJwk): Promise<DeviceKey>;
    /** Adds a new key; every other live key of the device stops verifying at overlapUntil. */
    rotateKey(id: string, jwk: Ed25519PublicJwk, overlapUntil: string): Promise<DeviceKey>;
    keys(id: string): Promise<DeviceKey[]>;
    keyByKid(kid: string): Promise<DeviceKey | undefined>;
    /** The keys that exist among `kids` (one query for many). */
    keysByKids(kids: readonly string[]): Promise<Map<string, DeviceKey>>;
    /**
     * The devices last seen at or after `since`, most recent first (at most `limit`), with all their keys:
     * what a restarted platform expects to hear from first.
     */
    recentlySeen(since: string, limit: number): Promise<{ devices: Device[]; keys: DeviceKey[] }>;
    revoke(id: string, reason: string): Promise<Device>;
    /** Throws not-found, or conflict when the device is revoked or already quarantined. */
    quarantine(id: string, q: { reason: string; by: string }): Promise<Device>;
    /** Lifts a quarantine; returns the device and the quarantine lifted. Conflict when not quarantined. */
    release(id: string): Promise<{ device: Device; lifted: DeviceQuarantine }>;
  };

  assignments: {
    /** Assigns from `from` (default now) until `to` (open when absent); overlapping periods are refused. */
    assign(a: { deviceId: string; patientId: string; from?: string; to?: string }): Promise<Assignment>;
    /** Ends the device's current assignment at `at` (default now). */
    end(deviceId: string, at?: string): Promise<Assignment | undefined>;
    history(deviceId: string): Promise<Assignment[]>;
    /** Each device's history as history() gives it, for many devices in one query (empty when none). */
    historyMany(deviceIds: readonly string[]): Promise<Map<string, Assignment[]>>;
    /** The patient the device was assigned to at instant `at`, if any. */
    patientAt(deviceId: string, at: string): Promise<string | undefined>;
    /** Active devices assigned to a patient at `at`: what the stale-data rules watch. */
    monitored(
      at: string,
    ): Promise<{ deviceId: string; patientId: string; expectedIntervalS: number; lastSeenAt?: string }[]>;
  };

  readings: {
    /** Makes a batch durable in one transaction; outcomes are in input order. */
    commit(batch: readonly ReadingToStore[]): Promise<CommitOutcome[]>;
    get(
      deviceId: string,
      seq: number,
    ): Promise<{ jws: string; patientId: string; receivedAt: string } | undefined>;
    /** Highest stored seq of the device (0 when none). */
    highSeq(deviceId: string): Promise<number>;
    count(deviceId?: string): Promise<number>;
    provenance(deviceId: string, seq: number): Promise<Record<string, unknown> | undefined>;
  };

  /** Device Observations (a view of the stored readings) and derived ones (derivedObservations), together. */
  observations: {
    list(q: ObservationQuery): Promise<Page<Record<string, unknown>>>;
    get(id: string): Promise<Record<string, unknown> | undefined>;
    /** The Provenance of an Observation of either kind: the reading's signature, or the derivation. */
    provenanceOf(observationId: string): Promise<Record<string, unknown> | undefined>;
  };

  /** Observations derived from waveforms, with their Provenance (derived.ts). */
  derivedObservations: DerivedObservationsRepository;

  deadLetters: {
    add(d: Omit<DeadLetter, 'id'>): Promise<DeadLetter>;
    /** Adds many in one transaction (the ingest path batches them). */
    addMany(d: readonly Omit<DeadLetter, 'id'>[]): Promise<void>;
    list(q?: ListQuery & { reason?: string }): Promise<Page<DeadLetter>>;
  };

  securityEvents: {
    add(e: Omit<SecurityEvent, 'id' | 'at'> & { at?: string }): Promise<SecurityEvent>;
    list(q?: ListQuery & { kind?: string; subsystem?: string }): Promise<Page<SecurityEvent>>;
    /** Calls the listener with every event this process records from now on (intrusion detection). */
    observe(listener: (e: SecurityEvent) => void): () => void;
  };

  /** Idempotency-Keys of HTTPS reading batches, per device. */
  idempotency: {
    /**
     * Records the key and says whether this device used it before and not earlier than `notBefore`
     * (an older use has expired and counts as new).
     */
    seenBefore(deviceId: string, key: string, now: string, notBefore: string): Promise<boolean>;
    /** Forgets keys first seen before `before`; returns how many. */
    prune(before: string): Promise<number>;
  };

  /** Care teams, caregiver grants, consent, break-glass: the facts of access decisions (access.ts). */
  access: AccessRepository;

  /** The tamper-evident audit log (audit/audit-log.ts); callers in a transaction use recordAudit(tx, …). */
  audit: AuditRepository;

  /** Alarms with their transitions and notifications (alarms.ts). */
  alarms: AlarmsRepository;
  /** Per-patient thresholds and NEWS2 scale (alarm-settings.ts). */
  alarmSettings: AlarmSettingsRepository;
  /** Latest stored values of vital signs (latest-vitals.ts). */
  vitals: LatestVitalsRepository;

  /** Administrator credentials: only hashes are kept. */
  credentials: {
    /** True when no administrator credential exists yet (first start). */
    isEmpty(): Promise<boolean>;
    add(c: { name: string; tokenHash: string }): Promise<void>;
    /** Sets the named credential's hash, creating it when absent (a process-local credential renewed at start). */
    put(c: { name: string; tokenHash: string }): Promise<void>;
    /** The credential name whose hash matches, if any. */
    findByHash(tokenHash: string): Promise<string | undefined>;
  };

  /** Webhook subscriptions and their delivery outbox (store/webhooks.ts). */
  webhooks: WebhooksRepository;

  /** People's accounts (store/users.ts) and their browser sessions (store/sessions.ts). */
  users: UsersRepository;
  sessions: SessionsRepository;

  /** Secure messages between a patient and their care team, sealed under the patient's key (messages.ts). */
  messages: MessagesRepository;
  /** Patients' requests to be erased (erasure-requests.ts). */
  erasureRequests: ErasureRequestsRepository;
}

export type StoreErrorCode = 'not-found' | 'conflict' | 'enrolment-invalid' | 'invalid';

/** A refusal the caller can show (HTTP 404/409/400); never carries patient data. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** Why an enrolment code was refused, for the security event only: the caller is told none of this. */
export type EnrolmentRefusal =
  | 'unknown device'
  | 'device revoked'
  | 'no enrolment code outstanding (already used, or none issued)'
  | 'wrong enrolment code'
  | 'enrolment code expired';

/** The one refusal of an enrolment code (`enrolment-invalid`), carrying the reason for the security event. */
export class EnrolmentRefused extends StoreError {
  constructor(readonly reason: EnrolmentRefusal) {
    super('enrolment-invalid', 'enrolment code is not valid for this device');
    this.name = 'EnrolmentRefused';
  }
}
