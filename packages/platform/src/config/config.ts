/**
 * Platform settings from, in increasing precedence: defaults, an optional JSON config file, environment
 * variables (OPENIOMT_*, DATABASE_URL, VAULT_ADDR) and command-line flags (the table: settings.ts). Pure: callers pass env, flags and the
 * file's text, so this is testable without touching the process.
 */
import { configuredOrigin } from '../http/cors.ts';
import { relyingPartyOf } from '../identity/relying-party.ts';
import { DEFAULT_CONNECT_TIMEOUT_S } from '../store/connect-error.ts';
import { closestSetting, flagOf, isSettingKey, SETTINGS, type SettingKey, settingOf } from './settings.ts';

export { SETTINGS, type SettingKey, settingsHelp } from './settings.ts';

export interface PlatformConfig {
  readonly httpHost: string;
  readonly httpPort: number;
  readonly mqttHost: string;
  readonly mqttPort: number;
  readonly dataDir: string;
  /** PostgreSQL server URL; absent means embedded PGlite in dataDir. */
  readonly databaseUrl?: string;
  /** How long the first connection to that server may take at start before the start fails. */
  readonly databaseConnectTimeoutS: number;
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
  databaseConnectTimeoutS: DEFAULT_CONNECT_TIMEOUT_S,
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

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type SourceKind = 'flag' | 'environment' | 'config file';
interface Source {
  readonly kind: SourceKind;
  /** What the user wrote: the flag, the environment variable, or the config file and its key. */
  readonly label: string;
}

/** Where each setting of a loaded configuration came from (defaults are absent), for error messages. */
const SOURCES = new WeakMap<PlatformConfig, Partial<Record<SettingKey, Source>>>();

/** The flag, environment variable or config file key the setting came from (its flag when defaulted). */
export function settingSource(c: PlatformConfig, key: SettingKey): string {
  return SOURCES.get(c)?.[key]?.label ?? flagOf(key);
}

/** The setting as it was written: `--http-host 0.0.0.0`, `OPENIOMT_HTTP_HOST=0.0.0.0` or the file's key. */
export function writtenAs(c: PlatformConfig, key: SettingKey, value: string): string {
  const s = SOURCES.get(c)?.[key];
  if (s?.kind === 'environment') return `${s.label}=${value}`;
  if (s?.kind === 'config file') return `${s.label} ${JSON.stringify(value)}`;
  return `${flagOf(key)} ${value}`;
}

/** A PostgreSQL URL with its password replaced, fit for messages and logs. */
export function maskPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

const shown = (raw: unknown): string =>
  typeof raw === 'string' ? JSON.stringify(raw) : (JSON.stringify(raw) ?? String(raw));

function coerce(key: SettingKey, raw: unknown, source: Source): unknown {
  const { type, min, max, oneOf } = settingOf(key);
  const fail = (why: string) => new ConfigError(`${source.label}: ${why}`);
  const fromText = source.kind !== 'config file' && typeof raw === 'string';
  if (type === 'string' || type === 'postgres-url') {
    if (typeof raw !== 'string' || raw.length === 0)
      throw fail(`must be a non-empty string, got ${shown(raw)}`);
    if (oneOf !== undefined && !oneOf.includes(raw))
      throw fail(`must be one of ${oneOf.join(', ')}, got ${shown(raw)}`);
    if (type === 'postgres-url') checkPostgresUrl(raw, fail);
    if (key === 'publicUrl') {
      try {
        relyingPartyOf(raw);
      } catch (e) {
        throw fail((e as Error).message);
      }
    }
    return raw;
  }
  if (type === 'origins') {
    const items = typeof raw === 'string' ? raw.split(',') : Array.isArray(raw) ? raw : undefined;
    if (items === undefined || items.some((o) => typeof o !== 'string'))
      throw fail('must be origins (a list, or separated by commas)');
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
              throw fail((e as Error).message);
            }
          }),
      ),
    ];
  }
  if (type === 'bool') {
    if (typeof raw === 'boolean') return raw;
    if (fromText && (raw === 'true' || raw === '1')) return true;
    if (fromText && (raw === 'false' || raw === '0')) return false;
    throw fail(`must be true or false, got ${shown(raw)}`);
  }
  // A number: a JSON number in the file, digits on the command line or in the environment. Never a boolean,
  // null or "" (Number() would make them 1 or 0: a working but wrong port or limit).
  const n =
    typeof raw === 'number' && source.kind !== 'environment'
      ? raw
      : fromText && /^\s*\d+\s*$/.test(raw as string)
        ? Number(raw)
        : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw fail(`must be a whole number, got ${shown(raw)}`);
  if (type === 'port' && n > 65535) throw fail(`must be a port 0..65535, got ${n}`);
  if ((min !== undefined && n < min) || (max !== undefined && n > max))
    throw fail(`must be between ${min ?? 0} and ${max}, got ${n}`);
  return n;
}

