/** What `GET /api/v1/census` answers and what `/api/v1/live` sends (docs/http-api.md, live dashboard). */

/** quarantined: an administrator (or intrusion detection) stopped its readings being accepted. */
export type DeviceStatus = 'online' | 'stale' | 'offline' | 'never' | 'quarantined';
export type News2Band = 'low' | 'low-medium' | 'medium' | 'high';

export interface News2Summary {
  readonly total: number;
  readonly band: News2Band;
  readonly complete: boolean;
  readonly missing: readonly string[];
  /** ISO instant. */
  readonly at: string;
}

export interface CensusDevice {
  readonly id: string;
  readonly kind: string;
  readonly lastSeenAt?: string;
  readonly expectedIntervalS: number;
  readonly battery?: number;
  readonly firmware?: string;
  readonly status: DeviceStatus;
}

export interface AlarmCounts {
  readonly high: number;
  readonly medium: number;
  readonly low: number;
  readonly total: number;
}

export interface CensusRow {
  readonly patientId: string;
  readonly displayName?: string;
  readonly news2?: News2Summary;
  readonly vitals: Readonly<Record<string, { value: number; unit?: string; at: string }>>;
  readonly alarms: AlarmCounts;
  readonly devices: readonly CensusDevice[];
}

export interface Census {
  readonly items: readonly CensusRow[];
  readonly generatedAt: string;
}

export interface VitalsMessage {
  readonly type: 'vitals';
  readonly patientId: string;
  /** Absent when a person entered the values. */
  readonly deviceId?: string;
  readonly entered?: true;
  readonly at: string;
  readonly values: readonly { code: string; value: number; unit?: string }[];
}

export interface DerivedMessage {
  readonly type: 'derived';
  readonly patientId: string;
  readonly deviceId: string;
  readonly code: string;
  readonly value?: number;
  readonly at: string;
  readonly signalQuality: number;
  readonly rhythm?: 'af-suspected' | 'not-af';
  readonly leadOff?: boolean;
}

export interface News2Message {
  readonly type: 'news2';
  readonly patientId: string;
  readonly at: string;
  readonly score: { total: number; band: News2Band; complete: boolean; missing: readonly string[] };
}

export interface WaveformMessage {
  readonly type: 'waveform';
  readonly patientId: string;
  readonly deviceId: string;
  readonly code: string;
  readonly rateHz: number;
  readonly start: string;
  /** Physical values in `unit`; null where a sample is missing. */
  readonly samples: readonly (number | null)[];
  readonly unit: string;
}

export interface DeviceMessage {
  readonly type: 'device';
  readonly patientId: string;
  readonly deviceId: string;
  readonly status: DeviceStatus;
  readonly lastSeenAt?: string;
}

export type LiveMessage =
  | { readonly type: 'hello' }
  | VitalsMessage
  | DerivedMessage
  | News2Message
  | WaveformMessage
  | DeviceMessage;
