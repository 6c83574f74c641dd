/**
 * Platform settings from, in increasing precedence: defaults, an optional JSON config file, environment
 * variables (OPENIOMT_*, DATABASE_URL) and command-line flags. Pure: callers pass env, flags and the
 * file's text, so this is testable without touching the process.
 */
import { configuredOrigin } from '../http/cors.ts';
import { relyingPartyOf } from '../identity/relying-party.ts';

export interface PlatformConfig {
  readonly httpHost: string;
  readonly httpPort: number;
  readonly mqttHost: string;
  readonly mqttPort: number;
  readonly dataDir: string;
  /** PostgreSQL server URL; absent means embedded PGlite in dataDir. */
  readonly databaseUrl?: string;
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
  /**
   * The master key that wraps every patient's data key (docs/privacy.md). Default: <dataDir>/keys/master.key,
   * created at the first start; a file named here (e.g. a secrets mount) must exist.
   */
  readonly masterKeyFile?: string;
  /** Where the master key lives: "file" (default) or "vault-transit" (with vaultAddr, vaultKey, VAULT_TOKEN). */
  readonly keyService?: string;
  readonly vaultAddr?: string;
  readonly vaultKey?: string;
  /** The address people open (https://name[:port]); names the passkey relying party (docs/identity.md). */
  readonly publicUrl?: string;
  /**
   * Origins besides the registered OAuth clients' redirect URIs whose browser apps may call the FHIR API and
   * the token endpoints (CORS, docs/oauth.md). Exact origins: scheme://host[:port].
   */
  readonly corsOrigins: readonly string[];
  /** Allows plaintext listeners on non-loopback addresses. Never the default. */
  readonly insecure: boolean;
  readonly demo: boolean;
  /** A message whose timestamp is further in the future than this is refused. */
  readonly maxClockSkewS: number;
  /** A message older than this is refused (store-and-forward must deliver within it). */
  readonly maxMessageAgeS: number;
  readonly maxMessageBytes: number;
  /** How long a rotated-out key keeps verifying. */
  readonly keyOverlapS: number;
  /**
   * After a start, how long devices may take to reconnect (their reconnect backoff; the SDK's is at most
   * 30 s) before their silence raises device-offline: the longer of this and twice their interval.
   */
  readonly reconnectGraceS: number;
  /**
   * Intrusion detection (ingest/intrusion.ts): a device is quarantined when, within intrusionWindowS, it
   * sends this many forged (bad-signature) messages or ACL violations, replays or sends malformed packets
   * this many times; a network address that fails this many device logins is refused MQTT connections for
   * intrusionBlockS. 0 turns a rule off.
   */
  readonly intrusionWindowS: number;
  readonly intrusionForgeryThreshold: number;
  readonly intrusionAuthFailureThreshold: number;
  readonly intrusionBlockS: number;
  readonly intrusionReplayThreshold: number;
  readonly intrusionMalformedThreshold: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
}

export const DEFAULTS: PlatformConfig = {
  httpHost: '127.0.0.1',
  httpPort: 8080,
  mqttHost: '127.0.0.1',
  mqttPort: 1883,
  dataDir: './data',
  corsOrigins: [],
  insecure: false,
  demo: false,
  maxClockSkewS: 300,
  maxMessageAgeS: 7 * 24 * 3600,
  maxMessageBytes: 256 * 1024,
  keyOverlapS: 24 * 3600,
  reconnectGraceS: 45,
  intrusionWindowS: 60,
  intrusionForgeryThreshold: 5,
  intrusionAuthFailureThreshold: 20,
  intrusionBlockS: 900,
  intrusionReplayThreshold: 0,
  intrusionMalformedThreshold: 0,
  logLevel: 'info',
};

/** Each setting: its flag (as commander camel-cases it), its environment variable, and its type. */
const SETTINGS: Record<
  keyof PlatformConfig,
  { env: string; type: 'string' | 'port' | 'int' | 'bool' | 'origins'; flag?: string }
