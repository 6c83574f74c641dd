/**
 * What `openiomt start` prints once it listens. A wildcard listen address (0.0.0.0, ::) is no address anyone
 * can open, nor the name in the certificate: links then use --public-url, or else this machine's host name
 * with a hint to pass --public-url.
 */
import { hostname } from 'node:os';
import type { PlatformConfig } from '../config/config.ts';

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '::0']);
export const isWildcard = (host: string): boolean => WILDCARDS.has(host);

const hostForUrl = (host: string): string => (host.includes(':') ? `[${host}]` : host);

export interface BannerInput {
  readonly config: PlatformConfig;
  readonly httpUrl: string;
  readonly mqttUrl: string;
  readonly firstAdminToken?: string;
  readonly firstAdminSetupPath?: string;
}

/** The URLs people should use: the listening ones, unless those name a wildcard address. */
export function shownUrls(
  p: BannerInput,
  machine: string = hostname(),
): { http: string; mqtt: string; hint?: string } {
  const { config } = p;
  const publicHost = config.publicUrl !== undefined ? new URL(config.publicUrl).hostname : undefined;
  const swapHost = (url: string) => {
    const u = new URL(url);
    u.hostname = hostForUrl(publicHost ?? machine);
    return u.toString().replace(/\/$/, '');
  };
  const httpWild = isWildcard(config.httpHost);
  const mqttWild = isWildcard(config.mqttHost);
  const http =
    httpWild && config.publicUrl !== undefined
      ? new URL(config.publicUrl).origin
      : httpWild
        ? swapHost(p.httpUrl)
        : p.httpUrl;
  const mqtt = mqttWild ? swapHost(p.mqttUrl) : p.mqttUrl;
  const hint =
    (httpWild || mqttWild) && config.publicUrl === undefined
      ? `Listening on every address; links name this machine (${machine}): pass --public-url with the address people use`
      : undefined;
  return { http, mqtt, ...(hint ? { hint } : {}) };
}

export function startBanner(p: BannerInput, machine?: string): string[] {
  const { http, mqtt, hint } = shownUrls(p, machine);
  const { config } = p;
  return [
    `OpenIoMT is running (${config.databaseUrl ? 'PostgreSQL' : `embedded database in ${config.dataDir}`})`,
    `  HTTP  ${http}   (health: ${http}/healthz)`,
    `  MQTT  ${mqtt}`,
    ...(hint ? [hint] : []),
    ...(p.firstAdminToken
      ? [
          '',
          'First start: an administrator token was created. It is shown only this once; only its hash is stored.',
          `  OPENIOMT_ADMIN_TOKEN=${p.firstAdminToken}`,
          ...(p.firstAdminSetupPath
            ? [
                'The web app\'s first administrator, "admin", chooses a password here (valid 24 h, once):',
                `  ${http}${p.firstAdminSetupPath}`,
              ]
            : []),
          '',
        ]
      : []),
  ];
}
