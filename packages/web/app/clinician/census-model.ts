/**
 * The census as data: live messages folded into rows, device status from silence, ranking by urgency and
 * the filter. Pure (no DOM; `now` is an argument), so the same rules are unit-tested and drawn. A message
 * returns a new row object only when something shown changed, so unchanged rows are not drawn again.
 */
import type { AlarmCounts, CensusDevice, CensusRow, DeviceStatus, LiveMessage } from './live-types.ts';

/** No message for more than this many expected intervals: stale; beyond OFFLINE: offline (as the server). */
export const STALE_AFTER_INTERVALS = 2;
export const OFFLINE_AFTER_INTERVALS = 10;

export function deviceStatus(
  lastSeenAt: string | undefined,
  expectedIntervalS: number,
  now: number,
): DeviceStatus {
  if (lastSeenAt === undefined) return 'never';
  const t = Date.parse(lastSeenAt);
  if (!Number.isFinite(t)) return 'never';
  const silentMs = now - t;
  const intervalMs = Math.max(1, expectedIntervalS) * 1000;
  if (silentMs > OFFLINE_AFTER_INTERVALS * intervalMs) return 'offline';
  if (silentMs > STALE_AFTER_INTERVALS * intervalMs) return 'stale';
  return 'online';
}

/** The device list with status recomputed for `now` (a silent device goes stale without a message). */
export function devicesAt(devices: readonly CensusDevice[], now: number): CensusDevice[] {
  return devices.map((d) => {
    // Never seen: nothing to age; quarantined: it stays so until the platform says otherwise.
    if (d.lastSeenAt === undefined || d.status === 'quarantined') return d;
    const status = deviceStatus(d.lastSeenAt, d.expectedIntervalS, now);
    return status === d.status ? d : { ...d, status };
  });
}

const newer = (a: string, b: string | undefined) => b === undefined || Date.parse(a) >= Date.parse(b);

/**
 * A row after one live message. Values older than what the row has (store-and-forward uploads) do not
 * replace newer ones. Waveforms and the hello change nothing here.
 */
export function applyLive(row: CensusRow, m: LiveMessage): CensusRow {
  switch (m.type) {
    case 'vitals': {
      let vitals: Record<string, CensusRow['vitals'][string]> | undefined;
      for (const v of m.values) {
        if (!Number.isFinite(v.value) || !newer(m.at, row.vitals[v.code]?.at)) continue;
        vitals ??= { ...row.vitals };
        vitals[v.code] = { value: v.value, ...(v.unit ? { unit: v.unit } : {}), at: m.at };
      }
      return vitals ? { ...row, vitals } : row;
    }
    case 'derived': {
      // A stretch too noisy to measure has no value: the last good one stays (and ages).
      if (m.value === undefined || !Number.isFinite(m.value) || !newer(m.at, row.vitals[m.code]?.at))
        return row;
      const unit = row.vitals[m.code]?.unit;
      return {
        ...row,
        vitals: { ...row.vitals, [m.code]: { value: m.value, ...(unit ? { unit } : {}), at: m.at } },
      };
    }
    case 'news2': {
      if (row.news2 && !newer(m.at, row.news2.at)) return row;
      return { ...row, news2: { ...m.score, at: m.at } };
    }
    case 'device': {
      const i = row.devices.findIndex((d) => d.id === m.deviceId);
      if (i < 0) return row;
      const d = row.devices[i] as CensusDevice;
      if (d.status === m.status && d.lastSeenAt === m.lastSeenAt) return row;
      const devices = [...row.devices];
      devices[i] = { ...d, status: m.status, ...(m.lastSeenAt ? { lastSeenAt: m.lastSeenAt } : {}) };
      return { ...row, devices };
    }
    default:
      return row;
  }
}

/** Marks the device that sent a reading as seen now (its status message may come later or not at all). */
export function seenDevice(row: CensusRow, deviceId: string, receivedAt: string): CensusRow {
  const i = row.devices.findIndex((d) => d.id === deviceId);
  if (i < 0) return row;
  const d = row.devices[i] as CensusDevice;
  if (
    d.status === 'online' &&
    d.lastSeenAt !== undefined &&
    Date.parse(receivedAt) - Date.parse(d.lastSeenAt) < 1000
  )
    return row;
  const devices = [...row.devices];
  devices[i] = { ...d, status: 'online', lastSeenAt: receivedAt };
  return { ...row, devices };
}

export const NO_ALARMS: AlarmCounts = { high: 0, medium: 0, low: 0, total: 0 };

const tier = (a: AlarmCounts) => (a.high > 0 ? 3 : a.medium > 0 ? 2 : a.low > 0 ? 1 : 0);

/**
 * Most urgent first, as the server ranks the census: highest open alarm priority, then the higher NEWS2
 * total (an unscored patient below a scored 0), then more open alarms, then patient id for a stable order.
 */
export function byUrgency(
  a: CensusRow,
  b: CensusRow,
  alarmsOf: (row: CensusRow) => AlarmCounts = (r) => r.alarms,
): number {
  const aa = alarmsOf(a);
  const ab = alarmsOf(b);
  return (
    tier(ab) - tier(aa) ||
    (b.news2?.total ?? -1) - (a.news2?.total ?? -1) ||
    ab.total - aa.total ||
    (a.patientId < b.patientId ? -1 : a.patientId > b.patientId ? 1 : 0)
  );
}

/**
 * Rows whose name or id contains every word of the filter (case-insensitive). A word that is a priority
 * or band ("high") also matches rows with an open alarm of that priority or that NEWS2 band.
 */
export function matchesFilter(row: CensusRow, filter: string, alarms: AlarmCounts = row.alarms): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = `${row.displayName ?? ''} ${row.patientId}`.toLowerCase();
  return words.every(
    (w) =>
      hay.includes(w) ||
      ((w === 'high' || w === 'medium' || w === 'low') && (alarms[w] > 0 || row.news2?.band === w)) ||
      (w === 'stale' &&
        row.devices.some(
          (d) => d.status === 'stale' || d.status === 'offline' || d.status === 'quarantined',
        )),
  );
}

/** The name to show: the display name, else the pseudonymous id. */
export const patientName = (row: Pick<CensusRow, 'patientId' | 'displayName'>) =>
  row.displayName ?? row.patientId;

/**
 * What the patient view calls the patient: the name once a census has it; the pseudonymous id only once the
 * census has answered without one (the patient is not on it, or has no name); until then a neutral
 * placeholder, so the id does not show for a moment before the name.
 */
export function patientHeading(
  row: Pick<CensusRow, 'patientId' | 'displayName'>,
  censusAnswered: boolean,
): { text: string; loading: boolean } {
  if (row.displayName !== undefined) return { text: row.displayName, loading: false };
  return censusAnswered ? { text: row.patientId, loading: false } : { text: 'Patient', loading: true };
}
