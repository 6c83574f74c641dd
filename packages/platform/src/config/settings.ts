/**
 * The table of platform settings: for each, its command-line flag, its environment variables, its config
 * file key (the setting's own name), its type and its bounds. The parser (config.ts), `openiomt start --help`
 * and the error messages are all made from it, so they cannot drift apart.
 */
import { MESSAGE_FRAMING_BYTES, READINGS_BODY_LIMIT } from '../ingest/limits.ts';

export type SettingType = 'string' | 'port' | 'int' | 'bool' | 'origins' | 'postgres-url';

export interface Setting {
  /** Environment variables, preferred first; more than one only where a conventional name exists too. */
  readonly env: readonly string[];
  readonly type: SettingType;
  /** The flag, when it is not the setting's name in kebab case. */
  readonly flag?: string;
  /** Bounds of a number: outside them the value would run but defeat its purpose. */
  readonly min?: number;
  readonly max?: number;
  readonly oneOf?: readonly string[];
}

const DAY_S = 86_400;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const;

export const SETTINGS = {
  httpHost: { env: ['OPENIOMT_HTTP_HOST'], type: 'string' },
  httpPort: { env: ['OPENIOMT_HTTP_PORT'], type: 'port' },
  mqttHost: { env: ['OPENIOMT_MQTT_HOST'], type: 'string' },
  mqttPort: { env: ['OPENIOMT_MQTT_PORT'], type: 'port' },
  dataDir: { env: ['OPENIOMT_DATA_DIR'], type: 'string' },
  // DATABASE_URL is what PostgreSQL tooling and hosting platforms set; OPENIOMT_* as every other setting.
  databaseUrl: { env: ['OPENIOMT_DATABASE_URL', 'DATABASE_URL'], type: 'postgres-url' },
  // Under a second a healthy server across a network could be refused; past ten minutes a start waits on a
  // server that will not answer about as long as it would without a bound.
  databaseConnectTimeoutS: { env: ['OPENIOMT_DATABASE_CONNECT_TIMEOUT_S'], type: 'int', min: 1, max: 600 },
  tlsCertFile: { env: ['OPENIOMT_TLS_CERT'], type: 'string', flag: '--tls-cert' },
  tlsKeyFile: { env: ['OPENIOMT_TLS_KEY'], type: 'string', flag: '--tls-key' },
  masterKeyFile: { env: ['OPENIOMT_MASTER_KEY_FILE'], type: 'string' },
  keyService: { env: ['OPENIOMT_KEY_SERVICE'], type: 'string', oneOf: ['file', 'vault-transit'] },
  vaultAddr: { env: ['OPENIOMT_VAULT_ADDR', 'VAULT_ADDR'], type: 'string' },
  vaultKey: { env: ['OPENIOMT_VAULT_KEY'], type: 'string' },
  publicUrl: { env: ['OPENIOMT_PUBLIC_URL'], type: 'string' },
  // Repeatable flag (--cors-origin a --cors-origin b) or comma-separated; a list in the config file.
  corsOrigins: { env: ['OPENIOMT_CORS_ORIGINS'], type: 'origins', flag: '--cors-origin' },
  insecure: { env: ['OPENIOMT_INSECURE'], type: 'bool' },
  demo: { env: ['OPENIOMT_DEMO'], type: 'bool' },
  // Below a few seconds, devices whose clocks are merely NTP-close would have readings refused.
  maxClockSkewS: { env: ['OPENIOMT_MAX_CLOCK_SKEW_S'], type: 'int', min: 5, max: DAY_S },
  // Store-and-forward must have at least a reconnect's worth of time to deliver.
  maxMessageAgeS: { env: ['OPENIOMT_MAX_MESSAGE_AGE_S'], type: 'int', min: 60, max: 365 * DAY_S },
  // Smaller than one ECG chunk refuses every reading as oversize; larger than a one-message HTTPS batch
  // could never arrive over HTTPS (the MQTT limit is higher).
  maxMessageBytes: {
    env: ['OPENIOMT_MAX_MESSAGE_BYTES'],
    type: 'int',
    min: 4096,
    max: READINGS_BODY_LIMIT - MESSAGE_FRAMING_BYTES,
  },
  keyOverlapS: { env: ['OPENIOMT_KEY_OVERLAP_S'], type: 'int', min: 0, max: 365 * DAY_S },
  reconnectGraceS: { env: ['OPENIOMT_RECONNECT_GRACE_S'], type: 'int', min: 0, max: DAY_S },
  intrusionWindowS: { env: ['OPENIOMT_INTRUSION_WINDOW_S'], type: 'int', min: 0, max: DAY_S },
  intrusionForgeryThreshold: { env: ['OPENIOMT_INTRUSION_FORGERY_THRESHOLD'], type: 'int', max: 1e6 },
  intrusionAuthFailureThreshold: {
    env: ['OPENIOMT_INTRUSION_AUTH_FAILURE_THRESHOLD'],
    type: 'int',
    max: 1e6,
  },
  // Kept within a week: it is a timer, and timers beyond 2^31 ms fire at once.
  intrusionBlockS: { env: ['OPENIOMT_INTRUSION_BLOCK_S'], type: 'int', min: 0, max: 7 * DAY_S },
  intrusionReplayThreshold: { env: ['OPENIOMT_INTRUSION_REPLAY_THRESHOLD'], type: 'int', max: 1e6 },
  intrusionMalformedThreshold: { env: ['OPENIOMT_INTRUSION_MALFORMED_THRESHOLD'], type: 'int', max: 1e6 },
  logLevel: { env: ['OPENIOMT_LOG_LEVEL'], type: 'string', oneOf: LOG_LEVELS },
} as const satisfies Record<string, Setting>;

