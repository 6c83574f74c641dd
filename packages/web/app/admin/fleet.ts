/**
 * The device fleet as the admin console shows it: a device's status from its registration state (revoked,
 * quarantined), when it was last heard from and how often it should report (the same thresholds as the
 * platform's live census: silent for more than 2 expected intervals is stale, more than 10 offline), the
 * table's filters, and what the enrolment QR code holds.
 */

/** A device as `GET /api/v1/admin/devices` lists it. */
export interface Device {
  readonly id: string;
  readonly kind: string;
  readonly model?: string;
  readonly manufacturer?: string;
  readonly status: 'registered' | 'active' | 'revoked';
  readonly expectedIntervalS: number;
  readonly createdAt: string;
  readonly revokedAt?: string;
  readonly revokedReason?: string;
  /** Set while quarantined: its readings are refused (and kept) until released; its keys stay valid. */
  readonly quarantine?: { readonly at: string; readonly reason: string; readonly by: string };
  readonly lastSeenAt?: string;
  readonly battery?: number;
  readonly firmware?: string;
  readonly highSeq: number;
}

export interface Assignment {
  readonly id: string;
  readonly deviceId: string;
  readonly patientId: string;
  readonly from: string;
  readonly to?: string;
  readonly createdAt: string;
}

export const DEVICE_KINDS = [
  'ecg-patch',
  'pulse-oximeter',
  'bp-cuff',
  'thermometer',
  'wearable',
  'monitor',
  'gateway',
  'other',
] as const;

/** The platform's rule for device ids (core DEVICE_ID_PATTERN). */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type FleetStatus = 'online' | 'stale' | 'offline' | 'never' | 'quarantined' | 'revoked';

export const STALE_AFTER_INTERVALS = 2;
export const OFFLINE_AFTER_INTERVALS = 10;

export const FLEET_STATUS_TEXT: Readonly<Record<FleetStatus, string>> = {
  online: 'online',
  stale: 'stale',
  offline: 'offline',
  never: 'never seen',
  quarantined: 'quarantined',
  revoked: 'revoked',
};

/** A symbol beside the word, so the status never rests on colour. */
export const FLEET_STATUS_MARK: Readonly<Record<FleetStatus, string>> = {
  online: '●',
  stale: '◐',
  offline: '○',
  never: '–',
  quarantined: '⊘',
  revoked: '✕',
};

export function fleetStatus(
  d: Pick<Device, 'status' | 'lastSeenAt' | 'expectedIntervalS' | 'quarantine'>,
  now: number,
): FleetStatus {
  if (d.status === 'revoked') return 'revoked';
  if (d.quarantine) return 'quarantined';
  const seen = d.lastSeenAt === undefined ? Number.NaN : Date.parse(d.lastSeenAt);
  if (!Number.isFinite(seen)) return 'never';
  const silentMs = now - seen;
  const intervalMs = Math.max(1, d.expectedIntervalS) * 1000;
  if (silentMs > OFFLINE_AFTER_INTERVALS * intervalMs) return 'offline';
  if (silentMs > STALE_AFTER_INTERVALS * intervalMs) return 'stale';
  return 'online';
}

export interface FleetFilter {
  /** '' for any. */
  readonly status: FleetStatus | '';
  readonly kind: string;
  /** Part of the id, model, manufacturer or firmware, any case. */
  readonly text: string;
}

export const NO_FILTER: FleetFilter = { status: '', kind: '', text: '' };

export function filterFleet(devices: readonly Device[], f: FleetFilter, now: number): Device[] {
  const text = f.text.trim().toLowerCase();
  return devices.filter(
    (d) =>
      (f.status === '' || fleetStatus(d, now) === f.status) &&
      (f.kind === '' || d.kind === f.kind) &&
      (text === '' ||
        [d.id, d.model, d.manufacturer, d.firmware].some((v) => v?.toLowerCase().includes(text))),
  );
}

/** How many devices are in each status, for the summary above the table. */
export function countByStatus(devices: readonly Device[], now: number): Record<FleetStatus, number> {
  const counts: Record<FleetStatus, number> = {
    online: 0,
    stale: 0,
    offline: 0,
    never: 0,
    quarantined: 0,
    revoked: 0,
  };
  for (const d of devices) counts[fleetStatus(d, now)]++;
  return counts;
}

/** "Every 30 s", "every 5 min", "every 2 h". */
export function intervalText(seconds: number): string {
  if (seconds % 3600 === 0) return `every ${seconds / 3600} h`;
  if (seconds % 60 === 0) return `every ${seconds / 60} min`;
  return `every ${seconds} s`;
}

/** What the enrolment QR code holds: the device (or its installer app) reads where to enrol and how. */
export function enrolmentPayload(platform: string, device: string, enrolmentCode: string): string {
  return JSON.stringify({ platform, device, enrolmentCode });
}

/** The register body from the form's text fields; the problem and its field when one is wrong. */
export function registerBody(form: {
  id: string;
  kind: string;
  model: string;
  manufacturer: string;
  expectedIntervalS: string;
}):
  | {
      ok: true;
      body: { id: string; kind: string; model?: string; manufacturer?: string; expectedIntervalS?: number };
    }
  | { ok: false; field: string; problem: string } {
  const id = form.id.trim();
  if (!DEVICE_ID_PATTERN.test(id))
    return {
      ok: false,
      field: 'id',
      problem: 'Use 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.',
    };
  if (!(DEVICE_KINDS as readonly string[]).includes(form.kind))
    return { ok: false, field: 'kind', problem: 'Choose the kind of device.' };
  const interval = form.expectedIntervalS.trim();
  const n = interval === '' ? undefined : Number(interval);
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 86_400))
    return { ok: false, field: 'expectedIntervalS', problem: 'A whole number of seconds, 1 to 86400.' };
  const model = form.model.trim();
  const manufacturer = form.manufacturer.trim();
  return {
    ok: true,
    body: {
      id,
      kind: form.kind,
      ...(model ? { model } : {}),
      ...(manufacturer ? { manufacturer } : {}),
      ...(n !== undefined ? { expectedIntervalS: n } : {}),
    },
  };
}