/** A postgres:// URL naming a database: another scheme or no database would fail late, or worse, work. */
function checkPostgresUrl(raw: string, fail: (why: string) => ConfigError): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail(`${shown(maskPassword(raw))} is not a URL: give postgres://user@host:5432/database`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw fail(
      `${shown(maskPassword(raw))} is not a PostgreSQL URL (${url.protocol}): give postgres://user@host:5432/database`,
    );
  if (decodeURIComponent(url.pathname.replace(/^\//, '')) === '')
    throw fail(
      `${shown(maskPassword(raw))} names no database: add one (postgres://user@host:5432/openiomt), created with createdb; the server's own "postgres" database is not for applications`,
    );
}

function unknownSetting(k: string, file: string): ConfigError {
  const near = closestSetting(k);
  return new ConfigError(
    near !== undefined
      ? `config file ${file}: unknown setting "${k}": did you mean "${near}"?`
      : `config file ${file}: unknown setting "${k}"; the settings are ${Object.keys(SETTINGS).join(', ')}`,
  );
}

export function loadConfig(input: {
  flags?: Record<string, unknown>;
  env?: Record<string, string | undefined>;
  fileText?: string;
  fileName?: string;
}): PlatformConfig {
  const out: Record<string, unknown> = { ...DEFAULTS };
  const from: Partial<Record<SettingKey, Source>> = {};
  const set = (key: SettingKey, raw: unknown, source: Source) => {
    out[key] = coerce(key, raw, source);
    from[key] = source;
  };
  const file = input.fileName ?? '';
  if (input.fileText !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(input.fileText);
    } catch (e) {
      throw new ConfigError(`config file ${file}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new ConfigError(`config file ${file}: must be a JSON object`);
    for (const [k, v] of Object.entries(parsed)) {
      if (!isSettingKey(k)) throw unknownSetting(k, file);
      set(k, v, { kind: 'config file', label: `config file ${file ? `${file} ` : ''}key "${k}"` });
    }
  }
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const given = settingOf(key)
      .env.map((name) => ({ name, value: input.env?.[name] }))
      .filter((e): e is { name: string; value: string } => e.value !== undefined && e.value !== '');
    const [first, ...others] = given;
    if (first === undefined) continue;
    const differing = others.find((o) => o.value !== first.value);
    if (differing)
      throw new ConfigError(
        `${first.name} and ${differing.name} are both set, to different values: unset one of them`,
      );
    set(key, first.value, { kind: 'environment', label: first.name });
  }
  for (const [k, v] of Object.entries(input.flags ?? {})) {
    if (isSettingKey(k) && v !== undefined) set(k, v, { kind: 'flag', label: flagOf(k) });
  }
  if (out.keyService === 'vault-transit' && (out.vaultAddr === undefined || out.vaultKey === undefined))
    throw new ConfigError(
      `${from.keyService?.label ?? '--key-service'} vault-transit needs --vault-addr and --vault-key (or ${[
        ...SETTINGS.vaultAddr.env,
        ...SETTINGS.vaultKey.env,
      ].join(', ')}, or "vaultAddr" and "vaultKey" in the config file; the token: VAULT_TOKEN)`,
    );
  const config = out as unknown as PlatformConfig;
  SOURCES.set(config, from);
  return config;
}

export const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** Fails closed: a non-loopback listener needs TLS unless --insecure says otherwise. */
export function checkTransportSecurity(c: PlatformConfig): void {
  const hasTls = c.tlsCertFile !== undefined && c.tlsKeyFile !== undefined;
  if ((c.tlsCertFile === undefined) !== (c.tlsKeyFile === undefined)) {
    const given: SettingKey = c.tlsCertFile !== undefined ? 'tlsCertFile' : 'tlsKeyFile';
    throw new ConfigError(
      `--tls-cert and --tls-key must be given together: only ${settingSource(c, given)} is set`,
    );
  }
  for (const key of ['httpHost', 'mqttHost'] as const) {
    const host = c[key];
    if (!isLoopback(host) && !hasTls && !c.insecure)
      throw new ConfigError(
        `${writtenAs(c, key, host)} is not a loopback address: give --tls-cert and --tls-key, or --insecure to accept plaintext`,
      );
  }
}