export type SettingKey = keyof typeof SETTINGS;

export const isSettingKey = (k: string): k is SettingKey => Object.hasOwn(SETTINGS, k);

export const settingOf = (key: SettingKey): Setting => SETTINGS[key];

export const flagOf = (key: SettingKey): string =>
  settingOf(key).flag ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** `openiomt start --help`'s closing table: each setting's flag, environment variables and config file key. */
export function settingsHelp(): string {
  const rows = (Object.keys(SETTINGS) as SettingKey[]).map((k) => [
    flagOf(k),
    settingOf(k).env.join(', '),
    k,
  ]);
  const width = (i: number) => Math.max(...rows.map((r) => (r[i] as string).length));
  const [w0, w1] = [width(0), width(1)];
  return [
    'Each setting also comes from the environment or the --config file (flags win over the environment,',
    'which wins over the file):',
    `  ${'flag'.padEnd(w0)}  ${'environment'.padEnd(w1)}  config file key`,
    ...rows.map(([f, e, k]) => `  ${(f as string).padEnd(w0)}  ${(e as string).padEnd(w1)}  ${k}`),
  ].join('\n');
}

const normalise = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length] as number;
}

/**
 * The config file key someone most likely meant by an unknown one: the same setting written as its flag,
 * its environment variable or in another case ("http-port", "OPENIOMT_HTTP_PORT"), a shortened key
 * ("tlsCert"), or a near misspelling. Undefined when nothing is close.
 */
export function closestSetting(unknown: string): SettingKey | undefined {
  const u = normalise(unknown.replace(/^OPENIOMT_/i, ''));
  if (u.length === 0) return undefined;
  let best: { key: SettingKey; d: number } | undefined;
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const names = [key, flagOf(key), ...settingOf(key).env.map((e) => e.replace(/^OPENIOMT_/, ''))].map(
      normalise,
    );
    if (names.includes(u)) return key;
    const d = Math.min(
      ...names.map((n) => (u.length >= 4 && (n.startsWith(u) || u.startsWith(n)) ? 1 : distance(u, n))),
    );
    if (d <= Math.max(2, Math.floor(u.length / 5)) && (best === undefined || d < best.d)) best = { key, d };
  }
  return best?.key;
}