> = {
  httpHost: { env: 'OPENIOMT_HTTP_HOST', type: 'string' },
  httpPort: { env: 'OPENIOMT_HTTP_PORT', type: 'port' },
  mqttHost: { env: 'OPENIOMT_MQTT_HOST', type: 'string' },
  mqttPort: { env: 'OPENIOMT_MQTT_PORT', type: 'port' },
  dataDir: { env: 'OPENIOMT_DATA_DIR', type: 'string' },
  databaseUrl: { env: 'DATABASE_URL', type: 'string' },
  tlsCertFile: { env: 'OPENIOMT_TLS_CERT', type: 'string' },
  tlsKeyFile: { env: 'OPENIOMT_TLS_KEY', type: 'string' },
  masterKeyFile: { env: 'OPENIOMT_MASTER_KEY_FILE', type: 'string' },
  keyService: { env: 'OPENIOMT_KEY_SERVICE', type: 'string' },
  vaultAddr: { env: 'VAULT_ADDR', type: 'string' },
  vaultKey: { env: 'OPENIOMT_VAULT_KEY', type: 'string' },
  publicUrl: { env: 'OPENIOMT_PUBLIC_URL', type: 'string' },
  // Repeatable flag (--cors-origin a --cors-origin b) or comma-separated; a list in the config file.
  corsOrigins: { env: 'OPENIOMT_CORS_ORIGINS', type: 'origins', flag: '--cors-origin' },
  insecure: { env: 'OPENIOMT_INSECURE', type: 'bool' },
  demo: { env: 'OPENIOMT_DEMO', type: 'bool' },
  maxClockSkewS: { env: 'OPENIOMT_MAX_CLOCK_SKEW_S', type: 'int' },
  maxMessageAgeS: { env: 'OPENIOMT_MAX_MESSAGE_AGE_S', type: 'int' },
  maxMessageBytes: { env: 'OPENIOMT_MAX_MESSAGE_BYTES', type: 'int' },
  keyOverlapS: { env: 'OPENIOMT_KEY_OVERLAP_S', type: 'int' },
  reconnectGraceS: { env: 'OPENIOMT_RECONNECT_GRACE_S', type: 'int' },
  intrusionWindowS: { env: 'OPENIOMT_INTRUSION_WINDOW_S', type: 'int' },
  intrusionForgeryThreshold: { env: 'OPENIOMT_INTRUSION_FORGERY_THRESHOLD', type: 'int' },
  intrusionAuthFailureThreshold: { env: 'OPENIOMT_INTRUSION_AUTH_FAILURE_THRESHOLD', type: 'int' },
  intrusionBlockS: { env: 'OPENIOMT_INTRUSION_BLOCK_S', type: 'int' },
  intrusionReplayThreshold: { env: 'OPENIOMT_INTRUSION_REPLAY_THRESHOLD', type: 'int' },
  intrusionMalformedThreshold: { env: 'OPENIOMT_INTRUSION_MALFORMED_THRESHOLD', type: 'int' },
  logLevel: { env: 'OPENIOMT_LOG_LEVEL', type: 'string' },
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

type Source = 'flag' | 'environment' | 'config file';

function coerce(key: keyof PlatformConfig, raw: unknown, source: Source): unknown {
  const { type, env, flag } = SETTINGS[key];
  const where =
    source === 'flag'
      ? (flag ?? flagName(key))
      : source === 'environment'
        ? env
        : `config file setting "${key}"`;
  if (type === 'string') {
    if (typeof raw !== 'string' || raw.length === 0)
      throw new ConfigError(`${where}: must be a non-empty string`);
    return raw;
  }
  if (type === 'origins') {
    const items = typeof raw === 'string' ? raw.split(',') : Array.isArray(raw) ? raw : undefined;
    if (items === undefined || items.some((o) => typeof o !== 'string'))
      throw new ConfigError(`${where}: must be origins (a list, or separated by commas)`);
    return [
      ...new Set(
        (items as string[])
          .flatMap((o) => o.split(','))
          .map((o) => o.trim())
          .filter((o) => o !== '')
          .map((o) => {
            try {
              return configuredOrigin(o);
            } catch (e) {
              throw new ConfigError(`${where}: ${(e as Error).message}`);
            }
          }),
      ),
    ];
  }
  if (type === 'bool') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new ConfigError(`${where}: must be true or false`);
  }
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(`${where}: must be a whole number, got ${String(raw)}`);
  if (type === 'port' && n > 65535) throw new ConfigError(`${where}: must be a port 0..65535, got ${n}`);
  return n;
}

export function loadConfig(input: {
  flags?: Record<string, unknown>;
  env?: Record<string, string | undefined>;
  fileText?: string;
  fileName?: string;
}): PlatformConfig {
  const out: Record<string, unknown> = { ...DEFAULTS };
  if (input.fileText !== undefined) {
    let file: unknown;
    try {
      file = JSON.parse(input.fileText);
    } catch (e) {
      throw new ConfigError(`config file ${input.fileName ?? ''}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file))
      throw new ConfigError(`config file ${input.fileName ?? ''}: must be a JSON object`);
    for (const [k, v] of Object.entries(file)) {
      if (!(k in SETTINGS))
        throw new ConfigError(`config file ${input.fileName ?? ''}: unknown setting "${k}"`);
      out[k] = coerce(k as keyof PlatformConfig, v, 'config file');
    }
  }
  for (const [k, s] of Object.entries(SETTINGS)) {
    const v = input.env?.[s.env];
    if (v !== undefined && v !== '') out[k] = coerce(k as keyof PlatformConfig, v, 'environment');
  }
  for (const [k, v] of Object.entries(input.flags ?? {})) {
    if (k in SETTINGS && v !== undefined) out[k] = coerce(k as keyof PlatformConfig, v, 'flag');
  }
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'silent'];
  if (!levels.includes(out.logLevel as string))
    throw new ConfigError(`--log-level: must be one of ${levels.join(', ')}`);
  if (out.keyService !== undefined && !['file', 'vault-transit'].includes(out.keyService as string))
    throw new ConfigError('--key-service: must be file or vault-transit');
  if (out.keyService === 'vault-transit' && (out.vaultAddr === undefined || out.vaultKey === undefined))
    throw new ConfigError(
      '--key-service vault-transit needs --vault-addr and --vault-key (the token: VAULT_TOKEN)',
    );
  if (out.publicUrl !== undefined) {
    try {
      relyingPartyOf(out.publicUrl as string);
    } catch (e) {
      throw new ConfigError(`--public-url: ${(e as Error).message}`);
    }
  }
  return out as unknown as PlatformConfig;
}

export const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** Fails closed: a non-loopback listener needs TLS unless --insecure says otherwise. */
export function checkTransportSecurity(c: PlatformConfig): void {
  const hasTls = c.tlsCertFile !== undefined && c.tlsKeyFile !== undefined;
  if ((c.tlsCertFile === undefined) !== (c.tlsKeyFile === undefined))
    throw new ConfigError('--tls-cert and --tls-key must be given together');
  for (const [host, flag] of [
    [c.httpHost, '--http-host'],
    [c.mqttHost, '--mqtt-host'],
  ] as const) {
    if (!isLoopback(host) && !hasTls && !c.insecure)
      throw new ConfigError(
        `${flag} ${host} is not a loopback address: give --tls-cert and --tls-key, or --insecure to accept plaintext`,
      );
  }
}
